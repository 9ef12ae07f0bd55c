package feed

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// hubScanBytes bounds how much of a document is searched for hub links:
// they sit in the channel's head, before the first item.
const hubScanBytes = 64 << 10

// linkTag matches an Atom link element (<link …/> or <atom:link …/>).
var linkTag = regexp.MustCompile(`(?is)<(?:[a-z0-9_]+:)?link\s[^>]*>`)

// tagAttr matches one attribute of a tag.
var tagAttr = regexp.MustCompile(`(?is)([a-z0-9:_-]+)\s*=\s*("([^"]*)"|'([^']*)')`)

// discoverHubs finds the WebSub hubs a feed names and the URL it names
// itself by: from the response's Link headers first, as the WebSub
// Recommendation (§4) requires, else from the document (Atom
// <link rel="hub">, RSS <atom:link rel="hub">, JSON Feed "hubs"). Relative
// URLs are resolved against base.
func discoverHubs(h http.Header, body []byte, base *url.URL) (hubs []string, self string) {
	hubs, self = linkHeaders(h.Values("Link"), base)
	if len(hubs) > 0 {
		return hubs, self
	}
	doc := bytes.TrimSpace(body)
	if len(doc) > 0 && doc[0] == '{' {
		var jf struct {
			FeedURL string `json:"feed_url"`
			Hubs    []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"hubs"`
		}
		if json.Unmarshal(doc, &jf) == nil {
			for _, hb := range jf.Hubs {
				if strings.EqualFold(hb.Type, "websub") || strings.EqualFold(hb.Type, "pubsubhubbub") {
					hubs = appendURL(hubs, base, hb.URL)
				}
			}
			if self == "" {
				self = resolveString(base, jf.FeedURL)
			}
		}
		return hubs, self
	}
	head := doc[:min(len(doc), hubScanBytes)]
	if i := firstItem(head); i >= 0 {
		head = head[:i]
	}
	for _, tag := range linkTag.FindAll(head, -1) {
		var rel, href string
		for _, m := range tagAttr.FindAllSubmatch(tag, -1) {
			v := string(m[3]) + string(m[4])
			switch strings.ToLower(string(m[1])) {
			case "rel":
				rel = v
			case "href":
				href = v
			}
		}
		for _, r := range strings.Fields(strings.ToLower(rel)) {
			switch r {
			case "hub":
				hubs = appendURL(hubs, base, href)
			case "self":
				if self == "" {
					self = resolveString(base, href)
				}
			}
		}
	}
	return hubs, self
}

// firstItem is where the first item or entry starts, or -1 (element
// names are case-sensitive in XML: RSS and Atom write them in lower case).
func firstItem(doc []byte) int {
	first := -1
	for _, t := range [][]byte{[]byte("<item"), []byte("<entry")} {
		if i := bytes.Index(doc, t); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

// linkHeaders reads rel="hub" and rel="self" from Link header values
// (RFC 8288): each value may hold several links separated by commas.
func linkHeaders(values []string, base *url.URL) (hubs []string, self string) {
	for _, v := range values {
		for v != "" {
			start := strings.IndexByte(v, '<')
			if start < 0 {
				break
			}
			end := strings.IndexByte(v[start:], '>')
			if end < 0 {
				break
			}
			target := v[start+1 : start+end]
			rest := v[start+end+1:]
			params := rest
			if next := strings.IndexByte(rest, '<'); next >= 0 {
				params, rest = rest[:next], rest[next:]
			} else {
				rest = ""
			}
			for _, r := range strings.Fields(strings.ToLower(linkParam(params, "rel"))) {
				switch r {
				case "hub":
					hubs = appendURL(hubs, base, target)
				case "self":
					if self == "" {
						self = resolveString(base, target)
					}
				}
			}
			v = rest
		}
	}
	return hubs, self
}

// linkParam returns a parameter of one link's parameters ("; rel=hub").
func linkParam(params, name string) string {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), name) {
			continue
		}
		return strings.Trim(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(v), ",")), `"`)
	}
	return ""
}

func appendURL(list []string, base *url.URL, raw string) []string {
	u := resolveString(base, raw)
	if u == "" {
		return list
	}
	for _, have := range list {
		if have == u {
			return list
		}
	}
	return append(list, u)
}

// resolveString resolves raw against base, keeping only http(s) URLs.
func resolveString(base *url.URL, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || raw == "" {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}
