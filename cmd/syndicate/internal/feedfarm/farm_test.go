package feedfarm

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

func startFarm(t *testing.T, o Options) *Farm {
	t.Helper()
	f, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestFeedsParse: every edition's feed is RSS that gofeed reads as
// WordPress writes it: ten items, newest first, with what the pipeline
// reads, in about 44 KB.
func TestFeedsParse(t *testing.T) {
	epoch := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := startFarm(t, Options{Feeds: 40, Changed: 0.25, Epoch: epoch})
	langs := map[string]bool{}
	for i := range 8 {
		for _, round := range []int{0, 3} {
			body := f.Body(i, round)
			if len(body) < 40_000 || len(body) > 48_000 {
				t.Errorf("feed %d round %d: %d bytes, want about 44 KB", i, round, len(body))
			}
			feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("feed %d round %d: %v", i, round, err)
			}
			langs[feed.Language] = true
			if feed.Language != f.Language(i) || feed.FeedLink != f.FeedURL(i) {
				t.Errorf("feed %d: language %q self %q", i, feed.Language, feed.FeedLink)
			}
			var guids []string
			for _, it := range feed.Items {
				guids = append(guids, it.GUID)
				if it.Title == "" || it.Link == "" || it.PublishedParsed == nil || len(it.Authors) != 1 ||
					len(it.Categories) < 2 || len(it.Enclosures) != 1 || !strings.Contains(it.Content, "<img ") ||
					strings.Count(it.Content, "<p>") < 3 || !strings.Contains(it.Description, "appeared first on") {
					t.Errorf("feed %d item %s lacks something: %+v", i, it.GUID, it)
				}
			}
			if want := f.CurrentGUIDs(i, round); !slices.Equal(guids, want) {
				t.Errorf("feed %d round %d guids:\n got %q\nwant %q", i, round, guids, want)
			}
			for j := 1; j < len(feed.Items); j++ {
				if !feed.Items[j].PublishedParsed.Before(*feed.Items[j-1].PublishedParsed) {
					t.Errorf("feed %d: item %d is not older than item %d", i, j, j-1)
				}
			}
		}
	}
	if len(langs) != 4 {
		t.Errorf("languages %v, want the four editions", langs)
	}
}

// TestDeterministic: the same options give the same feeds, whatever the
// port.
func TestDeterministic(t *testing.T) {
	o := Options{Feeds: 20, Changed: 0.1, Epoch: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	a, b := startFarm(t, o), startFarm(t, o)
	for i := range 20 {
		ba := strings.ReplaceAll(string(a.Body(i, 2)), a.URL(), "")
		bb := strings.ReplaceAll(string(b.Body(i, 2)), b.URL(), "")
		if ba != bb {
			t.Fatalf("feed %d differs between two farms with the same options", i)
		}
	}
}

// TestConditional: the farm answers conditional requests as RFC 9110
// section 13.2.2 orders them.
func TestConditional(t *testing.T) {
	f := startFarm(t, Options{Feeds: 4})
	first := get(t, f.FeedURL(1), nil)
	etag, modified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	if first.StatusCode != http.StatusOK || etag == "" || modified == "" {
		t.Fatalf("first request: %d etag %q last-modified %q", first.StatusCode, etag, modified)
	}
	lm, _ := http.ParseTime(modified)
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no validators", nil, http.StatusOK},
		{"current etag", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"weak current etag in a list", map[string]string{"If-None-Match": `"x", W/` + etag}, http.StatusNotModified},
		{"star", map[string]string{"If-None-Match": "*"}, http.StatusNotModified},
		{"stale etag", map[string]string{"If-None-Match": `"stale"`}, http.StatusOK},
		{"same date", map[string]string{"If-Modified-Since": modified}, http.StatusNotModified},
		{"later date", map[string]string{"If-Modified-Since": lm.Add(time.Hour).Format(http.TimeFormat)}, http.StatusNotModified},
		{"earlier date", map[string]string{"If-Modified-Since": lm.Add(-time.Second).Format(http.TimeFormat)}, http.StatusOK},
		{"bad date", map[string]string{"If-Modified-Since": "yesterday"}, http.StatusOK},
		{"stale etag wins over a current date", map[string]string{"If-None-Match": `"stale"`, "If-Modified-Since": modified}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(t, f.FeedURL(1), tc.header).StatusCode; got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
	for _, p := range []string{"/category/topic-1/feed/", "/category/topic-4/feed/", "/ar/category/topic-0/feed/", "/feed/", "/bot123:x/sendMessage"} {
		if got := get(t, f.URL()+p, nil).StatusCode; got != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, got)
		}
	}
	// http.DefaultClient keeps its connection between the requests.
	if st := f.Stats(); st.OK != 6 || st.NotModified != 5 || st.Other != 5 || st.Conns != 1 {
		t.Errorf("stats %+v, want 6 ok, 5 not modified, 5 other, 1 connection", st)
	}
}

// TestRounds: each round the given share of feeds, a different set each
// time, gains one item and a new ETag; the rest stay not modified.
func TestRounds(t *testing.T) {
	const feeds = 50
	f := startFarm(t, Options{Feeds: feeds, Changed: 0.1})
	etags := make([]string, feeds)
	for i := range feeds {
		etags[i] = get(t, f.FeedURL(i), nil).Header.Get("ETag")
	}
	changedEver := map[int]int{}
	for round := 1; round <= 10; round++ {
		if got := f.Advance(); got != round {
			t.Fatalf("Advance = %d, want %d", got, round)
		}
		var changed []int
		for i := range feeds {
			resp := get(t, f.FeedURL(i), map[string]string{"If-None-Match": etags[i]})
			if f.Changed(i, round) != (resp.StatusCode == http.StatusOK) {
				t.Errorf("round %d feed %d: status %d, Changed %v", round, i, resp.StatusCode, f.Changed(i, round))
			}
			if resp.StatusCode == http.StatusOK {
				changed = append(changed, i)
				changedEver[i]++
				etags[i] = resp.Header.Get("ETag")
				if got, want := f.CurrentGUIDs(i, round)[0], f.GUID(i, f.ItemCount(i, round)-1); got != want {
					t.Errorf("round %d feed %d: newest guid %s, want %s", round, i, got, want)
				}
			}
		}
		if len(changed) != 5 || f.ChangedIn(round) != 5 {
			t.Errorf("round %d: %d feeds changed (%v), ChangedIn %d, want 5", round, len(changed), changed, f.ChangedIn(round))
		}
		if st := f.Stats(); st.OK != 5 || st.NotModified != feeds-5 || st.Round != round {
			t.Errorf("round %d stats %+v", round, st)
		}
	}
	// Ten rounds of 10% give every feed exactly one new item.
	if len(changedEver) != feeds {
		t.Errorf("%d feeds changed over ten rounds, want all %d", len(changedEver), feeds)
	}
	for i, n := range changedEver {
		if n != 1 || len(f.AddedGUIDs(i, 10)) != 1 {
			t.Errorf("feed %d changed %d times, added %q", i, n, f.AddedGUIDs(i, 10))
		}
	}
	if f.SetRound(0); f.Stats() != (Stats{}) || len(f.AddedGUIDs(3, 0)) != 0 {
		t.Errorf("after SetRound(0): %+v", f.Stats())
	}
}

func get(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// BenchmarkRender shows that serving a feed costs the farm little next to
// parsing it.
func BenchmarkRender(b *testing.B) {
	f, err := Start(Options{Feeds: 10_000, Changed: 0.1})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 0, 64<<10)
	i := 0
	for b.Loop() {
		changes := f.changeRounds(i%10_000, 3)
		buf = f.render(buf[:0], i%10_000, ItemsPerFeed+len(changes), changes)
		i++
	}
	b.SetBytes(int64(len(buf)))
}
