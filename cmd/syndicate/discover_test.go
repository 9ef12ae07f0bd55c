package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, after putting SITE for the test
// server's address; -update rewrites the file.
func golden(t *testing.T, name, got, siteURL string) {
	t.Helper()
	if siteURL != "" {
		got = strings.ReplaceAll(got, siteURL, "http://SITE")
		got = strings.ReplaceAll(got, strings.TrimPrefix(siteURL, "http://"), "SITE")
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// rss is a small RSS 2.0 feed with the given language and item titles.
func rss(title, lang string, items ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>http://example.org/</link><language>%s</language>`, title, lang)
	for i, it := range items {
		fmt.Fprintf(&b, `<item><title>%s</title><link>http://example.org/%d/</link><guid isPermaLink="false">%s-%d</guid><pubDate>Mon, 16 Nov 2026 10:00:00 +0000</pubDate><description>About %s</description></item>`, it, i, title, i, it)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// site is an httptest server of fixed documents that counts requests.
type site struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

type doc struct{ contentType, body string }

func newSite(t *testing.T, docs func(base string) map[string]doc) *site {
	t.Helper()
	s := &site{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		d, ok := docs("http://" + r.Host)[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", d.contentType)
		fmt.Fprint(w, d.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) hit(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

const (
	htmlType = "text/html; charset=utf-8"
	rssType  = "application/rss+xml; charset=UTF-8"
)

// wordpressSite is shaped like the site we syndicate: four editions named
// with hreflang, every edition feed declaring the main edition's
// language (one WordPress install), one edition without a feed, and the
// links WordPress puts in every head (comments feed, REST API).
func wordpressSite(t *testing.T) *site {
	return newSite(t, func(base string) map[string]doc {
		return map[string]doc{
			"/": {htmlType, `<!DOCTYPE html>
<html lang="en-US" dir="ltr"><head><meta charset="UTF-8"><title>Freedom Voice</title>
<link rel="alternate" type="application/rss+xml" title="Freedom Voice &raquo; Feed" href="` + base + `/feed/" />
<link rel="alternate" type="application/rss+xml" title="Freedom Voice &raquo; Comments Feed" href="` + base + `/comments/feed/" />
<link rel="alternate" type="application/json" href="` + base + `/wp-json/wp/v2/pages/2" />
<link rel="alternate" hreflang="en" href="` + base + `/" />
<link rel="alternate" hreflang="ar" href="` + base + `/ar/" />
<link rel="alternate" hreflang="fa" href="` + base + `/fa/" />
<link rel="alternate" hreflang="sq" href="` + base + `/sq/" />
<link rel="alternate" hreflang="x-default" href="` + base + `/" />
</head><body><h1>Freedom Voice</h1></body></html>`},
			"/feed/":                 {rssType, rss("Freedom Voice", "en-US", "One", "Two", "Three")},
			"/ar/feed/":              {rssType, rss("صوت الحرية", "en-US", "واحد", "اثنان")},
			"/fa/feed/":              {rssType, rss("صدای آزادی", "en-US", "یک")},
			"/comments/feed/":        {rssType, rss("Comments", "en-US", "A comment")},
			"/wp-json/wp/v2/pages/2": {"application/json", `{"id":2,"title":{"rendered":"Home"}}`},
		}
	})
}

func TestDiscoverWordPressEditions(t *testing.T) {
	s := wordpressSite(t)
	r := runCmd(t, context.Background(), nil, "discover", s.URL+"/", "--allow-private")
	if r.code != 0 {
		t.Fatalf("discover = %d\n%s", r.code, r.stderr)
	}
	golden(t, "discover/wordpress.yaml", r.stdout, s.URL)
	// Without a terminal each check is one plain line.
	for _, want := range []string{
		"checking [1/5] ", "checking [5/5] ",
		s.URL + "/sq/feed/: not a feed: http 404",
		s.URL + "/wp-json/wp/v2/pages/2: not a feed",
		s.URL + "/ar/feed/: feed, 2 items",
		s.URL + "/fa/feed/: feed, 1 item\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.ContainsAny(r.stderr, "\r\x1b") {
		t.Errorf("stderr holds terminal control characters: %q", r.stderr)
	}
	if n := s.hit("/comments/feed/"); n != 0 {
		t.Errorf("the comments feed was fetched %d times; it carries no articles", n)
	}

	// What discover printed is a config validate accepts.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, destinationsConfig(filepath.Join(dir, "state.db"), "[en, ar, fa]")+r.stdout)
	v := runCmd(t, context.Background(), platformVars, "validate", "--config", cfg)
	if v.code != 0 || !strings.Contains(v.stdout, "OK (3 feeds, 2 destinations, 1 routes)") {
		t.Errorf("validate of the discovered feeds = %d\n%s%s", v.code, v.stdout, v.stderr)
	}
}

// destinationsConfig is a config without feeds: the destinations and a
// route from feeds (a YAML flow list), to append feed entries to.
func destinationsConfig(dbPath, feeds string) string {
	return fmt.Sprintf(`store:
  embedded:
    path: %s
telegram:
  bots:
    - id: main
      token: ${TELEGRAM_TOKEN}
  channels:
    - id: tg-en
      chat: "@freedomvoice_en"
mastodon:
  accounts:
    - id: md-en
      server: https://mastodon.example
      access_token: ${MASTODON_TOKEN}
routes:
  - feeds: %s
    to: [tg-en, md-en]
`, dbPath, feeds)
}

func TestDiscoverRelativeLinks(t *testing.T) {
	s := newSite(t, func(base string) map[string]doc {
		return map[string]doc{
			// The base element comes after the first link and still
			// applies to it.
			"/blog/": {htmlType, `<html><head>
<link rel="alternate feed" type="application/atom+xml" href="atom.xml" title="Blog (Atom)">
<base href="/blog/2026/">
<link rel="ALTERNATE" type="application/feed+json; charset=utf-8" href="../feed.json">
<link rel="alternate" type="application/rss+xml" href="#top">
<link rel="stylesheet" type="application/rss+xml" href="/style.rss">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
</head><body></body></html>`},
			"/blog/2026/atom.xml": {"application/atom+xml", `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="sq"><title>Blogu</title><id>urn:x</id><updated>2026-11-16T10:00:00Z</updated>
<entry><title>Një</title><id>urn:x:1</id><link href="http://example.org/1/"/><updated>2026-11-16T10:00:00Z</updated></entry></feed>`},
			"/blog/feed.json": {"application/feed+json", `{"version":"https://jsonfeed.org/version/1.1","title":"Blog JSON","items":[{"id":"1","url":"http://example.org/1/","content_text":"One"}]}`},
		}
	})
	r := runCmd(t, context.Background(), nil, "discover", "--json", "--allow-private", s.URL+"/blog/")
	if r.code != 0 {
		t.Fatalf("discover = %d\n%s", r.code, r.stderr)
	}
	var got struct {
		Page  string `json:"page"`
		Feeds []struct {
			ID, URL, Language, Title, FoundBy string
			Items                             int
		} `json:"feeds"`
		NotFeeds []struct{ URL, FoundBy, Error string } `json:"not_feeds"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("discover --json printed no JSON: %v\n%s", err, r.stdout)
	}
	type feed struct{ ID, URL, Language, Title string }
	var feeds []feed
	for _, f := range got.Feeds {
		feeds = append(feeds, feed{f.ID, f.URL, f.Language, f.Title})
	}
	want := []feed{
		{"sq", s.URL + "/blog/2026/atom.xml", "sq", "Blogu"},
		{"127.0.0.1-blog", s.URL + "/blog/feed.json", "", "Blog JSON"},
	}
	if diff := cmp.Diff(want, feeds); diff != "" {
		t.Errorf("feeds (-want +got):\n%s", diff)
	}
	var rejected []string
	for _, n := range got.NotFeeds {
		rejected = append(rejected, strings.TrimPrefix(n.URL, s.URL))
	}
	// The fragment-only link is the page itself, which is no feed; the
	// WordPress guesses answer 404.
	if diff := cmp.Diff([]string{"/blog/2026/", "/blog/feed/", "/feed/"}, rejected); diff != "" {
		t.Errorf("rejected candidates (-want +got):\n%s", diff)
	}
}

func TestDiscoverNothingFound(t *testing.T) {
	s := newSite(t, func(string) map[string]doc {
		return map[string]doc{"/": {htmlType, `<!doctype html><html><head><title>No feeds</title></head><body>Hello</body></html>`}}
	})
	r := runCmd(t, context.Background(), nil, "discover", s.URL+"/", "--allow-private")
	if r.code != 1 || !strings.Contains(r.stderr, "no feed found at "+s.URL) || r.stdout != "" {
		t.Errorf("discover of a page without feeds = %d\nstdout %q\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, s.URL+"/feed/: not a feed: http 404") {
		t.Errorf("stderr does not say what was tried:\n%s", r.stderr)
	}
}

func TestDiscoverGivenAFeed(t *testing.T) {
	s := wordpressSite(t)
	r := runCmd(t, context.Background(), nil, "discover", s.URL+"/ar/feed/", "--allow-private")
	if r.code != 0 {
		t.Fatalf("discover of a feed URL = %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"id: en\n", "url: " + s.URL + "/ar/feed/\n", "language: en-US\n", "(self)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDiscoverAddressRules(t *testing.T) {
	s := wordpressSite(t)
	r := runCmd(t, context.Background(), nil, "discover", s.URL+"/")
	if r.code != 1 || !strings.Contains(r.stderr, "address not allowed") || !strings.Contains(r.stderr, "--allow-private") {
		t.Errorf("discover of a loopback site without --allow-private = %d\n%s", r.code, r.stderr)
	}
	if n := s.hit("/"); n != 0 {
		t.Errorf("the page was fetched %d times", n)
	}
	for _, args := range [][]string{{"discover"}, {"discover", "a", "b"}, {"discover", "--nope", "x"}} {
		if r := runCmd(t, context.Background(), nil, args...); r.code != 2 {
			t.Errorf("%q = %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
	if r := runCmd(t, context.Background(), nil, "discover", "--help"); r.code != 0 || !strings.Contains(r.stderr, "syndicate discover URL [flags]") {
		t.Errorf("discover --help = %d\n%s", r.code, r.stderr)
	}
}
