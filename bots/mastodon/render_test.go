package mastodon

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/syndicate-bot/syndicate/syndicate/script/scripttest"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/script"
	"github.com/syndicate-bot/syndicate/syndicate/share"
)

var update = flag.Bool("update", false, "rewrite golden files")

func loadItems(t testing.TB) map[string]syndicate.Item {
	t.Helper()
	files, err := filepath.Glob("testdata/items/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture items: %v", err)
	}
	items := map[string]syndicate.Item{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var it syndicate.Item
		if err := json.Unmarshal(b, &it); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		items[strings.TrimSuffix(filepath.Base(f), ".json")] = it
	}
	return items
}

func ptr[T any](v T) *T { return &v }

// goldenFormat exercises every optional part of the default layout.
var goldenFormat = Format{
	ShareLinks: []string{"whatsapp", "x", "facebook", "telegram"},
	Images:     ptr(2),
}

// checkStatus asserts what must hold for every rendered status, reading it
// the way the server does.
func checkStatus(t testing.TB, st Status, lim Limits, f Format, it syndicate.Item) {
	t.Helper()
	if !utf8.ValidString(st.Text) || !utf8.ValidString(st.SpoilerText) {
		t.Fatalf("invalid UTF-8 in %q", st.Text)
	}
	got := serverLength(st, lim)
	if got > lim.MaxCharacters {
		t.Fatalf("server counts %d > limit %d for %q", got, lim.MaxCharacters, st.Text)
	}
	if got > st.Length {
		t.Errorf("budgeted length %d below the server's count %d for %q", st.Length, got, st.Text)
	}
	if !f.AllowMentions {
		if m := mastodonfake.Mentions(st.Text); len(m) > 0 {
			t.Errorf("status would mention %v: %q", m, st.Text)
		}
	}
	var allowed []string
	for _, c := range it.Categories {
		if h, ok := script.Hashtag(c); ok {
			allowed = append(allowed, strings.ToLower(strings.TrimPrefix(h, "#")))
		}
	}
	for _, h := range mastodonfake.Hashtags(st.Text) {
		if !slices.Contains(allowed, strings.ToLower(h)) {
			t.Errorf("status files under hashtag %q the operator did not choose: %q", h, st.Text)
		}
	}
	urls := mastodonfake.URLs(st.Text)
	for _, u := range urls {
		if strings.HasPrefix(strings.ToLower(u), "javascript") {
			t.Errorf("javascript link %q", u)
		}
		// A direction mark or joiner taken into a link would break it.
		if strings.ContainsFunc(u, isInvisibleMark) {
			t.Errorf("server links %q, a mark included", u)
		}
	}
	if link, ok := CleanLink(it.Link, f.UTM); ok && strings.Contains(st.Text, link) && !slices.Contains(urls, link) {
		t.Errorf("server does not link %s whole in %q", link, st.Text)
	}
	if strings.ContainsAny(st.Text, "\u202e\u202a\u202c\u2067\u2068\u200b\x07") {
		t.Errorf("control characters kept: %q", st.Text)
	}
	// Isolates are the renderer's own, in right-to-left statuses only.
	if strings.ContainsAny(st.Text, "\u2066\u2069") && !strings.HasPrefix(st.Text, string(script.RLM)) {
		t.Errorf("isolates in a left-to-right status: %q", st.Text)
	}
}

// serverLength counts a status as the servers counting the way lim says
// do, and for the strict count as the strictest of them.
func serverLength(st Status, lim Limits) int {
	reserved := lim.CharactersReservedPerURL
	if reserved <= 0 {
		reserved = DefaultLimits().CharactersReservedPerURL
	}
	mastodon := mastodonfake.Length(st.SpoilerText, st.Text, reserved)
	pleroma := mastodonfake.PleromaLength(st.SpoilerText, st.Text)
	codePoints := mastodonfake.CodePointLength(st.SpoilerText, st.Text)
	switch lim.Count {
	case CountMastodon:
		return mastodon
	case CountGraphemes:
		return pleroma
	case CountCodePoints:
		return codePoints
	}
	return max(mastodon, pleroma, codePoints)
}

// counts are every way of counting, for tests that hold for each.
var counts = []Count{CountMastodon, CountGraphemes, CountCodePoints, CountStrict}

func TestRenderGolden(t *testing.T) {
	items := loadItems(t)
	for name, it := range items {
		for _, max := range []int{500, 5000} {
			t.Run(fmt.Sprintf("%s/%d", name, max), func(t *testing.T) {
				lim := DefaultLimits()
				lim.MaxCharacters = max
				post := Post{Item: it}
				if name == "en-news" || name == "ar-article" {
					post.TelegramURL = TelegramPostURL("@examplenews", "4412")
				}
				st, err := RenderPost(post, goldenFormat, lim)
				if err != nil {
					t.Fatal(err)
				}
				checkStatus(t, st, lim, goldenFormat, it)
				got := st.Preview() + "raw: " + strconv.Quote(st.Text) + "\n"
				golden := filepath.Join("testdata", "golden", fmt.Sprintf("%s-%d.txt", name, max))
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update)", err)
				}
				if got != string(want) {
					t.Errorf("rendering differs from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
				}
			})
		}
	}
}

func TestRenderFitsSmallLimitsDroppingInOrder(t *testing.T) {
	it := loadItems(t)["en-news"]
	f := Format{ShareLinks: []string{"whatsapp", "x"}}
	var prev Status
	for _, max := range []int{5000, 500, 300, 200, 150, 100, 80, 60} {
		lim := DefaultLimits()
		lim.MaxCharacters = max
		st, err := Render(it, f, lim)
		if err != nil {
			t.Fatalf("limit %d: %v", max, err)
		}
		checkStatus(t, st, lim, f, it)
		link, _ := CleanLink(it.Link, UTM{})
		if !strings.Contains(st.Text, link) {
			t.Errorf("limit %d: link dropped: %q", max, st.Text)
		}
		// Hashtags go before the link: once the share footer is gone and
		// the excerpt is short, hashtags disappear while the link stays.
		if strings.Contains(st.Text, "#") && !strings.Contains(st.Text, link) {
			t.Errorf("limit %d: hashtags kept but link dropped", max)
		}
		if prev.Text != "" && strings.Contains(st.Text, "wa.me") && !strings.Contains(prev.Text, "wa.me") {
			t.Errorf("limit %d: share link came back at a smaller limit", max)
		}
		prev = st
	}
	lim := DefaultLimits()
	lim.MaxCharacters = 60
	st, _ := Render(it, f, lim)
	if strings.Contains(st.Text, "#") {
		t.Errorf("hashtags kept at limit 60: %q", st.Text)
	}
}

func TestRenderCutsExcerptAtSentenceOrWord(t *testing.T) {
	it := syndicate.Item{
		Title:   "Title",
		Link:    "https://example.org/a",
		Summary: "First sentence is here. Second sentence is a bit longer than the first one. Third sentence never fits in the budget at all because it is long.",
	}
	lim := DefaultLimits()
	lim.MaxCharacters = 110
	st, err := Render(it, Format{}, lim)
	if err != nil {
		t.Fatal(err)
	}
	want := "Title\n\nFirst sentence is here. Second sentence is a bit longer than the first one.\n\nhttps://example.org/a"
	if st.Text != want {
		t.Errorf("got %q, want %q", st.Text, want)
	}
	lim.MaxCharacters = 60
	st, _ = Render(it, Format{}, lim)
	if !strings.HasSuffix(strings.Split(st.Text, "\n\n")[1], "…") && !strings.HasSuffix(strings.Split(st.Text, "\n\n")[1], ".") {
		t.Errorf("excerpt not cut at a boundary: %q", st.Text)
	}
	if strings.Contains(st.Text, "Secon…") || strings.Contains(st.Text, "sent…") {
		t.Errorf("excerpt cut inside a word: %q", st.Text)
	}
}

// TestHashtagsReadWhole checks that the server reads each shared hashtag
// as exactly that hashtag, in the scripts the site publishes in.
func TestHashtagsReadWhole(t *testing.T) {
	for _, c := range []string{"Human rights", "Workers' struggles", "حقوق العمال", "حقوق‌بشر",
		"Të drejtat e punëtorëve", "צה״ל", "انسانی حقوق", "ܫܠܵܡܵܐ", "col·lecció", "COVID-19", "Iran ایران"} {
		h, ok := script.Hashtag(c)
		if !ok {
			t.Fatalf("no hashtag for %q", c)
		}
		if got := mastodonfake.Hashtags(h); len(got) != 1 || "#"+got[0] != h {
			t.Errorf("server reads %q as %v", h, got)
		}
		// Inside a right-to-left line, between its marks, too.
		line := rtlText("وسم " + h + " هنا")
		if got := mastodonfake.Hashtags(line); len(got) != 1 || "#"+got[0] != h {
			t.Errorf("server reads %q in %q as %v", h, line, got)
		}
	}
}

func TestNeutralizeMentionsAndHashtags(t *testing.T) {
	in := "Hi @alice@example.com and @bob, see #news and ＃wide, mail x@example.org, https://example.com/@carol#top"
	out := neutralize(in, false)
	if m := mastodonfake.Mentions(out); len(m) != 0 {
		t.Errorf("mentions survive: %v in %q", m, out)
	}
	if h := mastodonfake.Hashtags(out); len(h) != 0 {
		t.Errorf("hashtags survive: %v in %q", h, out)
	}
	if u := mastodonfake.URLs(out); len(u) != 1 || u[0] != "https://example.com/@carol#top" {
		t.Errorf("URL broken: %v", u)
	}
	if got := strings.ReplaceAll(out, string(wordJoiner), ""); got != in {
		t.Errorf("visible text changed: %q", got)
	}
	allowed := neutralize(in, true)
	if m := mastodonfake.Mentions(allowed); len(m) != 2 {
		t.Errorf("AllowMentions: mentions %v", m)
	}
}

func TestCleanLink(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://news.example.org/a/b/", "https://news.example.org/a/b/", true},
		{"https://news.example.org/ar/إضراب/", "https://news.example.org/ar/%D8%A5%D8%B6%D8%B1%D8%A7%D8%A8/", true},
		{"https://user:pw@Example.ORG/x.", "https://example.org/x%2E", true},
		{"https://bücher.example/a(b)", "https://xn--bcher-kva.example/a%28b%29", true},
		{"javascript:alert(1)", "", false},
		{"/relative", "", false},
		{"ftp://example.org/", "", false},
	}
	for _, tt := range tests {
		got, ok := CleanLink(tt.in, UTM{})
		if got != tt.want || ok != tt.ok {
			t.Errorf("CleanLink(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok {
			if u := mastodonfake.URLs(got); len(u) != 1 || u[0] != got {
				t.Errorf("server links %v, not the whole %q", u, got)
			}
		}
	}
	got, _ := CleanLink("https://example.org/a?id=1", UTM{Source: "mastodon", Medium: "social"})
	if got != "https://example.org/a?id=1&utm_medium=social&utm_source=mastodon" {
		t.Errorf("UTM: %q", got)
	}
}

func TestShareURLsAreWholeURLs(t *testing.T) {
	for _, name := range share.Targets() {
		u, ok := ShareURL(name, "https://example.org/a?b=c", "Title: “quoted” & more.", "https://example.org/i.jpg")
		if !ok {
			if name != share.Email {
				t.Errorf("%s: not offered", name)
			}
			continue
		}
		if got := mastodonfake.URLs(u); len(got) != 1 || got[0] != u {
			t.Errorf("%s: server links %v, not the whole %q", name, got, u)
		}
	}
	if _, ok := ShareURL("email", "https://example.org", "t", ""); ok {
		t.Error("email offered on Mastodon")
	}
	if got := TelegramPostURL("-1001234567", "42"); got != "https://t.me/c/1234567/42" {
		t.Errorf("private channel link %q", got)
	}
	if got := TelegramPostURL("@news", "42"); got != "https://t.me/news/42" {
		t.Errorf("public channel link %q", got)
	}
}

func TestRenderRTL(t *testing.T) {
	it := loadItems(t)["ar-article"]
	st, err := Render(it, Format{}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(st.Text, "\n") {
		if line == "" {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(line); r != script.RLM {
			t.Errorf("line does not start with a right-to-left mark: %q", line)
		}
	}
	if st.Language != "ar" {
		t.Errorf("language %q", st.Language)
	}
	en, _ := Render(loadItems(t)["en-news"], Format{}, DefaultLimits())
	if strings.ContainsFunc(en.Text, script.IsBidiControl) {
		t.Error("direction marks in an English status")
	}
}

func TestRenderLanguage(t *testing.T) {
	for in, want := range map[string]string{"fa-IR": "fa", "en-GB": "en", "sq": "sq", "fas": "fa", "": "de", "xx-invalid-!": "de"} {
		st, err := Render(syndicate.Item{Title: "t", Language: in}, Format{Language: "de"}, DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if st.Language != want {
			t.Errorf("language %q → %q, want %q", in, st.Language, want)
		}
	}
}

func TestRenderTemplate(t *testing.T) {
	it := loadItems(t)["en-news"]
	f := Format{Template: "📰 {{.Title}}\n{{.Link}}\n{{join .Hashtags \" \"}}", Visibility: "unlisted", SpoilerText: "labour news", Sensitive: true}
	st, err := Render(it, f, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := "📰 Teachers’ strike enters third week as talks stall over pay and pensions\nhttps://news.example.org/2026/03/14/teachers-strike-enters-third-week/\n#News #Labour #Education #Strikes #Pensions"
	if st.Text != want {
		t.Errorf("got %q\nwant %q", st.Text, want)
	}
	if st.Visibility != "unlisted" || st.SpoilerText != "labour news" || !st.Sensitive {
		t.Errorf("status fields %+v", st)
	}
	if _, err := Render(it, Format{Template: "{{.Nope}}"}, DefaultLimits()); err == nil {
		t.Error("unknown template field accepted")
	}
	if err := (Format{Template: "{{"}).Validate(); err == nil {
		t.Error("broken template validated")
	}
}

func TestRenderMedia(t *testing.T) {
	items := loadItems(t)
	st, _ := Render(items["hostile"], Format{Images: ptr(4)}, DefaultLimits())
	if len(st.Media) != 1 || !strings.HasSuffix(st.Media[0].URL, "statement.gif") {
		t.Errorf("media %+v: javascript image must be skipped", st.Media)
	}
	if strings.ContainsRune(st.Media[0].Alt, '\u202e') {
		t.Errorf("alt keeps bidi override: %q", st.Media[0].Alt)
	}
	lim := DefaultLimits()
	lim.DescriptionLimit = 10
	st, _ = Render(items["en-news"], Format{}, lim)
	if len(st.Media) != 1 || st.Media[0].Alt != "Teachers h" {
		t.Errorf("alt not cut to the description limit: %+v", st.Media)
	}
	st, _ = Render(items["fa-article"], Format{}, DefaultLimits())
	if len(st.Media) != 1 || st.Media[0].Alt != oneLine(items["fa-article"].Title) {
		t.Errorf("alt does not fall back to the title: %+v", st.Media)
	}
	st, _ = Render(items["en-news"], Format{Images: ptr(0)}, DefaultLimits())
	if len(st.Media) != 0 {
		t.Errorf("images: 0 attached %+v", st.Media)
	}
}

func FuzzRender(f *testing.F) {
	for _, it := range loadItems(f) {
		if len(it.Summary) > 5000 {
			it.Summary = it.Summary[:5000]
		}
		f.Add(it.Title, it.Summary, it.Link, strings.Join(it.Categories, "|"), it.Language, 500, "")
	}
	f.Add("@a@b.c #x https://a.co/(xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "http://a.co,http://b.co https://x.y/مقالة.", "https://e.org/x", "a|b", "ar", 50, "CW")
	f.Fuzz(func(t *testing.T, title, summary, link, cats, lang string, max int, cw string) {
		if max < 0 {
			max = -max
		}
		max = 40 + max%6000
		it := syndicate.Item{Title: title, Summary: summary, Link: link, Categories: strings.Split(cats, "|"), Language: lang}
		fm := Format{SpoilerText: cw, ShareLinks: []string{"x", "whatsapp"}}
		for _, c := range counts {
			lim := DefaultLimits()
			lim.MaxCharacters, lim.Count = max, c
			st, err := Render(it, fm, lim)
			if err != nil {
				// Every layout ends with the title gone and the content
				// warning halved, which fits any limit the fuzz gives
				// (at least 40): the one error left is an item with
				// nothing visible to show.
				if !errors.Is(err, errNothingToShow) {
					t.Fatalf("Render (limit %d, counting %v): %v", max, c, err)
				}
				if visible := strings.TrimFunc(title+summary, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }); visible != "" {
					t.Fatalf("Render: %v, for an item showing %q", err, visible)
				}
				continue
			}
			checkStatus(t, st, lim, fm, it)
		}
	})
}

// TestRenderDirectionFromText runs the direction cases both platforms
// share; the link line follows, opened right to left with an isolate that
// the line end closes (a mark after a URL would join the link).
func TestRenderDirectionFromText(t *testing.T) {
	const link = "https://news.example.org/ar/1"
	f := Format{Hashtags: ptr(false)}
	for _, tt := range scripttest.DirectionCases {
		want := tt.Want + "\n\n" + link
		if tt.RTL {
			want = tt.Want + "\n\n{RLM}{LRI}" + link
		}
		it := syndicate.Item{Key: "k", Title: tt.Title, Summary: tt.Summary, Language: tt.Lang, Link: link}
		st, err := Render(it, f, DefaultLimits())
		if err != nil {
			t.Fatalf("%s: %v", tt.Name, err)
		}
		checkStatus(t, st, DefaultLimits(), f, it)
		// Every mark costs what it costs on the server: one grapheme.
		if n := mastodonfake.Length("", st.Text, 23); st.Length != n {
			t.Errorf("%s: budgeted %d, server counts %d", tt.Name, st.Length, n)
		}
		if got := scripttest.ShowMarks(st.Text); got != want {
			t.Errorf("%s:\n got %q\nwant %q", tt.Name, got, want)
		}
	}
}
