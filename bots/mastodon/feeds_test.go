package mastodon

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/feed/feedtest"
	"github.com/syndicate-bot/syndicate/syndicate/script"
)

// feedGoldenItems caps the items a feed golden shows, so that the goldens
// of large feeds stay reviewable; every item is still checked.
const feedGoldenItems = 20

func TestRenderFeedFixtures(t *testing.T) {
	total, goldens := 0, map[string]bool{}
	for _, name := range feedtest.Names(t) {
		items, err := feedtest.Items(t, name)
		if err != nil {
			t.Logf("%s: %v", name, err)
		}
		total += len(items)
		for _, max := range []int{500, 5000} {
			base := fmt.Sprintf("%s-%d", strings.TrimSuffix(name, filepath.Ext(name)), max)
			goldens[base+".txt"] = true
			t.Run(base, func(t *testing.T) {
				lim := DefaultLimits()
				lim.MaxCharacters = max
				got := renderFeed(t, name, items, err, lim)
				feedtest.Golden(t, filepath.Join("testdata", "golden", "feeds", base+".txt"), got, *update)
			})
		}
	}
	if total < 500 {
		t.Errorf("only %d items in the feed fixtures", total)
	}
	feedtest.RemoveStale(t, filepath.Join("testdata", "golden", "feeds"), goldens, *update)
}

// renderFeed renders and checks every item and returns the golden text of
// the first feedGoldenItems.
func renderFeed(t *testing.T, name string, items []syndicate.Item, fetchErr error, lim Limits) string {
	var b strings.Builder
	fmt.Fprintf(&b, "feed: %s\nlimit: %d\n", name, lim.MaxCharacters)
	switch {
	case fetchErr != nil:
		b.WriteString("no items: the feed does not parse\n")
		return b.String()
	case len(items) == 0:
		b.WriteString("no items\n")
		return b.String()
	}
	fmt.Fprintf(&b, "items: %d (all checked, the first %d shown)\n", len(items), min(len(items), feedGoldenItems))
	for i, it := range items {
		st, err := Render(it, Format{}, lim)
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			checkFeedStatus(t, it, st, err, lim)
			if lim.MaxCharacters > 500 {
				return // the variants are checked at the tighter limit
			}
			for _, v := range itemVariants(it) {
				st, err := Render(v, Format{}, lim)
				checkFeedStatus(t, v, st, err, lim)
			}
		})
		if i >= feedGoldenItems {
			continue
		}
		fmt.Fprintf(&b, "\n=== item %d/%d: %s ===\n", i+1, len(items), it.Key)
		if err != nil {
			fmt.Fprintf(&b, "render error: %v\n", err)
			continue
		}
		b.WriteString(st.Preview())
		// Invisible marks change what the server links and tags, so they
		// show in the golden wherever the preview hides them.
		if hideMarks.Replace(st.Text) != st.Text {
			b.WriteString("raw: " + strconv.Quote(st.Text) + "\n")
		}
	}
	return b.String()
}

// itemVariants are a real item without its title, its link, both, and
// everything textual, since feeds leave out any of them.
func itemVariants(it syndicate.Item) []syndicate.Item {
	noTitle, noLink, neither, bare := it, it, it, it
	noTitle.Title = ""
	noLink.Link = ""
	neither.Title, neither.Link = "", ""
	bare.Title, bare.Link, bare.Summary = "", "", ""
	return []syndicate.Item{noTitle, noLink, neither, bare}
}

// checkFeedStatus asserts what the server would accept for one real item.
func checkFeedStatus(t *testing.T, it syndicate.Item, st Status, err error, lim Limits) {
	t.Helper()
	if errors.Is(err, errNothingToShow) {
		if _, ok := CleanLink(it.Link, UTM{}); ok || script.Clean(it.Title+it.Summary, false) != "" || len(media(it, Format{}, lim, "")) > 0 {
			t.Errorf("item %s has something to show: %v", it.Key, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Render %s (title %q, link %q): %v", it.Key, it.Title, it.Link, err)
	}
	checkStatus(t, st, lim, Format{}, it)
	if strings.TrimSpace(hideMarks.Replace(st.Text)) == "" && len(st.Media) == 0 {
		t.Fatalf("blank status for %s", it.Key)
	}
	if title := script.Clean(it.Title, false); title != "" {
		w, _, _ := strings.Cut(title, " ")
		w = string([]rune(w)[:min(len([]rune(w)), 3)])
		if !strings.Contains(st.Text, w) {
			t.Errorf("status lacks the title %q: %q", title, st.Text)
		}
	}
	if link, ok := CleanLink(it.Link, UTM{}); ok && st.Limit >= 500 && !strings.Contains(st.Text, link) {
		t.Errorf("status lacks the link %s: %q", link, st.Text)
	}
}

// TestRenderVideoThatIsTheArticle covers YouTube channel feeds, whose
// article link is the video page over http while the video is https.
func TestRenderVideoThatIsTheArticle(t *testing.T) {
	it := syndicate.Item{
		Title:  "Episode 71",
		Link:   "http://www.youtube.com/watch?v=AFA8ZtMwrvc",
		Videos: []syndicate.Video{{URL: "https://www.youtube.com/watch?v=AFA8ZtMwrvc", Provider: "youtube"}},
	}
	for _, f := range []Format{{}, {UTM: UTM{Source: "mastodon"}}} {
		st, err := Render(it, f, DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(st.Text, "▶") {
			t.Errorf("UTM %+v: video line repeats the article link: %q", f.UTM, st.Text)
		}
	}
	it.Videos = append([]syndicate.Video{{URL: "https://www.youtube.com/watch?v=other"}}, it.Videos...)
	st, _ := Render(it, Format{}, DefaultLimits())
	if !strings.Contains(st.Text, "▶ https://www.youtube.com/watch?v=other") {
		t.Errorf("another video is not linked: %q", st.Text)
	}
}

func TestRenderNothingToShow(t *testing.T) {
	for _, it := range []syndicate.Item{
		{Key: "guid:1"},
		{Key: "guid:2", Title: " \u200b ", Summary: "\u202e", Link: "javascript:alert(1)"},
	} {
		if _, err := Render(it, Format{}, DefaultLimits()); !errors.Is(err, errNothingToShow) {
			t.Errorf("%s: err %v, want errNothingToShow", it.Key, err)
		}
	}
	// An image alone is a status the server accepts.
	st, err := Render(syndicate.Item{Key: "guid:3", Image: &syndicate.Image{URL: "https://example.org/i.jpg", Alt: "A rally"}}, Format{}, DefaultLimits())
	if err != nil || len(st.Media) != 1 {
		t.Errorf("image-only item: %+v, %v", st, err)
	}
	if _, err := Render(syndicate.Item{Key: "guid:4", Link: "https://example.org/a"}, Format{}, DefaultLimits()); err != nil {
		t.Errorf("link-only item: %v", err)
	}
}
