package feed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// sharedFixture reads a fixture whose licence keeps it out of this
// repository from the shared folder next to the checkout, and skips the
// test when that folder is absent.
func sharedFixture(t *testing.T, name string) []syndicate.Item {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found; skipping checks of GPL/LGPL feed fixtures")
		}
		dir = parent
	}
	path := filepath.Join(dir, "..", "shared", "fixtures", "feeds", name)
	body, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("../shared not present (%s): skipping checks of the GPL/LGPL fixture %s, which is not copied into this repository", path, name)
	}
	if err != nil {
		t.Fatal(err)
	}
	items, _, _, err := parseFixture(t, name, body)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	checkInvariants(t, items)
	return items
}

func TestSharedNewsletterWithoutGUIDs(t *testing.T) {
	items := sharedFixture(t, "newsletter-pdf-links-no-guid-bad-dates.xml")
	if len(items) != 111 {
		t.Fatalf("%d items, want 111", len(items))
	}
	keys, articles := map[string]bool{}, map[string]bool{}
	withPDF := 0
	for _, it := range items {
		if !strings.HasPrefix(it.Key, "link:") {
			t.Errorf("key %q is not a link key", it.Key)
		}
		keys[it.Key] = true
		articles[it.ArticleKey()] = true
		if len(it.Attachments) > 0 {
			withPDF++
		}
		if it.Published.IsZero() {
			t.Errorf("item %q: date not understood", it.Key)
		}
	}
	// Issues are anchors on one page: the fragment must keep them apart,
	// or every destination would see one article.
	if len(keys) != 111 || len(articles) != 111 {
		t.Fatalf("%d distinct keys, %d distinct article keys, want 111", len(keys), len(articles))
	}
	if withPDF != 47 {
		t.Errorf("%d issues with PDF attachments, want the 47 that link PDFs", withPDF)
	}
}

func TestSharedPersianKeepsZWNJ(t *testing.T) {
	items := sharedFixture(t, "persian-rtl-hoder-blog.xml")
	if len(items) != 7 {
		t.Fatalf("%d items", len(items))
	}
	zwnj := 0
	for _, it := range items {
		if strings.ContainsRune(it.Title+it.Summary, '\u200c') {
			zwnj++
		}
		if !strings.ContainsFunc(it.Title, func(r rune) bool { return unicode.Is(unicode.Arabic, r) }) {
			t.Errorf("title %q has no Persian letters", it.Title)
		}
	}
	if zwnj == 0 {
		t.Fatal("zero-width non-joiners lost")
	}
	if got := items[0].Categories; len(got) != 1 || got[0] != "iran" {
		t.Errorf("dc:subject categories %q", got)
	}
}

func TestSharedHebrewWindows1255(t *testing.T) {
	items := sharedFixture(t, "hebrew-rtl-windows1255-declared.xml")
	if len(items) != 19 {
		t.Fatalf("%d items", len(items))
	}
	for _, it := range items {
		if !strings.ContainsFunc(it.Title, func(r rune) bool { return unicode.Is(unicode.Hebrew, r) }) || strings.ContainsRune(it.Title+it.Summary, '\uFFFD') {
			t.Errorf("title %q not decoded", it.Title)
		}
		if it.Language != "he" || !strings.HasPrefix(it.Key, "link:") {
			t.Errorf("language %q key %q", it.Language, it.Key)
		}
	}
	if items[0].Title != "מפלצות בערוץ 2" {
		t.Errorf("first title %q", items[0].Title)
	}
}

func TestSharedWordPressNews(t *testing.T) {
	items := sharedFixture(t, "wordpress-org-news-gutenberg-youtube-crlf.xml")
	if len(items) != 10 {
		t.Fatalf("%d items", len(items))
	}
	videos, images := 0, 0
	for _, it := range items {
		for _, v := range it.Videos {
			// The news feed embeds a playlist.
			if v.Provider == "youtube" && strings.HasPrefix(v.URL, "https://www.youtube.com/playlist?list=PL") {
				videos++
			}
		}
		if it.Image != nil {
			images++
		}
		if it.Author == "" || len(it.Categories) == 0 || strings.Contains(it.Summary, "\r") {
			t.Errorf("item %q: author %q, categories %q, or CR left in summary", it.Title, it.Author, it.Categories)
		}
	}
	if videos != 1 || images < 3 {
		t.Errorf("%d YouTube videos, %d images", videos, images)
	}
}

func TestSharedMorningPaperSkipsGravatars(t *testing.T) {
	items := sharedFixture(t, "wordpress-com-morningpaper-media-pdf-links.xml")
	pdfs := 0
	for _, it := range items {
		for _, im := range append(it.Images, imageOrZero(it.Image)) {
			if strings.Contains(im.URL, "gravatar") {
				t.Errorf("avatar %q kept", im.URL)
			}
		}
		pdfs += len(it.Attachments)
	}
	if pdfs == 0 {
		t.Error("no PDF attachments")
	}
}

func TestSharedMissingGUID(t *testing.T) {
	items := sharedFixture(t, "rss-missing-guid.xml")
	if len(items) != 11 {
		t.Fatalf("%d items", len(items))
	}
	for _, it := range items {
		// One entry has no link either.
		if want := "link:"; it.Link == "" {
			want = "hash:"
			if !strings.HasPrefix(it.Key, want) {
				t.Errorf("key %q, want %s…", it.Key, want)
			}
		} else if it.Key != "link:"+it.Link {
			t.Errorf("key %q, want link:%s", it.Key, it.Link)
		}
	}
}

func TestSharedPeerTube(t *testing.T) {
	items := sharedFixture(t, "rss-peertube-video-enclosure-media-group.xml")
	for _, it := range items {
		if it.Image == nil || it.Image.Source != "media" {
			t.Errorf("item %q: thumbnail not used: %+v", it.Title, it.Image)
		}
		if len(it.Videos) != 0 || len(it.Attachments) != 0 {
			t.Errorf("torrents taken as videos or attachments: %+v %+v", it.Videos, it.Attachments)
		}
	}
}

func TestSharedNextcloud(t *testing.T) {
	items := sharedFixture(t, "wordpress-nextcloud-blog.xml")
	if len(items) != 10 {
		t.Fatalf("%d items", len(items))
	}
	images := 0
	for _, it := range items {
		if it.Image != nil {
			images++
		}
		if it.Summary == "" || it.Author == "" || len(it.Categories) == 0 {
			t.Errorf("item %q: summary %d bytes, author %q, categories %q", it.Title, len(it.Summary), it.Author, it.Categories)
		}
	}
	if images < 8 {
		t.Errorf("%d of 10 items with an image", images)
	}
}

func imageOrZero(im *syndicate.Image) syndicate.Image {
	if im == nil {
		return syndicate.Image{}
	}
	return *im
}
