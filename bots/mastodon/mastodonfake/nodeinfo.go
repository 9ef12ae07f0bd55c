package mastodonfake

import (
	"net/http"
	"strings"
)

// nodeInfoRel starts the rel of a NodeInfo schema link
// (https://nodeinfo.diaspora.software/protocol.html).
const nodeInfoRel = "http://nodeinfo.diaspora.software/ns/schema/"

// software is what a flavour's NodeInfo says about it, and which schema
// versions it links: Mastodon links 2.0 only
// (app/serializers/nodeinfo/discovery_serializer.rb), GoToSocial 2.0 and
// 2.1 (internal/processing/fedi/wellknown.go), Pleroma and Akkoma 2.0 and
// 2.1 (lib/pleroma/web/nodeinfo/nodeinfo_controller.ex).
var software = map[string]struct {
	name, version string
	schemas       []string
}{
	FlavourMastodon:   {"mastodon", "4.5.0", []string{"2.0"}},
	FlavourGoToSocial: {"gotosocial", "0.20.1", []string{"2.0", "2.1"}},
	FlavourPleroma:    {"pleroma", "2.5.0", []string{"2.0", "2.1"}},
	FlavourAkkoma:     {"akkoma", "3.13.2", []string{"2.0", "2.1"}},
	FlavourUnknown:    {"someserver", "7", []string{"2.0"}},
}

// nodeInfo answers GET /.well-known/nodeinfo and GET /nodeinfo/{version};
// it reports false for any other request.
func (s *Server) nodeInfo(req *request) (answer, bool) {
	path := req.URL.Path
	version, isDoc := strings.CutPrefix(path, "/nodeinfo/")
	if req.Method != http.MethodGet || (path != "/.well-known/nodeinfo" && !isDoc) {
		return answer{}, false
	}
	req.rec.Endpoint = "GET /.well-known/nodeinfo"
	if isDoc {
		req.rec.Endpoint = "GET /nodeinfo/{version}"
	}
	sw := software[s.opts.Flavour]
	if s.opts.NoNodeInfo || sw.name == "" {
		return errorAnswer(http.StatusNotFound, "Record not found"), true
	}
	if !isDoc {
		var links []map[string]string
		for _, v := range sw.schemas {
			links = append(links, map[string]string{"rel": nodeInfoRel + v, "href": s.ts.URL + "/nodeinfo/" + v})
		}
		return answer{status: http.StatusOK, body: map[string]any{"links": links}}, true
	}
	if !oneOf(version, sw.schemas...) {
		return errorAnswer(http.StatusNotFound, "Record not found"), true
	}
	return answer{status: http.StatusOK, body: map[string]any{
		"version":           version,
		"software":          map[string]string{"name": sw.name, "version": sw.version},
		"protocols":         []string{"activitypub"},
		"services":          map[string][]string{"inbound": {}, "outbound": {}},
		"usage":             map[string]any{"users": map[string]int{"total": 1}, "localPosts": len(s.Statuses())},
		"openRegistrations": false,
		"metadata":          map[string]any{},
	}}, true
}
