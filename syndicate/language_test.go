package syndicate_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/langid"
)

const (
	arabicText = "الحكومة تعلن عن خطة جديدة لدعم المزارعين في المناطق الريفية. وقال الوزير إن التمويل سيبدأ الشهر المقبل."
	farsiText  = "دولت برنامه جدیدی برای حمایت از کشاورزان در مناطق روستایی اعلام کرد. وزیر گفت که بودجه از ماه آینده پرداخت می‌شود."
)

// edition is an item of an edition whose feed declares lang at channel level.
func edition(key string, hoursAgo int, lang string, from syndicate.LanguageFrom, text string) syndicate.Item {
	it := item(key, hoursAgo)
	it.Title, it.Summary = key+" "+text, text
	it.Language, it.LanguageFrom = lang, from
	return it
}

func postedLanguages(h *harness, dest string) []string {
	var out []string
	for _, p := range h.pubs[dest].posts {
		out = append(out, p.Item.Language+"/"+string(p.Item.LanguageFrom))
	}
	return out
}

// TestLanguageOfMisdeclaredEditions: Arabic and Farsi editions whose feeds
// declare en-US get their language from the text unless the operator set
// one (on the feed, which the source applies, or on the route); an item's
// own declaration that fits its text is kept.
func TestLanguageOfMisdeclaredEditions(t *testing.T) {
	var logs bytes.Buffer
	routes := []syndicate.Route{
		{Feeds: []string{"ar"}, To: []string{"ar-unset"}},
		{Feeds: []string{"fa"}, To: []string{"fa-unset"}},
		{Feeds: []string{"ar"}, To: []string{"ar-route"}, Language: "ar"},
		{Feeds: []string{"fa"}, To: []string{"fa-route"}, Language: "fa"},
		{Feeds: []string{"fa-op"}, To: []string{"fa-feed"}},
	}
	h := newHarness(t, routes...)
	h.langs = langid.New()
	h.logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h.src.set("ar", edition("old-ar", 10, "en-US", syndicate.LanguageFromFeed, arabicText))
	h.src.set("fa", edition("old-fa", 10, "en-US", syndicate.LanguageFromFeed, farsiText))
	h.src.set("fa-op", edition("old-fa-op", 10, "fa", syndicate.LanguageFromOperator, farsiText))
	// One engine for both polls, as a running worker has: the mismatch
	// is logged once per feed however many items show it.
	e := h.engine()
	if _, err := e.Once(context.Background()); err != nil {
		t.Fatal(err)
	}

	h.src.set("ar",
		edition("ar1", 3, "en-US", syndicate.LanguageFromFeed, arabicText),
		edition("ar2", 2, "en-US", syndicate.LanguageFromFeed, arabicText),
		edition("ar3", 1, "ar-EG", syndicate.LanguageFromItem, arabicText))
	h.src.set("fa", edition("fa1", 1, "en-US", syndicate.LanguageFromFeed, farsiText))
	// The operator said fa on the feed: trusted, never identified.
	h.src.set("fa-op", edition("fa-op1", 1, "fa", syndicate.LanguageFromOperator, farsiText))
	if _, err := e.Once(context.Background()); err != nil {
		t.Fatal(err)
	}

	equal(t, "ar unset", postedLanguages(h, "ar-unset"), []string{"ar/text", "ar/text", "ar-EG/item"})
	equal(t, "fa unset", postedLanguages(h, "fa-unset"), []string{"fa/text"})
	equal(t, "ar route", postedLanguages(h, "ar-route"), []string{"ar/operator", "ar/operator", "ar-EG/item"})
	equal(t, "fa route", postedLanguages(h, "fa-route"), []string{"fa/operator"})
	equal(t, "fa feed", postedLanguages(h, "fa-feed"), []string{"fa/operator"})

	out := logs.String()
	for _, feed := range []string{"feed=ar ", "feed=fa "} {
		if n := strings.Count(out, "feed declares a language its text is not written in"); n != 2 || !strings.Contains(out, feed) {
			t.Errorf("want one mismatch warning per misdeclared feed (2 in all, %s among them), got %d:\n%s", feed, n, out)
		}
	}
	if !strings.Contains(out, "set language: on the feed") || !strings.Contains(out, "declared=en-US") {
		t.Errorf("warning does not say what was declared and how to fix it:\n%s", out)
	}
}

// TestRouteLanguageFeedsTheFilter: a route's language is what its
// language filter sees.
func TestRouteLanguageFeedsTheFilter(t *testing.T) {
	h := newHarness(t,
		syndicate.Route{Feeds: []string{"x"}, To: []string{"sq"}, Language: "sq", Filter: syndicate.Filter{Languages: []string{"sq"}}},
		syndicate.Route{Feeds: []string{"x"}, To: []string{"en"}, Filter: syndicate.Filter{Languages: []string{"sq"}}})
	h.src.set("x", edition("old", 10, "en", syndicate.LanguageFromFeed, "Lajme"))
	h.once()
	h.src.set("x", edition("new", 1, "en", syndicate.LanguageFromFeed, "Lajme"))
	h.once()
	equal(t, "route with language", postedLanguages(h, "sq"), []string{"sq/operator"})
	equal(t, "route without", postedLanguages(h, "en"), nil)
}
