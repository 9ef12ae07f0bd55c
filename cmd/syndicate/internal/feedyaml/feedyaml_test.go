package feedyaml

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/syndicate-bot/syndicate/config"
)

func TestFromURL(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://www.freedomvoice.example/feed/", "freedomvoice.example"},
		{"https://freedomvoice.example/ar/feed/", "freedomvoice.example-ar"},
		{"http://127.0.0.1:8737/fa/feed/atom/", "127.0.0.1-fa"},
		{"https://blog.example/index.xml", "blog.example"},
		{"https://blog.example/posts/rss.xml?x=1", "blog.example-posts"},
		{"https://news.example/world/Middle%20East/feed.json", "news.example-world-middle-east"},
		{"https://fa.example/%D8%AE%D8%A8%D8%B1/feed/", "fa.example"},
		{"https://Example.ORG/Category/News_Today/feed/", "example.org-category-news_today"},
		{"https://" + strings.Repeat("a", 60) + ".example/long/path/feed/", strings.Repeat("a", 60) + ".exa"},
		{"not a url", "not-a-url"},
	} {
		got := FromURL(tc.url)
		if got != tc.want {
			t.Errorf("FromURL(%q) = %q, want %q", tc.url, got, tc.want)
		}
		if !config.IsID(got) {
			t.Errorf("FromURL(%q) = %q, not an id the config accepts", tc.url, got)
		}
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"en", "en"},
		{"pt-BR", "pt-br"},
		{"--a  b--", "a-b"},
		{".hidden.", "hidden"},
		{"خبر", "feed"},
		{"", "feed"},
		{strings.Repeat("x", 70), strings.Repeat("x", 64)},
	} {
		if got := Clean(tc.in); got != tc.want || !config.IsID(got) {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTake(t *testing.T) {
	ids := NewIDs("en")
	long := strings.Repeat("y", 64)
	var got []string
	for _, base := range []string{"en", "ar", "ar", "ar", long, long} {
		got = append(got, ids.Take(base))
	}
	want := []string{"en-2", "ar", "ar-2", "ar-3", long, strings.Repeat("y", 62) + "-2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	for _, id := range got {
		if !config.IsID(id) {
			t.Errorf("%q is not an id the config accepts", id)
		}
	}
}

func TestWriteReadsBack(t *testing.T) {
	d := Doc{
		Comment: "Found at https://example.org/\nsecond line",
		Feeds: []Feed{
			// Values YAML would read as other types unless quoted, and a
			// title that would end the comment if written raw.
			{ID: "1984", URL: "https://example.org/feed/?a=b#c", Language: "no", Comment: "Title: with colon\n- id: injected"},
			{ID: "true", URL: "https://example.org/ar/feed/", PollInterval: "15m"},
		},
		Routes: []Route{{Feeds: []string{"1984", "true"}, To: []string{"tg", "md"}}},
	}
	var b bytes.Buffer
	if err := Write(&b, d); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Feeds []struct {
			ID           string `yaml:"id"`
			URL          string `yaml:"url"`
			Language     string `yaml:"language"`
			PollInterval string `yaml:"poll_interval"`
		} `yaml:"feeds"`
		Routes []struct {
			Feeds []string `yaml:"feeds"`
			To    []string `yaml:"to"`
		} `yaml:"routes"`
	}
	dec := yaml.NewDecoder(&b)
	dec.KnownFields(true)
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("output does not read back: %v\n%s", err, b.String())
	}
	if len(got.Feeds) != 2 || got.Feeds[0].ID != "1984" || got.Feeds[0].URL != d.Feeds[0].URL ||
		got.Feeds[0].Language != "no" || got.Feeds[1].ID != "true" || got.Feeds[1].PollInterval != "15m" {
		t.Errorf("feeds read back as %+v", got.Feeds)
	}
	if len(got.Routes) != 1 || !cmp.Equal(got.Routes[0].Feeds, []string{"1984", "true"}) || !cmp.Equal(got.Routes[0].To, []string{"tg", "md"}) {
		t.Errorf("routes read back as %+v", got.Routes)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "injected") && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			t.Errorf("a comment line escaped into YAML: %q", l)
		}
	}
}
