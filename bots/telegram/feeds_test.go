package telegram

import (
	"fmt"
	"github.com/syndicate-bot/syndicate/syndicate/script/scripttest"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/feed/feedtest"
	"github.com/syndicate-bot/syndicate/syndicate/script"
)

// feedGoldenItems caps the items a feed golden shows, so that the goldens
// of large feeds stay reviewable; every item is still checked.
const feedGoldenItems = 20

// feedPreviewGolden is the feed whose posts are also goldened with the
// image as a link preview instead of a photo.
const feedPreviewGolden = "wordpress-foreignpolicy-featured-image-enclosure.xml"

func TestRenderFeedFixtures(t *testing.T) {
	total, goldens := 0, map[string]bool{}
	for _, name := range feedtest.Names(t) {
		formats := map[string]Format{"": {}}
		if name == feedPreviewGolden {
			formats[".preview"] = Format{Image: ImagePreview}
		}
		items, err := feedtest.Items(t, name)
		if err != nil {
			t.Logf("%s: %v", name, err)
		}
		total += len(items)
		for suffix, f := range formats {
			base := strings.TrimSuffix(name, filepath.Ext(name)) + suffix
			goldens[base+".txt"] = true
			t.Run(base, func(t *testing.T) {
				got := renderFeed(t, name, items, err, f)
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
func renderFeed(t *testing.T, name string, items []syndicate.Item, fetchErr error, f Format) string {
	var b strings.Builder
	fmt.Fprintf(&b, "feed: %s\n", name)
	if f.Image != "" {
		fmt.Fprintf(&b, "image: %s\n", f.Image)
	}
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
		p, err := Render(it, f)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			checkFeedPost(t, it, p, err)
			for _, v := range itemVariants(it) {
				p, err := Render(v, f)
				checkFeedPost(t, v, p, err)
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
		b.WriteString(scripttest.ShowMarks(p.Preview()))
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

// checkFeedPost asserts what Telegram would accept for one real item.
func checkFeedPost(t *testing.T, it syndicate.Item, p Post, err error) {
	t.Helper()
	v := viewOf(it)
	if v.title == "" && v.summary == "" && v.link == "" {
		if err == nil || !strings.Contains(err.Error(), "nothing to show") {
			t.Fatalf("item with nothing to show: err %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Render %s (title %q, link %q): %v", it.Key, it.Title, it.Link, err)
	}
	assertValidPost(t, p)
	strs := []string{p.Text, p.Plain, p.FollowUpText, p.Photo}
	for _, row := range p.Keyboard {
		for _, btn := range row {
			strs = append(strs, btn.Text, btn.URL)
		}
	}
	for _, d := range p.Documents {
		strs = append(strs, d.Caption, d.FileName, d.URL)
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8: %q", s)
		}
	}
	if p.Method == MethodPhoto && !isWebURL(p.Photo) {
		t.Errorf("photo %q is not a web URL", p.Photo)
	}
	text, _, _ := telegramfake.ParseHTML(p.Text)
	if v.title != "" && !strings.Contains(text, firstWord(v.title)) {
		t.Errorf("post lacks the title %q:\n%s", v.title, text)
	}
}

// firstWord is a piece of the title every post shows, however much of the
// title was cut.
func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	r := []rune(w)
	return string(r[:min(len(r), 3)])
}

// TestRenderLinkOnly covers an item known only by its link (no title, no
// summary, no categories): the post must still have text.
func TestRenderLinkOnly(t *testing.T) {
	const link = "https://news.example.org/2026/05/13/untitled/?p=1&x=2"
	for _, lang := range []string{"en", "fa"} {
		it := syndicate.Item{Key: "guid:1", Link: link, Language: lang}
		for _, f := range []Format{{}, {Buttons: []string{}}, {Image: ImageNone, NoLinkPreview: true}} {
			p, err := Render(it, f)
			if err != nil {
				t.Fatalf("%s %+v: %v", lang, f, err)
			}
			assertValidPost(t, p)
			text, entities, _ := telegramfake.ParseHTML(p.Text)
			if !strings.Contains(text, link) || !strings.Contains(p.Plain, link) || len(entities) != 1 {
				t.Errorf("%s %+v: link not shown: %q (%d entities), plain %q", lang, f, text, len(entities), p.Plain)
			}
			if lang == "fa" && !strings.HasPrefix(text, string(script.RLM)) {
				t.Errorf("right-to-left post starts %q", text)
			}
		}
	}
}
