package feed

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
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
		{"link header", []string{`<https://hub.example/>; rel="hub", <https://news.example.org/feed/>; rel="self"`}, nil,
			[]string{"https://hub.example/"}, "https://news.example.org/feed/"},
		{"several headers, relative, unquoted", []string{`</hub>; rel=hub`, `<https://other.example/hub>; rel="hub"`, `</feed/>; rel="self"`}, nil,
			[]string{"https://news.example.org/hub", "https://other.example/hub"}, "https://news.example.org/feed/"},
		{"headers before the document", []string{`<https://hub.example/>; rel="hub"`}, []byte(`<rss><channel><atom:link rel="hub" href="https://doc.example/"/></channel></rss>`),
			[]string{"https://hub.example/"}, ""},
		{"non-hub links ignored", []string{`<https://news.example.org/page/2>; rel="next"`}, nil, nil, ""},
		{"feedburner atom10 links in RSS", nil, fixture("malformed-wordpress-com-techcrunch-newline-before-decl.xml"),
			[]string{"http://pubsubhubbub.appspot.com/", "http://techcrunch.com/?pushpress=hub"}, "http://feeds.feedburner.com/Techcrunch"},
		{"atom:link in RSS", nil, fixture("rss-iso88591-declared-german-content-encoded.xml"),
			[]string{"http://golem.superfeedr.com/"}, "https://rss.golem.de/rss.php?feed=RSS2.0"},
		{"Atom feed", nil, []byte(`<feed xmlns="http://www.w3.org/2005/Atom"><link rel='hub' href='/websub'/><link rel="self" href="https://news.example.org/atom"/><entry><link rel="hub" href="https://not-this.example/"/></entry></feed>`),
			[]string{"https://news.example.org/websub"}, "https://news.example.org/atom"},
		{"JSON Feed", nil, []byte(`{"version":"https://jsonfeed.org/version/1.1","feed_url":"https://news.example.org/feed.json","hubs":[{"type":"WebSub","url":"https://hub.example/"},{"type":"rssCloud","url":"https://cloud.example/"}]}`),
			[]string{"https://hub.example/"}, "https://news.example.org/feed.json"},
		{"self but no hub", nil, fixture("wordpress-bom-categories-content-img.xml"), nil, "https://codehollow.com/feed/"},
		{"only http(s)", []string{`<javascript:alert(1)>; rel="hub"`}, nil, nil, ""},
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
