package feed

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

func TestDiscoverHubs(t *testing.T) {
	base, _ := url.Parse("https://news.example.org/feed/")
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		links    []string
		body     []byte
		wantHubs []string
		wantSelf string
	}{
		// Link headers (WebSub §4, RFC 8288).
		{"link header", []string{`<https://hub.example/>; rel="hub", <https://news.example.org/feed/>; rel="self"`}, nil,
			[]string{"https://hub.example/"}, "https://news.example.org/feed/"},
		{"several headers, relative, unquoted", []string{`</hub>; rel=hub`, `<https://other.example/hub>; rel="hub"`, `</feed/>; rel="self"`}, nil,
			[]string{"https://news.example.org/hub", "https://other.example/hub"}, "https://news.example.org/feed/"},
		{"quoted parameters with commas and semicolons", []string{`<https://hub.example/>; title="a, <b>; c"; rel="hub", <https://news.example.org/f>; rel=self`}, nil,
			[]string{"https://hub.example/"}, "https://news.example.org/f"},
		{"escaped quote in a parameter", []string{`<https://hub.example/>; title="say \"hi\", then go"; REL="HUB"`}, nil,
			[]string{"https://hub.example/"}, ""},
		{"several rel values", []string{`<https://news.example.org/hub-and-self>; rel="self hub"`}, nil,
			[]string{"https://news.example.org/hub-and-self"}, "https://news.example.org/hub-and-self"},
		{"only the first rel counts", []string{`<https://news.example.org/page/2>; rel="next"; rel="hub"`}, nil, nil, ""},
		{"the same hub twice", []string{`<https://hub.example/>; rel="hub"`, `<https://hub.example/>; rel="hub"`}, nil,
			[]string{"https://hub.example/"}, ""},
		{"headers before the document", []string{`<https://hub.example/>; rel="hub", <https://news.example.org/header-self>; rel="self"`}, []byte(`<rss><channel><atom:link rel="hub" href="https://doc.example/"/><atom:link rel="self" href="https://news.example.org/doc"/></channel></rss>`),
			[]string{"https://hub.example/"}, "https://news.example.org/header-self"},
		{"a hub header, self from the document", []string{`<https://hub.example/>; rel="hub"`}, []byte(`<rss><channel><atom:link rel="hub" href="https://doc.example/"/><atom:link rel="self" href="https://news.example.org/doc"/></channel></rss>`),
			[]string{"https://hub.example/"}, "https://news.example.org/doc"},
		{"a self header, hubs from the document", []string{`<https://news.example.org/header-self>; rel="self"`}, []byte(`<rss><channel><atom:link rel="hub" href="https://doc.example/"/><atom:link rel="self" href="https://news.example.org/doc"/></channel></rss>`),
			[]string{"https://doc.example/"}, "https://news.example.org/header-self"},
		{"non-hub links ignored", []string{`<https://news.example.org/page/2>; rel="next"`}, nil, nil, ""},
		{"garbage header", []string{`hub; rel="hub"`, `<unterminated; rel="hub"`}, nil, nil, ""},
		{"only http(s)", []string{`<javascript:alert(1)>; rel="hub"`}, nil, nil, ""},

		// Documents.
		{"feedburner atom10 links in RSS", nil, fixture("malformed-wordpress-com-techcrunch-newline-before-decl.xml"),
			[]string{"http://pubsubhubbub.appspot.com/", "http://techcrunch.com/?pushpress=hub"}, "http://feeds.feedburner.com/Techcrunch"},
		{"feedburner Atom feed", nil, fixture("atom-feedburner-typepad-xhtml-xmlbase.xml"),
			[]string{"http://pubsubhubbub.appspot.com/"}, "http://feeds.feedburner.com/RotoAuthorityFantasyBaseball"},
		{"atom:link in RSS", nil, fixture("rss-iso88591-declared-german-content-encoded.xml"),
			[]string{"http://golem.superfeedr.com/"}, "https://rss.golem.de/rss.php?feed=RSS2.0"},
		{"WordPress.com PuSHPress, single quotes", nil, fixture("wordpress-com-indianexpress-media-thumbnail.xml"),
			[]string{"http://indianexpress.com/?pushpress=hub"}, "http://indianexpress.com/section/world/feed/"},
		{"relative self", nil, fixture("rss-relative-urls-no-xmlbase.xml"), nil, "https://news.example.org/en/games/neverwinter/news/rss"},
		{"self but no hub", nil, fixture("wordpress-bom-categories-content-img.xml"), nil, "https://codehollow.com/feed/"},
		{"Atom feed, links in entries ignored", nil, []byte(`<feed xmlns="http://www.w3.org/2005/Atom"><link rel='hub' href='/websub'/><link rel="self" href="https://news.example.org/atom"/><entry><link rel="hub" href="https://not-this.example/"/></entry></feed>`),
			[]string{"https://news.example.org/websub"}, "https://news.example.org/atom"},
		{"entities in attributes", nil, []byte(`<rss><channel><atom:link rel="hub" href="https://hub.example/?a=1&amp;b=2"/><atom:link href="https://news.example.org/?feed=rss&#38;lang=ar" rel="self"/></channel></rss>`),
			[]string{"https://hub.example/?a=1&b=2"}, "https://news.example.org/?feed=rss&lang=ar"},
		{"JSON Feed", nil, []byte(`{"version":"https://jsonfeed.org/version/1.1","feed_url":"https://news.example.org/feed.json","hubs":[{"type":"WebSub","url":"https://hub.example/"},{"type":"rssCloud","url":"https://cloud.example/"}]}`),
			[]string{"https://hub.example/"}, "https://news.example.org/feed.json"},
		{"JSON Feed with a byte order mark, relative hub", nil, []byte("\uFEFF" + `{"feed_url":"/feed.json","hubs":[{"type":"websub","url":"/hub"}]}`),
			[]string{"https://news.example.org/hub"}, "https://news.example.org/feed.json"},
		{"JSON Feed without hubs", nil, fixture("jsonfeed-1.1-german-blog.json"), nil, "https://journal.3960.org/feed.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tc.links {
				h.Add("Link", l)
			}
			hubs, self := discoverHubs(h, tc.body, base)
			if !slices.Equal(hubs, tc.wantHubs) || self != tc.wantSelf {
				t.Errorf("got %q, %q; want %q, %q", hubs, self, tc.wantHubs, tc.wantSelf)
			}
		})
	}
}

// TestFetchDiscoversHubs: a poll's result names the hubs and the topic,
// relative to where the feed was finally fetched from; a 304 names none.
func TestFetchDiscoversHubs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/old":
			http.Redirect(w, r, "/feed/", http.StatusFound)
		case r.Header.Get("If-None-Match") == `"v1"`:
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("ETag", `"v1"`)
			w.Header().Add("Link", `</hub>; rel="hub"`)
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write([]byte(`<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Site</title>
<atom:link rel="self" href="/feed/"/><atom:link rel="hub" href="https://doc-hub.example/"/>
<item><title>First</title><link>https://site.example/first</link><guid>id-1</guid></item></channel></rss>`))
		}
	}))
	defer srv.Close()
	src, _ := newSource(t, guard.Options{})
	ctx := context.Background()
	res, err := src.Fetch(ctx, syndicate.FeedSpec{ID: "f", URL: srv.URL + "/old"}, syndicate.FeedState{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Hubs, []string{srv.URL + "/hub"}) || res.Self != srv.URL+"/feed/" {
		t.Errorf("hubs %q, self %q; want the Link header's hub and the document's self, resolved against the final URL", res.Hubs, res.Self)
	}
	res, err = src.Fetch(ctx, syndicate.FeedSpec{ID: "f", URL: srv.URL + "/feed/"}, syndicate.FeedState{ETag: `"v1"`})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NotModified || res.Hubs != nil || res.Self != "" {
		t.Errorf("304: %+v", res)
	}
}

// FuzzDiscoverHubs: any Link header and body yield only absolute http(s)
// URLs, each hub once, and never a panic.
func FuzzDiscoverHubs(f *testing.F) {
	f.Add(`<https://hub.example/>; title="a, <b>; \"c"; rel="hub self", </x>; rel=self`, []byte(`<rss><channel><atom:link rel="hub" href="/h&amp;x"/></channel></rss>`))
	f.Add(`<`, []byte(`{"hubs":[{"type":"WebSub","url":"//hub"}]}`))
	f.Add(`<a>; rel="`, []byte("\uFEFF{"))
	base, _ := url.Parse("https://news.example.org/feed/")
	f.Fuzz(func(t *testing.T, link string, body []byte) {
		hubs, self := discoverHubs(http.Header{"Link": {link}}, body, base)
		for _, u := range append(slices.Clone(hubs), self) {
			if u == "" {
				continue
			}
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") {
				t.Fatalf("not an http(s) URL: %q", u)
			}
		}
		if len(slices.Compact(slices.Sorted(slices.Values(hubs)))) != len(hubs) {
			t.Fatalf("a hub twice: %q", hubs)
		}
	})
}
