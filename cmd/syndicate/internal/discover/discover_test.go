package discover

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/syndicate-bot/syndicate/syndicate"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestParsePage(t *testing.T) {
	for _, tc := range []struct {
		name, page, contentType, url string
		want                         Page
	}{
		{
			name: "WordPress head",
			url:  "https://fv.example/",
			page: `<!DOCTYPE html><html lang="en-US"><head>
<link rel='alternate' type='application/rss+xml' title='FV &raquo; Feed' href='https://fv.example/feed/' />
<link rel="alternate" type="application/json+oembed" href="https://fv.example/wp-json/oembed/1.0/embed?url=x" />
<link rel="alternate" hreflang="ar" href="/ar/" />
<link rel="alternate" hreflang="x-default" href="/" />
<link rel="canonical" href="https://fv.example/" />
</head><body><script>document.write('<link rel="alternate" type="application/rss+xml" href="/fake/">')</script></body></html>`,
			want: Page{Lang: "en-US",
				Feeds: []Link{{URL: "https://fv.example/feed/", Type: "application/rss+xml", Title: "FV » Feed"}},
				Editions: []Link{
					{URL: "https://fv.example/ar/", Language: "ar"},
					{URL: "https://fv.example/", Language: "x-default"},
				}},
		},
		{
			name: "base after the link, relative and protocol-relative hrefs",
			url:  "http://blog.example/a/b/page.html",
			page: `<html><head><link rel="alternate" type="application/atom+xml" href="atom.xml"><base href="../x/">
<link rel="Alternate Feed" type="Application/RSS+XML; charset=utf-8" href="//cdn.example/rss">
<link rel="alternate" type="application/rss+xml" href="ftp://blog.example/rss">
<link rel="alternate" type="application/rss+xml">
<link rel="alternate" type="text/html" hreflang="fr" href="/fr/page.html">
<base href="/ignored/"></head></html>`,
			want: Page{
				Feeds: []Link{
					{URL: "http://blog.example/a/x/atom.xml", Type: "application/atom+xml"},
					{URL: "http://cdn.example/rss", Type: "application/rss+xml"},
				},
			},
		},
		{
			name:        "windows-1256 page",
			url:         "http://ar.example/",
			contentType: "text/html; charset=windows-1256",
			page:        "<html lang=ar><head><link rel=alternate type=application/rss+xml title=\"\xc7\xe1\xc3\xce\xc8\xc7\xd1\" href=/feed/></head></html>",
			want:        Page{Lang: "ar", Feeds: []Link{{URL: "http://ar.example/feed/", Type: "application/rss+xml", Title: "الأخبار"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "text/html; charset=utf-8"
			}
			got, err := ParsePage(strings.NewReader(tc.page), ct, mustURL(t, tc.url))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("page (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		page      Page
		want      []Candidate
	}{
		{
			name: "front page with editions",
			url:  "https://fv.example/",
			page: Page{Lang: "en-US",
				Feeds: []Link{
					{URL: "https://fv.example/feed/", Type: "application/rss+xml", Title: "FV"},
					{URL: "https://fv.example/comments/feed/", Type: "application/rss+xml"},
				},
				Editions: []Link{
					{URL: "https://fv.example/", Language: "en"},
					{URL: "https://fv.example/ar/", Language: "ar"},
					{URL: "https://fv.example/fa", Language: "fa-IR"},
					{URL: "https://sq.fv.example/", Language: "sq"},
					{URL: "https://fv.example/", Language: "x-default"},
				}},
			want: []Candidate{
				{URL: "https://fv.example/feed/", Via: ViaLink, Title: "FV", Language: "en"},
				{URL: "https://fv.example/ar/feed/", Via: ViaEdition, Language: "ar"},
				{URL: "https://fv.example/fa/feed/", Via: ViaEdition, Language: "fa-IR"},
				{URL: "https://sq.fv.example/feed/", Via: ViaEdition, Language: "sq"},
			},
		},
		{
			name: "article in an edition",
			url:  "https://fv.example/ar/2026/11/strike/?utm_source=x",
			page: Page{Lang: "ar",
				Editions: []Link{
					{URL: "https://fv.example/2026/11/strike-en/", Language: "en"},
					{URL: "https://fv.example/fa/2026/11/strike-fa/", Language: "fa"},
				}},
			want: []Candidate{
				{URL: "https://fv.example/ar/feed/", Via: ViaSection, Language: "ar"},
				// The English article is at the root: the main edition.
				{URL: "https://fv.example/feed/", Via: ViaSite, Language: "en"},
				{URL: "https://fv.example/fa/feed/", Via: ViaEdition, Language: "fa"},
			},
		},
		{
			name: "category page",
			url:  "https://fv.example/category/news/",
			want: []Candidate{
				{URL: "https://fv.example/category/news/feed/", Via: ViaSection},
				{URL: "https://fv.example/feed/", Via: ViaSite},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Candidates(tc.page, mustURL(t, tc.url))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
		})
	}
}

// source answers Fetch from a table of results.
type source map[string]syndicate.FetchResult

func (s source) Fetch(_ context.Context, spec syndicate.FeedSpec, _ syndicate.FeedState) (syndicate.FetchResult, error) {
	r, ok := s[spec.URL]
	if !ok {
		return r, &syndicate.FetchError{StatusCode: 404, Err: errors.New("not found")}
	}
	return r, nil
}

func TestCheck(t *testing.T) {
	src := source{
		"https://a.example/feed/": {Title: "A", Items: []syndicate.Item{
			{Key: "1", Language: "fr", LanguageFrom: syndicate.LanguageFromItem},
			{Key: "2", Language: "en", LanguageFrom: syndicate.LanguageFromFeed},
		}},
		"https://a.example/old/": {Title: "Old", MovedTo: "https://a.example/new/"},
		"https://a.example/api":  {},
	}
	for _, tc := range []struct {
		url     string
		want    Feed
		wantErr string
	}{
		{url: "https://a.example/feed/", want: Feed{URL: "https://a.example/feed/", Title: "A", Items: 2, Language: "en"}},
		{url: "https://a.example/old/", want: Feed{URL: "https://a.example/new/", Title: "Old"}},
		{url: "https://a.example/api", wantErr: "not a feed"},
		{url: "https://a.example/gone", wantErr: "http 404"},
	} {
		got, err := Check(context.Background(), src, tc.url)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Check(%s) = %+v, %v; want an error with %q", tc.url, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Check(%s) = %+v, %v; want %+v", tc.url, got, err, tc.want)
		}
	}
	urls := []string{"https://a.example/gone", "https://a.example/feed/", "https://a.example/old/"}
	var told []string
	all := CheckAll(context.Background(), src, urls, 2, func(u string, _ Checked) { told = append(told, u) })
	if len(all) != 3 || all[0].Err == nil || all[1].Feed.Title != "A" || all[2].Feed.Title != "Old" {
		t.Errorf("CheckAll = %+v, want the outcomes in the order of the URLs", all)
	}
	if len(told) != 3 {
		t.Errorf("progress told of %d checks, want 3", len(told))
	}
}
