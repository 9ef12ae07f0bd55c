package feed

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/syndicate-bot/syndicate/syndicate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Golden files keep the first goldenItems items in full (summaries cut to
// goldenSummary runes) and statistics over all of them.
const (
	goldenItems   = 5
	goldenSummary = 300
)

// fixtureURLs are the URLs fixtures are pretended to come from when the
// default one would not match the feed (root-relative links).
var fixtureURLs = map[string]string{
	"rss-relative-urls-no-xmlbase.xml": "https://www.arcgames.com/en/games/neverwinter/news/rss",
}

func fixtureURL(name string) *url.URL {
	raw, ok := fixtureURLs[name]
	if !ok {
		raw = "https://feeds.example.org/" + name
	}
	u, _ := url.Parse(raw)
	return u
}

// parseFixture runs a document through the same steps as Fetch after the
// download.
func parseFixture(t testing.TB, name string, body []byte) ([]syndicate.Item, string, *syndicate.Salvage, error) {
	t.Helper()
	f, salvaged, err := parse(body, "", "")
	if err != nil {
		return nil, "", nil, err
	}
	u := fixtureURL(name)
	spec := syndicate.FeedSpec{ID: strings.TrimSuffix(name, filepath.Ext(name)), URL: u.String()}
	return normalise(f, spec, u), cleanLine(f.Title), salvaged, nil
}

type goldenFile struct {
	Title    string           `json:"title,omitempty"`
	Error    string           `json:"error,omitempty"`
	Salvaged *goldenSalvage   `json:"salvaged,omitempty"`
	Stats    *goldenStats     `json:"stats,omitempty"`
	Items    []syndicate.Item `json:"items,omitempty"`
}

// goldenSalvage shows what a lenient reading made of a fixture that does
// not parse.
type goldenSalvage struct {
	Items   int    `json:"items"`
	Dropped bool   `json:"dropped"`
	Error   string `json:"error"`
}

type goldenStats struct {
	Items               int            `json:"items"`
	DistinctKeys        int            `json:"distinct_keys"`
	DistinctArticleKeys int            `json:"distinct_article_keys"`
	KeyKinds            map[string]int `json:"key_kinds"`
	WithLink            int            `json:"with_link"`
	WithAuthor          int            `json:"with_author"`
	WithPublished       int            `json:"with_published"`
	WithCategories      int            `json:"with_categories"`
	Languages           map[string]int `json:"languages,omitempty"`
	LeadImageSources    map[string]int `json:"lead_image_sources,omitempty"`
	MoreImages          int            `json:"more_images"`
	Attachments         int            `json:"attachments"`
	Videos              int            `json:"videos"`
	MaxSummaryRunes     int            `json:"max_summary_runes"`
}

func stats(items []syndicate.Item) *goldenStats {
	s := &goldenStats{Items: len(items), KeyKinds: map[string]int{}, Languages: map[string]int{}, LeadImageSources: map[string]int{}}
	keys, articles := map[string]bool{}, map[string]bool{}
	for _, it := range items {
		keys[it.Key] = true
		articles[it.ArticleKey()] = true
		kind, _, _ := strings.Cut(it.Key, ":")
		s.KeyKinds[kind]++
		if it.Link != "" {
			s.WithLink++
		}
		if it.Author != "" {
			s.WithAuthor++
		}
		if !it.Published.IsZero() {
			s.WithPublished++
		}
		if len(it.Categories) > 0 {
			s.WithCategories++
		}
		if it.Language != "" {
			s.Languages[it.Language]++
		}
		if it.Image != nil {
			s.LeadImageSources[it.Image.Source]++
		}
		s.MoreImages += len(it.Images)
		s.Attachments += len(it.Attachments)
		s.Videos += len(it.Videos)
		s.MaxSummaryRunes = max(s.MaxSummaryRunes, utf8.RuneCountInString(it.Summary))
	}
	s.DistinctKeys, s.DistinctArticleKeys = len(keys), len(articles)
	return s
}

func fixtureNames(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", "feeds"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) == 0 {
		t.Fatal("no fixtures")
	}
	return names
}

func TestGoldenFixtures(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
			if err != nil {
				t.Fatal(err)
			}
			items, title, salvaged, err := parseFixture(t, name, body)
			g := goldenFile{Title: title}
			if salvaged != nil {
				g.Salvaged = &goldenSalvage{Items: salvaged.Items, Dropped: salvaged.Dropped, Error: salvaged.Err.Error()}
			}
			if err != nil {
				g.Error = err.Error()
			} else {
				checkInvariants(t, items)
				g.Stats = stats(items)
				for _, it := range items[:min(len(items), goldenItems)] {
					if utf8.RuneCountInString(it.Summary) > goldenSummary {
						it.Summary = string([]rune(it.Summary)[:goldenSummary]) + "…"
					}
					g.Items = append(g.Items, it)
				}
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("golden mismatch for %s (-want +got):\n%s", name, cmp.Diff(string(want), string(got)))
			}
		})
	}
}

// checkInvariants holds for every item of every feed.
func checkInvariants(t *testing.T, items []syndicate.Item) {
	t.Helper()
	keys := map[string]bool{}
	for i, it := range items {
		if it.Key == "" || keys[it.Key] {
			t.Errorf("item %d: key %q empty or repeated", i, it.Key)
		}
		keys[it.Key] = true
		for _, s := range []string{it.Title, it.Summary, it.Author, it.Link} {
			if !utf8.ValidString(s) {
				t.Errorf("item %d: invalid UTF-8 in %q", i, s)
			}
		}
		if strings.ContainsAny(it.Title, "\n\r\t") {
			t.Errorf("item %d: title %q is not one line", i, it.Title)
		}
		if strings.Contains(it.Summary, "\n\n\n") {
			t.Errorf("item %d: summary has more than one blank line in a row", i)
		}
		if utf8.RuneCountInString(it.Summary) > maxSummaryRunes+1 {
			t.Errorf("item %d: summary of %d runes", i, utf8.RuneCountInString(it.Summary))
		}
		urls := []string{it.Link}
		if it.Image != nil {
			urls = append(urls, it.Image.URL)
		}
		for _, im := range it.Images {
			urls = append(urls, im.URL)
		}
		for _, a := range it.Attachments {
			urls = append(urls, a.URL)
		}
		for _, v := range it.Videos {
			urls = append(urls, v.URL)
		}
		for _, u := range urls {
			if u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				t.Errorf("item %d: URL %q is not absolute http(s)", i, u)
			}
		}
	}
}

func BenchmarkParseLargeFeed(b *testing.B) {
	const name = "huge-hubspot-bom-mojibake-youtube-pdf.xml"
	body, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		items, _, _, err := parseFixture(b, name, body)
		if err != nil || len(items) == 0 {
			b.Fatalf("%d items, %v", len(items), err)
		}
	}
}
