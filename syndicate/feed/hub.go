package feed

import (
	"bytes"
	"encoding/json"
	"html"
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
// <link rel="hub">, RSS <atom:link rel="hub">, JSON Feed "hubs"); a self
// link missing from headers that name hubs is taken from the document,
// which beats subscribing to the URL polled. Relative URLs are resolved
// against base.
func discoverHubs(h http.Header, body []byte, base *url.URL) (hubs []string, self string) {
	hubs, self = linkHeaders(h.Values("Link"), base)
	if len(hubs) > 0 && self != "" {
		return hubs, self
	}
	docHubs, docSelf := documentLinks(body, base)
	if len(hubs) == 0 {
		hubs = docHubs
	}
	if self == "" {
		self = docSelf
	}
	return hubs, self
}

// documentLinks finds the hub and self links in a feed document's head
// (its channel or feed element before the first item or entry).
func documentLinks(body []byte, base *url.URL) (hubs []string, self string) {
	doc := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\uFEFF")))
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
			self = resolveString(base, jf.FeedURL)
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
			v := html.UnescapeString(string(m[3]) + string(m[4]))
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
// (RFC 8288 §3): each value may hold several links separated by commas,
// and parameter values may be quoted strings holding commas or
// semicolons.
func linkHeaders(values []string, base *url.URL) (hubs []string, self string) {
	for _, v := range values {
		for _, l := range parseLinks(v) {
			for _, r := range strings.Fields(strings.ToLower(l.rel)) {
				switch r {
				case "hub":
					hubs = appendURL(hubs, base, l.target)
				case "self":
					if self == "" {
						self = resolveString(base, l.target)
					}
				}
			}
		}
	}
	return hubs, self
}

// headerLink is one link of a Link header: its target and rel.
type headerLink struct{ target, rel string }

// parseLinks splits one Link header value into its links; it stops at the
// first thing that is not a link, keeping those before it.
func parseLinks(v string) []headerLink {
	var links []headerLink
	for {
		v = strings.TrimLeft(v, " \t,")
		if !strings.HasPrefix(v, "<") {
			return links
		}
		end := strings.IndexByte(v, '>')
		if end < 0 {
			return links
		}
		l := headerLink{target: v[1:end]}
		v = v[end+1:]
		// Parameters: ; name [= token | quoted-string]
		for {
			v = strings.TrimLeft(v, " \t")
			if !strings.HasPrefix(v, ";") {
				break
			}
			v = strings.TrimLeft(v[1:], " \t")
			i := strings.IndexAny(v, "=;,")
			if i < 0 {
				i = len(v)
			}
			name := strings.ToLower(strings.TrimSpace(v[:i]))
			v = v[i:]
			var value string
			if strings.HasPrefix(v, "=") {
				value, v = paramValue(strings.TrimLeft(v[1:], " \t"))
			}
			if name == "rel" && l.rel == "" {
				// RFC 8288 §3.3: only the first rel counts.
				l.rel = value
			}
		}
		links = append(links, l)
	}
}

// paramValue reads a token or a quoted-string (RFC 9110 §5.6.4) from the
// start of v and returns it and the rest.
func paramValue(v string) (value, rest string) {
	if !strings.HasPrefix(v, `"`) {
		i := strings.IndexAny(v, ";,")
		if i < 0 {
			i = len(v)
		}
		return strings.TrimSpace(v[:i]), v[i:]
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if i+1 < len(v) {
				i++
				b.WriteByte(v[i])
			}
		case '"':
			return b.String(), v[i+1:]
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String(), ""
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
