package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
)

// hostileFeed is one feed of a hostile theme: a file kept in
// testdata/hostile, or one generated at run time.
type hostileFeed struct {
	id          string
	file        string
	gen         func(base string, now time.Time) []byte
	contentType string
	// language is the operator's language for the feed.
	language string
	// heavy feeds are served with an ETag, so that the second run, which
	// checks that nothing is posted twice, is answered 304 rather than
	// parsing megabytes again.
	heavy bool
}

// hostileTheme is one kind of attack, in one feed or a few, served next to
// the canary feed.
type hostileTheme struct {
	name  string
	feeds []hostileFeed
	// posted mark the theme's items that must be posted, once on each
	// platform: a piece of the article link, or of the title for an item
	// without a link. Nothing else of the theme may be posted.
	posted []string
	// absent must appear in no post.
	absent []string
	// failing maps the feeds that must fail to a piece of their error;
	// every other feed must be read.
	failing map[string]string
	// check makes the theme's own assertions on what was posted.
	check func(t *testing.T, p hostilePosts)
}

// hostilePosts is what the stand-ins hold after a run.
type hostilePosts struct {
	tg []telegramfake.Message
	md []mastodonfake.Status
	// entityFetches counts requests for the external entities the
	// billion-laughs feed declares.
	entityFetches int
}

// canaryPosts mark the canary feed's items.
func canaryPosts() []string {
	return []string{"canary.example/2026/council-meets/", "canary.example/2026/library-reopens/", "canary.example/2026/quiet-weekend/"}
}

func hostileThemes() []hostileTheme {
	kept := func(id, file string) hostileFeed { return hostileFeed{id: id, file: file} }
	return []hostileTheme{
		{
			name:   "markup",
			feeds:  []hostileFeed{kept("markup", "markup.xml")},
			posted: []string{"/markup/script/", "/markup/unclosed/", "/markup/overlap/", "/markup/attributes/", "/markup/cdata/"},
			absent: []string{"INJECTED", "javascript:", "alert(", "display: none", "<iframe", "evil.example"},
			check: func(t *testing.T, p hostilePosts) {
				p.wantText(t, "/markup/script/", "Visible paragraph after a script.", "still visible")
				p.wantText(t, "/markup/unclosed/", "Open paragraph", "never closed")
				p.wantText(t, "/markup/overlap/", "one", "two", "three", "stray closers", "ten")
				// Code the article shows is text, escaped for Telegram.
				p.wantText(t, "/markup/cdata/", "after the split", "<script>shown as code</script>")
			},
		},
		{
			name:   "entities",
			feeds:  []hostileFeed{kept("entities", "entities.xml")},
			posted: []string{"/entities/numeric/", "/entities/named/", "/entities/unterminated/", "/entities/cdata/"},
			// What was escaped twice was meant as text and shows as text;
			// references to no character are dropped.
			absent: []string{"&eacute;", "&hellip;", "\x00", "\x1b", "\ufffd", "\U0010ffff"},
			check: func(t *testing.T, p hostilePosts) {
				p.wantText(t, "/entities/numeric/", "’curly’", "ABC", "€5", "€6", "zero and , surrogate , beyond Unicode , huge ,")
				p.wantText(t, "/entities/named/", "été … space © — →", "Café & crème", "<b>double-escaped tag</b>",
					"&amp; triple", "ÆßΩ♥", "<script>INJECTED-ENTITY-SCRIPT</script>")
				p.wantText(t, "/entities/unterminated/", "AT&T & © 5 < 6 & more", "Bare & ampersands && here")
				p.wantText(t, "/entities/cdata/", "Fish & chips <3 😀 été")
			},
		},
		{
			name:  "titles",
			feeds: []hostileFeed{kept("titles", "titles.xml"), kept("titles-atom", "titles-atom.xml")},
			posted: []string{"/titles/comparison/", "/titles/cdata/", "/titles/closers/", "/titles/only-signs/",
				"/titles-atom/text/", "/titles-atom/html/", "/titles-atom/xhtml/"},
			absent: []string{"INJECTED-TITLE-SCRIPT", "INJECTED-ATOM-SCRIPT", "<script", "&lt;", "&amp;"},
			check: func(t *testing.T, p hostilePosts) {
				p.wantText(t, "/titles/comparison/", "AT&T < Verizon && 1 < 2 > 0")
				p.wantText(t, "/titles/cdata/", "Tom & Jerry <3")
				p.wantText(t, "/titles/only-signs/", "<<<&&&>>>", "{{ .Link }} %s %v")
				p.wantText(t, "/titles-atom/xhtml/", "XHTML title", "bold")
				// The only links are to the article and the share targets,
				// never one a title wrote.
				for _, m := range p.tg {
					for _, e := range append(m.Entities, m.CaptionEntities...) {
						if strings.Contains(e.URL, "evil.example") {
							t.Errorf("a title made a link to %s", e.URL)
						}
					}
				}
			},
		},
		{
			name:   "huge title",
			feeds:  []hostileFeed{{id: "huge-title", gen: hugeTitleFeed, heavy: true}},
			posted: []string{"/huge-title/words/", "/huge-title/unbroken/"},
			check: func(t *testing.T, p hostilePosts) {
				p.wantText(t, "/huge-title/words/", "Huge title of words", "A short summary under a title")
				p.wantText(t, "/huge-title/unbroken/", "Huge unbroken title", "👩‍👩‍👧‍👦")
			},
		},
		{
			name: "huge body",
			feeds: []hostileFeed{
				{id: "huge-body", gen: func(_ string, now time.Time) []byte { return hugeBodyFeed("huge-body", 10_000_000, now) }, heavy: true},
				{id: "over-cap", gen: func(_ string, now time.Time) []byte { return hugeBodyFeed("over-cap", 11<<20, now) }, heavy: true},
			},
			posted:  []string{"/huge-body/huge/", "/huge-body/ordinary/"},
			failing: map[string]string{"over-cap": "too large"},
			check: func(t *testing.T, p hostilePosts) {
				p.wantText(t, "/huge-body/huge/", "Sentence after sentence & word after word")
			},
		},
		{
			name:  "invisible and direction controls",
			feeds: []hostileFeed{kept("invisible", "invisible.xml")},
			posted: []string{"/invisible/rlo-start/", "/invisible/embeddings/", "/invisible/isolates/", "/invisible/zero-width/",
				"/invisible/title-all-invisible/", "/invisible/rtl/", "/invisible/raw/"},
			check: func(t *testing.T, p hostilePosts) {
				p.wantText(t, "/invisible/rlo-start/", "Override opened and never closed", "would reverse the link")
				p.wantText(t, "/invisible/embeddings/", "Invoice for fdp.exe and LRO LRE RLE left open", "never popped")
				p.wantText(t, "/invisible/isolates/", "Isolates opened twice and a first strong once closed", "then an isolate left open")
				p.wantText(t, "/invisible/zero-width/", "Zerowidth", "joiners", "soft", "hyphen", "Summary hidden behind zero-width characters.")
				p.wantText(t, "/invisible/title-all-invisible/", "nothing but invisible characters")
				p.wantText(t, "/invisible/rtl/", "عنوان", "مع تجاوز", "forced left to right")
				p.wantText(t, "/invisible/raw/", "Raw override and raw zerowidth in the bytes")
			},
		},
		{
			name:   "graphemes at every cut",
			feeds:  []hostileFeed{{id: "graphemes", gen: graphemeFeed}},
			posted: []string{"/graphemes/0/", "/graphemes/1/", "/graphemes/2/", "/graphemes/3/", "/graphemes/4/", "/graphemes/5/"},
			check: func(t *testing.T, p hostilePosts) {
				for _, l := range p.labelled() {
					checkClusters(t, l.where, l.text)
				}
			},
		},
		{
			name:   "invalid UTF-8",
			feeds:  []hostileFeed{kept("invalid-utf8", "invalid-utf8.xml")},
			posted: []string{"/utf8/broken/", "/utf8/controls/", "/utf8/cut-emoji/"},
			absent: []string{"\ufffd", "\x00", "\x01", "\x1b", "\x7f", "\u0085", "\u009b"},
			check: func(t *testing.T, p hostilePosts) {
				p.wantText(t, "/utf8/broken/", "Broken", "bytes", "a lone continuation", "beyond Unicode")
				p.wantText(t, "/utf8/controls/", "characters and a NUL", "vertical tab")
			},
		},
		{
			name: "wrong encoding declarations",
			feeds: []hostileFeed{
				kept("enc-1256", "encoding-1256-is-utf8.xml"),
				// Its operator knows it is in Russian.
				{id: "enc-1251", file: "encoding-utf8-is-1251.xml", language: "ru"},
				kept("enc-utf16", "encoding-utf16-is-utf8.xml"),
				kept("enc-unknown", "encoding-unknown-name.xml"),
				{id: "enc-header", file: "encoding-header-latin1.xml", contentType: "application/rss+xml; charset=ISO-8859-1"},
				kept("enc-bom", "encoding-utf16-bom-declared-utf8.xml"),
			},
			posted: []string{"/encoding/declared-1256-is-utf8/", "/encoding/declared-utf8-is-1251/", "/encoding/declared-utf16-is-utf8/",
				"/encoding/unknown-name/", "/encoding/header-latin1/", "/encoding/utf16-bom/"},
			absent: []string{"\ufffd", "Ã", "Ø§"},
			check: func(t *testing.T, p hostilePosts) {
				p.wantText(t, "/encoding/declared-1256-is-utf8/", "إضراب العمال يدخل يومه الثالث")
				p.wantText(t, "/encoding/declared-utf8-is-1251/", "Рабочие продолжают забастовку")
				p.wantText(t, "/encoding/declared-utf16-is-utf8/", "Shqipëri: punëtorët vazhdojnë grevën")
				p.wantText(t, "/encoding/unknown-name/", "اعتصاب کارگران وارد سومین روز شد")
				p.wantText(t, "/encoding/header-latin1/", "Café in Zürich: €5 coffee", "日本語")
				p.wantText(t, "/encoding/utf16-bom/", "Tromsø: ærlig talt, 😀 in UTF-16")
			},
		},
		{
			name:   "500 categories",
			feeds:  []hostileFeed{{id: "categories", gen: func(_ string, now time.Time) []byte { return categoriesFeed(now) }}},
			posted: []string{"/categories/hostile/", "/categories/plain/"},
			absent: []string{"INJECTED", "<script", "\u202e"},
			check: func(t *testing.T, p hostilePosts) {
				for _, s := range p.md {
					if len(s.Tags) > 5 {
						t.Errorf("status %s files under %d hashtags, want at most 5: %v", s.ID, len(s.Tags), s.Tags)
					}
				}
				for _, m := range p.tg {
					if n := strings.Count(m.Text+m.Caption, "#"); n > 5 {
						t.Errorf("Telegram message %d has %d hashtags, want at most 5", m.MessageID, n)
					}
				}
			},
		},
		{
			name:  "duplicate and missing GUIDs",
			feeds: []hostileFeed{kept("guids", "guids.xml")},
			// The verbatim duplicate is the same item; the third item with
			// the GUID shares the second's link, so it is that article.
			posted: []string{"/guids/shared-a/", "/guids/shared-b/", "/guids/no-guid/", "GUIDs: no GUID and no link\n",
				"GUIDs: no GUID and no link either", "/guids/empty-guid/", "/guids/blank-guid/", "/guids/long-guid/",
				// A relative permalink is no link: the post has none.
				"GUIDs: a relative permalink GUID and no link"},
		},
		{
			name:  "dates",
			feeds: []hostileFeed{kept("dates", "dates.xml")},
			// Dates ahead are taken as the time the item was first seen;
			// items dated before max_age (72h), the epoch and earlier
			// included, are never posted; an item without a date the
			// parser understands is new when it is first seen.
			posted: []string{"/dates/two-days-ahead/", "/dates/2999/", "/dates/9999/", "/dates/dc-future/", "/dates/recent/",
				"/dates/garbage/", "/dates/wordpress-null/"},
			absent: []string{"/dates/four-days/", "/dates/epoch/", "/dates/1969/", "/dates/1066/"},
		},
		{
			name:   "mentions",
			feeds:  []hostileFeed{kept("mentions", "mentions.xml")},
			posted: []string{"/mentions/title/", "/mentions/rtl/"},
			// The stand-in reads mentions as Mastodon does
			// (Account::MENTION_RE in app/models/account.rb): '@' then a
			// user name character, which the renderer's word joiner is not.
			check: func(t *testing.T, p hostilePosts) {
				for _, s := range p.md {
					if len(s.Mentions) > 0 {
						t.Errorf("status %s mentions %v:\n%s", s.ID, s.Mentions, s.Text)
					}
				}
				p.wantText(t, "/mentions/title/", "Gargron", "mastodon.social says hello", "https://mastodon.social/@Gargron")
			},
		},
		{
			name:   "billion laughs and external entities",
			feeds:  []hostileFeed{kept("laughs", "billion-laughs.xml")},
			posted: []string{"/laughs/title/", "/laughs/external/", "/laughs/ordinary/"},
			absent: []string{"lollollol", "root:", "ENTITY-FETCHED"},
			check: func(t *testing.T, p hostilePosts) {
				if p.entityFetches != 0 {
					t.Errorf("the parser fetched %d external entities", p.entityFetches)
				}
				p.wantText(t, "/laughs/ordinary/", "Nothing to expand here.")
			},
		},
		{
			name: "deep nesting",
			feeds: []hostileFeed{
				{id: "nesting", gen: func(_ string, now time.Time) []byte { return deepNestingFeed(now) }, heavy: true},
				{id: "nesting-json", gen: func(_ string, now time.Time) []byte { return deepJSONFeed(now) }, contentType: "application/feed+json", heavy: true},
			},
			posted: []string{"/nesting/unknown/", "/nesting/extension/", "/nesting/html/", "/nesting/ordinary/"},
			// The JSON decoder refuses to nest deeper than 10,000: the
			// feed fails as a broken one.
			failing: map[string]string{"nesting-json": "exceeded max depth"},
			check: func(t *testing.T, p hostilePosts) {
				p.wantText(t, "/nesting/html/", "Before the nest.", "deep text")
			},
		},
	}
}

// TestHostileCorpus runs the worker once per hostile theme, over the
// theme's feeds and the canary feed, against both platform stand-ins:
// the run ends well, the canary's items are posted once each, every call
// is accepted, every post is valid UTF-8 within the platforms' limits and
// with no direction control left open, and a second run posts nothing.
func TestHostileCorpus(t *testing.T) {
	img := testPNG(t)
	for _, th := range hostileThemes() {
		t.Run(th.name, func(t *testing.T) { runHostileTheme(t, th, img) })
	}
}

func runHostileTheme(t *testing.T, th hostileTheme, img []byte) {
	now := time.Now()
	type served struct {
		body        []byte
		contentType string
		etag        string
	}
	feeds := map[string]served{}
	var entityFetches atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feeds/{id}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := feeds[r.PathValue("id")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if f.etag != "" {
			if r.Header.Get("If-None-Match") == f.etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", f.etag)
		}
		w.Header().Set("Content-Type", f.contentType)
		w.Write(f.body)
	})
	mux.HandleFunc("GET /img/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") == "missing.png" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
	})
	mux.HandleFunc("/entity/", func(w http.ResponseWriter, r *http.Request) {
		entityFetches.Add(1)
		w.Write([]byte("ENTITY-FETCHED"))
	})
	site := httptest.NewServer(mux)
	defer site.Close()

	all := append([]hostileFeed{{id: "canary", file: "canary.xml"}}, th.feeds...)
	var ids []string
	langs := map[string]string{"canary": "en"}
	for _, f := range all {
		if f.language != "" {
			langs[f.id] = f.language
		}
		var body []byte
		if f.gen != nil {
			body = f.gen(site.URL, now)
		} else {
			raw, err := os.ReadFile(filepath.Join("testdata", "hostile", f.file))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = expand(raw, site.URL, now); err != nil {
				t.Fatalf("%s: %v", f.file, err)
			}
		}
		if f.contentType == "" {
			f.contentType = "application/rss+xml"
		}
		etag := ""
		if f.heavy {
			etag = fmt.Sprintf(`"%s-%d"`, f.id, len(body))
		}
		feeds[f.id] = served{body, f.contentType, etag}
		ids = append(ids, f.id)
	}

	// The channel's flood limit is raised, here and in the config alike,
	// so that a theme's posts go out at once: the worker must still keep
	// within it.
	tg := telegramfake.New(telegramfake.Options{Tokens: []string{"123456:ABCDEF"}, FloodPerChatPerMinute: 600,
		Chats: []telegramfake.Chat{{ID: -1001000000001, Username: "freedomvoice_en"}}})
	defer tg.Close()
	md := mastodonfake.New(mastodonfake.Options{Tokens: map[string]string{"mastodon-secret": "freedomvoice"}})
	defer md.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, hostileConfig(site.URL, ids, langs, tg.URL(), md.URL(), filepath.Join(dir, "state.db")))

	// The deadline only stops a hung run; nothing is asserted about time.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := runCmd(t, ctx, platformVars, "run", "--config", cfg, "--once")
	if r.code != 0 || strings.Contains(r.stderr, "panic") {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	checkCalls(t, tg, md)
	checkState(t, ctx, cfg, ids, th.failing)

	p := hostilePosts{tg: tg.Messages("@freedomvoice_en"), md: md.Statuses(), entityFetches: int(entityFetches.Load())}
	want := append(canaryPosts(), th.posted...)
	if len(p.tg) != len(want) || len(p.md) != len(want) {
		t.Errorf("%d Telegram messages and %d statuses, want %d of each (%d canary)", len(p.tg), len(p.md), len(want), len(canaryPosts()))
	}
	for _, w := range want {
		if n := p.countTelegram(w); n != 1 {
			t.Errorf("%q is in %d Telegram messages, want 1", w, n)
		}
		if n := p.countMastodon(w); n != 1 {
			t.Errorf("%q is in %d statuses, want 1", w, n)
		}
	}
	for _, a := range th.absent {
		for _, s := range p.texts() {
			if strings.Contains(s, a) {
				t.Errorf("%q was posted:\n%s", a, s)
			}
		}
	}
	p.checkPosts(t, md)
	if th.check != nil {
		th.check(t, p)
	}
	if t.Failed() {
		t.Logf("log of the run:\n%s", r.stderr)
	}

	// Nothing is posted twice, however the items were keyed.
	r = runCmd(t, ctx, platformVars, "run", "--config", cfg, "--once")
	if r.code != 0 || strings.Contains(r.stderr, "panic") {
		t.Fatalf("second run --once = %d\n%s", r.code, r.stderr)
	}
	if n, m := len(tg.Messages("@freedomvoice_en")), len(md.Statuses()); n != len(p.tg) || m != len(p.md) {
		t.Errorf("the second run posted again: %d Telegram messages then %d, %d statuses then %d", len(p.tg), n, len(p.md), m)
	}
	checkCalls(t, tg, md)
}

// hostileConfig routes the canary and the theme's feeds to one Telegram
// channel and one Mastodon account, with share buttons and links, and a
// backfill large enough to post every item of a first run.
func hostileConfig(site string, feeds []string, langs map[string]string, telegramURL, mastodonURL, dbPath string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "store:\n  embedded:\n    path: %s\nnetwork:\n  media:\n    allow_private: true\nfeeds:\n", dbPath)
	for _, id := range feeds {
		fmt.Fprintf(&b, "  - id: %s\n    url: %s/feeds/%s\n    page_image: false\n", id, site, id)
		if l := langs[id]; l != "" {
			fmt.Fprintf(&b, "    language: %s\n", l)
		}
	}
	fmt.Fprintf(&b, `telegram:
  bots:
    - id: main
      token: ${TELEGRAM_TOKEN}
      api_url: %s
  channels:
    - id: tg-en
      chat: "@freedomvoice_en"
      per_minute: 600
      format:
        buttons: [read, telegram, whatsapp, x, facebook, email]
        email_share_url: https://share.example/email
mastodon:
  accounts:
    - id: md-en
      server: %s
      access_token: ${MASTODON_TOKEN}
      format:
        share_links: [telegram, whatsapp, x]
        telegram_channel: tg-en
routes:
  - feeds: [%s]
    to: [tg-en, md-en]
    backfill: 50
`, telegramURL, mastodonURL, strings.Join(feeds, ", "))
	return b.String()
}

// checkCalls fails the test for every call a stand-in refused or found
// outside its API description.
func checkCalls(t *testing.T, tg *telegramfake.Server, md *mastodonfake.Server) {
	t.Helper()
	for _, c := range tg.Refused() {
		t.Errorf("Telegram refused %s: %d %s", c.Method, c.Code, c.Description)
	}
	for _, r := range md.Requests() {
		if r.Status >= 400 {
			t.Errorf("Mastodon refused %s: %d", r.Endpoint, r.Status)
		}
	}
	for _, e := range md.SpecErrors() {
		t.Errorf("Mastodon request outside the API description: %s", e)
	}
}

// checkState reads the store as status does: no delivery is left queued,
// parked or unknown, no destination paused, and only the feeds meant to
// fail did, each with the error expected.
func checkState(t *testing.T, ctx context.Context, cfg string, feeds []string, failing map[string]string) {
	t.Helper()
	r := runCmd(t, ctx, platformVars, "status", "--config", cfg, "--json")
	var rep statusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
		t.Fatalf("status --json = %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	for _, f := range rep.Feeds {
		want, fails := failing[f.ID]
		switch {
		case fails && (f.Failures == 0 || !strings.Contains(f.LastError, want)):
			t.Errorf("feed %s: %d failures, last error %q; want it to fail with %q", f.ID, f.Failures, f.LastError, want)
		case !fails && (f.Failures != 0 || !f.Polled):
			t.Errorf("feed %s: polled %v, %d failures, last error %q", f.ID, f.Polled, f.Failures, f.LastError)
		}
	}
	if len(rep.Feeds) != len(feeds) {
		t.Errorf("status lists %d feeds, want %d", len(rep.Feeds), len(feeds))
	}
	for _, d := range rep.Destinations {
		if d.Queued+d.Sending+d.Parked+d.Unknown != 0 || d.PausedReason != "" {
			t.Errorf("destination %+v", d)
		}
	}
	for _, d := range rep.Deliveries {
		t.Errorf("delivery %s to %s is %s: %s", d.Article, d.Destination, d.Status, d.Reason)
	}
}

// telegramText is everything a Telegram message shows or links to.
func telegramText(m telegramfake.Message) string {
	parts := []string{m.Text, m.Caption, m.Media}
	for _, e := range append(m.Entities, m.CaptionEntities...) {
		parts = append(parts, e.URL)
	}
	if m.ReplyMarkup != nil {
		for _, row := range m.ReplyMarkup.InlineKeyboard {
			for _, b := range row {
				parts = append(parts, b.Text, b.URL)
			}
		}
	}
	return strings.Join(parts, "\n")
}

func (p hostilePosts) countTelegram(mark string) int {
	n := 0
	for _, m := range p.tg {
		if strings.Contains(telegramText(m), mark) {
			n++
		}
	}
	return n
}

func (p hostilePosts) countMastodon(mark string) int {
	n := 0
	for _, s := range p.md {
		if strings.Contains(s.Text+"\n", mark) {
			n++
		}
	}
	return n
}

// texts are every text posted: message texts, captions, button labels
// and the texts their share links carry, statuses, content warnings, alt
// texts and the texts of share links in statuses.
func (p hostilePosts) texts() []string {
	var out []string
	for _, t := range p.labelled() {
		out = append(out, t.text)
	}
	return out
}

// labelledText is a text posted and where.
type labelledText struct{ where, text string }

func (p hostilePosts) labelled() []labelledText {
	var out []labelledText
	add := func(where, text string) { out = append(out, labelledText{where, text}) }
	for _, m := range p.tg {
		where := fmt.Sprintf("Telegram message %d", m.MessageID)
		add(where+" text", m.Text)
		add(where+" caption", m.Caption)
		if m.ReplyMarkup != nil {
			for _, row := range m.ReplyMarkup.InlineKeyboard {
				for _, b := range row {
					add(where+" button", b.Text)
					for _, q := range queryTexts(b.URL) {
						add(where+" button link", q)
					}
				}
			}
		}
	}
	for _, s := range p.md {
		where := "status " + s.ID
		add(where, s.Text)
		add(where+" content warning", s.SpoilerText)
		for _, a := range s.Media {
			add(where+" alt text", a.Description)
		}
		for _, u := range mastodonfake.URLs(s.Text) {
			for _, q := range queryTexts(u) {
				add(where+" share link", q)
			}
		}
	}
	return out
}

// queryTexts are the values of a share link's query (title, text, body).
func queryTexts(link string) []string {
	u, err := url.Parse(link)
	if err != nil {
		return nil
	}
	var out []string
	for k, vs := range u.Query() {
		if k == "url" || k == "u" {
			continue
		}
		out = append(out, vs...)
	}
	return out
}

// visible is text as a reader sees it: without the invisible marks the
// renderers write around runs of the other direction and after '@' and
// '#', and without the line structure.
func visible(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u200e', '\u200f', '\u2066', '\u2067', '\u2068', '\u2069', '\u2060':
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// wantText checks that the Telegram message and the status of the item
// marked by mark show each of texts.
func (p hostilePosts) wantText(t *testing.T, mark string, texts ...string) {
	t.Helper()
	for _, m := range p.tg {
		if !strings.Contains(telegramText(m), mark) {
			continue
		}
		for _, want := range texts {
			if !strings.Contains(visible(m.Text+m.Caption), want) {
				t.Errorf("the Telegram message of %s lacks %q:\n%s", mark, want, m.Text+m.Caption)
			}
		}
	}
	for _, s := range p.md {
		if !strings.Contains(s.Text, mark) {
			continue
		}
		for _, want := range texts {
			if !strings.Contains(visible(s.Text), want) {
				t.Errorf("the status of %s lacks %q:\n%s", mark, want, s.Text)
			}
		}
	}
}

// checkPosts checks every post against the platforms' limits and for
// direction controls that would reorder or hide what follows them.
func (p hostilePosts) checkPosts(t *testing.T, md *mastodonfake.Server) {
	t.Helper()
	for _, m := range p.tg {
		if n := len(utf16.Encode([]rune(m.Text))); n > 4096 {
			t.Errorf("message %d: text of %d UTF-16 units", m.MessageID, n)
		}
		if n := len(utf16.Encode([]rune(m.Caption))); n > 1024 {
			t.Errorf("message %d: caption of %d UTF-16 units", m.MessageID, n)
		}
		checkDirection(t, fmt.Sprintf("message %d", m.MessageID), m.Text+m.Caption, false)
		if m.ReplyMarkup != nil {
			for _, row := range m.ReplyMarkup.InlineKeyboard {
				for _, b := range row {
					checkDirection(t, fmt.Sprintf("message %d button", m.MessageID), b.Text, false)
					if !utf8.ValidString(b.URL) || !strings.HasPrefix(b.URL, "https://") {
						t.Errorf("message %d: button URL %q", m.MessageID, b.URL)
					}
				}
			}
		}
	}
	for _, s := range p.md {
		if n := md.Length(s.SpoilerText, s.Text); n > 500 {
			t.Errorf("status %s: %d characters", s.ID, n)
		}
		checkDirection(t, "status "+s.ID, s.Text, true)
		checkDirection(t, "status "+s.ID+" content warning", s.SpoilerText, false)
		for _, a := range s.Media {
			if n := uniseg.GraphemeClusterCount(a.Description); n > 1500 {
				t.Errorf("status %s: alt text of %d characters", s.ID, n)
			}
			checkDirection(t, "status "+s.ID+" alt text", a.Description, false)
		}
	}
	for _, s := range p.texts() {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 posted: %q", s)
		}
	}
}

// checkDirection fails for a direction control that could reorder or hide
// the text after it: any embedding or override (U+202A to U+202E), a pop
// with nothing to close, or an isolate still open at the end of its line,
// except (with urlMayEnd, for Mastodon, whose link parser would take a
// closing mark into the link) one over left-to-right text that ends the
// line with a URL.
func checkDirection(t *testing.T, what, s string, urlMayEnd bool) {
	t.Helper()
	for i, line := range strings.Split(s, "\n") {
		var open []int // byte offsets of the isolates open
		for j, r := range line {
			switch r {
			case '\u202a', '\u202b', '\u202c', '\u202d', '\u202e':
				t.Errorf("%s line %d: direction control %U posted: %q", what, i+1, r, line)
			case '\u2066', '\u2067', '\u2068':
				open = append(open, j)
			case '\u2069':
				if len(open) == 0 {
					t.Errorf("%s line %d: a pop closes nothing: %q", what, i+1, line)
					continue
				}
				open = open[:len(open)-1]
			}
		}
		for _, at := range open {
			rest := line[at+len("\u2066"):]
			if urls := mastodonfake.URLs(rest); urlMayEnd && len(urls) > 0 && strings.HasSuffix(rest, urls[len(urls)-1]) && !hasRTL(rest) {
				continue
			}
			t.Errorf("%s line %d: an isolate is left open over %q", what, i+1, rest)
		}
	}
}

// hasRTL reports letters of a right-to-left script.
func hasRTL(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko)
	})
}

// checkClusters fails when text holds a piece of one of the clusters the
// grapheme feed is made of: a cut inside a cluster leaves one.
func checkClusters(t *testing.T, where, s string) {
	t.Helper()
	// The segmenter's own clusters of each are whole (it may split a
	// Devanagari conjunct that newer Unicode keeps together).
	whole := map[string]bool{}
	for _, c := range graphemeClusters() {
		g := uniseg.NewGraphemes(c)
		for g.Next() {
			whole[g.Str()] = true
		}
	}
	gr := uniseg.NewGraphemes(s)
	for gr.Next() {
		c := gr.Str()
		if whole[c] || utf8.RuneCountInString(c) == 1 && c[0] < 0x80 {
			continue
		}
		for _, w := range graphemeClusters() {
			if strings.Contains(w, c) {
				t.Errorf("%s: a cluster was cut: %+q is a piece of %+q in\n%s", where, c, w, s)
				break
			}
		}
	}
}
