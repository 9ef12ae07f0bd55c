package discover

import (
	"errors"
	"io"
	"mime"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// Link is a <link rel="alternate"> of a page.
type Link struct {
	// URL is the href resolved against the page's base.
	URL string
	// Type is the media type of a feed link (lower case); empty for an
	// edition link.
	Type string
	// Title is the link's title attribute.
	Title string
	// Language is the hreflang attribute.
	Language string
}

// Page is what a web page says about its feeds.
type Page struct {
	// Lang is the <html lang> attribute.
	Lang string
	// Feeds are the alternates whose type is a feed format, in page order.
	Feeds []Link
	// Editions are the alternates in another language (hreflang) whose
	// type is not a feed format: the same page in another edition.
	Editions []Link
}

// feedTypes are the link types that announce a feed; WordPress and others
// also announce JSON Feed as plain application/json.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
	"application/json":      true,
}

// maxPageBytes is how much of a page is read: links are in the head.
const maxPageBytes = 2 << 20

// ParsePage reads the alternates of an HTML page. Relative hrefs are
// resolved against the first <base href> (itself resolved against
// pageURL), else pageURL; contentType gives the charset when the page
// does not declare one.
func ParsePage(r io.Reader, contentType string, pageURL *url.URL) (Page, error) {
	body, err := charset.NewReader(io.LimitReader(r, maxPageBytes), contentType)
	if err != nil {
		return Page{}, err
	}
	var p Page
	base := pageURL
	baseSet := false
	var links []map[string]string
	z := html.NewTokenizer(body)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if err := z.Err(); !errors.Is(err, io.EOF) {
				return Page{}, err
			}
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if !hasAttr {
			continue
		}
		attrs := map[string]string{}
		for {
			k, v, more := z.TagAttr()
			key := string(k)
			if _, dup := attrs[key]; !dup {
				attrs[key] = strings.TrimSpace(string(v))
			}
			if !more {
				break
			}
		}
		switch string(name) {
		case "html":
			if p.Lang == "" {
				p.Lang = attrs["lang"]
			}
		case "base":
			// Only the first base element with an href counts (HTML
			// Living Standard, "the base element").
			if href, ok := attrs["href"]; ok && !baseSet {
				baseSet = true
				if u, err := pageURL.Parse(href); err == nil {
					base = u
				}
			}
		case "link":
			links = append(links, attrs)
		}
	}
	// Links are resolved after the whole page was read, since a base
	// element applies to links before it too.
	for _, a := range links {
		if !hasToken(a["rel"], "alternate") || a["href"] == "" {
			continue
		}
		u, err := base.Parse(a["href"])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		u.Fragment, u.RawFragment = "", ""
		l := Link{URL: u.String(), Title: a["title"], Language: a["hreflang"]}
		if mt, _, err := mime.ParseMediaType(a["type"]); err == nil {
			l.Type = mt
		}
		switch {
		case feedTypes[l.Type]:
			p.Feeds = append(p.Feeds, l)
		case l.Type == "" && l.Language != "":
			p.Editions = append(p.Editions, l)
		}
	}
	return p, nil
}

// hasToken reports whether a space-separated attribute (rel) holds tok,
// case-insensitively.
func hasToken(attr, tok string) bool {
	for _, f := range strings.Fields(attr) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

// IsHTML reports whether a response's content type (sniffed from the body
// when absent) is a web page rather than a document such as a feed.
func IsHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}
