package telegram

import (
	"encoding/json"
	"flag"
	"github.com/syndicate-bot/syndicate/syndicate/script/scripttest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/script"
)

var update = flag.Bool("update", false, "rewrite golden files")

func loadItem(t testing.TB, name string) syndicate.Item {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "items", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var it syndicate.Item
	if err := json.Unmarshal(data, &it); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return it
}

func itemNames(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "items", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture items: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	return names
}

// goldenFormats are the destination options the goldens are rendered with,
// besides the default layout for every item.
var goldenFormats = map[string]struct {
	item   string
	format Format
}{
	"en-news.all-buttons": {"en-news", Format{
		Buttons:       KnownButtons(),
		ButtonsPerRow: 4,
		ButtonLabels:  map[string]string{ButtonRead: "Read on the site"},
		UTM: map[string]UTM{
			"default":  {Source: "telegram", Medium: "social", Campaign: "channel"},
			"whatsapp": {Source: "whatsapp", Medium: "share"},
		},
		EmailShareURL: "https://news.example.org/share/email",
	}},
	"en-news.email-without-page":     {"en-news", Format{Buttons: []string{ButtonRead, ButtonEmail}}},
	"en-news.preview":                {"en-news", Format{Image: ImagePreview, Silent: true, ProtectContent: true}},
	"en-news.no-buttons":             {"en-news", Format{Buttons: []string{}, NoHashtags: true}},
	"sq-article.text-only":           {"sq-article", Format{Image: ImageNone, NoLinkPreview: true}},
	"photo-gallery.album":            {"photo-gallery", Format{Album: true, AlbumButtons: true}},
	"photo-gallery.album-no-buttons": {"photo-gallery", Format{Album: true}},
	"fa-article.template": {"fa-article", Format{Template: `{{link .Link .Title | bold}}
{{.Summary}}
{{if .Author}}— {{.Author}}{{end}}{{join .Hashtags " "}}`}},
	"en-news.template": {"en-news", Format{Template: `<b>{{.Title}}</b>
<i>{{date "2 Jan 2006" .Date}}</i> · {{.Author}}

{{.Summary}}

{{link .Link "Continue reading"}}`}},
}

type goldenCase struct {
	name   string
	item   syndicate.Item
	format Format
}

func goldenCases(t testing.TB) []goldenCase {
	var cases []goldenCase
	for _, n := range itemNames(t) {
		cases = append(cases, goldenCase{n, loadItem(t, n), Format{}})
	}
	for name, g := range goldenFormats {
		cases = append(cases, goldenCase{name, loadItem(t, g.item), g.format})
	}
	return cases
}

func TestRenderGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			p, err := Render(c.item, c.format)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			assertValidPost(t, p)
			got := scripttest.ShowMarks(p.Preview() + "\n--- plain-text fallback ---\n" + p.Plain + "\n")
			path := filepath.Join("testdata", "golden", c.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("rendering of %s differs from %s (run go test -update and review the diff):\n%s", c.name, path, got)
			}
		})
	}
}

// assertValidPost checks what Telegram would check: every text parses under
// the fake's HTML parser and fits its limit, every button URL is accepted.
func assertValidPost(t testing.TB, p Post) {
	t.Helper()
	text, _, err := telegramfake.ParseHTML(p.Text)
	if err != nil {
		t.Fatalf("text does not parse: %v\n%s", err, p.Text)
	}
	if strings.TrimSpace(text) == "" {
		t.Fatalf("empty text")
	}
	if n := telegramfake.Length(text); n > p.Limit {
		t.Fatalf("text is %d long, limit %d", n, p.Limit)
	}
	if n := telegramfake.Length(p.Plain); n > p.Limit || strings.TrimSpace(p.Plain) == "" {
		t.Fatalf("plain text is %d long (limit %d)", n, p.Limit)
	}
	if len(p.Text) > rawLimit || len(p.Plain) > rawLimit {
		t.Fatalf("raw text too long: %d", len(p.Text))
	}
	want := map[Method]int{MethodMessage: TextLimit, MethodPhoto: CaptionLimit, MethodAlbum: CaptionLimit}[p.Method]
	if want == 0 || p.Limit != want {
		t.Fatalf("method %q with limit %d", p.Method, p.Limit)
	}
	if p.FollowUpText != "" {
		if _, _, err := telegramfake.ParseHTML(p.FollowUpText); err != nil {
			t.Fatalf("follow-up does not parse: %v", err)
		}
	}
	for _, d := range p.Documents {
		c, _, err := telegramfake.ParseHTML(d.Caption)
		if err != nil || telegramfake.Length(c) > CaptionLimit {
			t.Fatalf("document caption %q: %v", d.Caption, err)
		}
	}
	for _, row := range p.Keyboard {
		for _, b := range row {
			if err := telegramfake.CheckButtonURL(b.URL); err != nil || b.Text == "" {
				t.Fatalf("button %+v: %v", b, err)
			}
		}
	}
	if n := len(p.Album); p.Method == MethodAlbum && (n < 2 || n > 10) {
		t.Fatalf("album of %d", n)
	}
}

func TestRenderChoosesMethod(t *testing.T) {
	tests := []struct {
		item   string
		format Format
		want   Method
	}{
		{"en-news", Format{}, MethodPhoto},
		{"en-news", Format{Image: ImagePreview}, MethodMessage},
		{"en-news", Format{Image: ImageNone}, MethodMessage},
		{"long-title", Format{}, MethodMessage}, // the text does not fit a caption
		{"youtube-video", Format{}, MethodMessage},
		{"photo-gallery", Format{Album: true}, MethodAlbum},
		{"photo-gallery", Format{}, MethodPhoto},
		{"en-news", Format{Album: true}, MethodPhoto}, // one image is no album
		{"hostile-html", Format{Album: true}, MethodPhoto},
	}
	for _, tt := range tests {
		p, err := Render(loadItem(t, tt.item), tt.format)
		if err != nil {
			t.Fatal(err)
		}
		if p.Method != tt.want {
			t.Errorf("%s %+v: method %s, want %s", tt.item, tt.format, p.Method, tt.want)
		}
	}
}

func TestRenderTextPreview(t *testing.T) {
	p, err := Render(loadItem(t, "long-title"), Format{})
	if err != nil {
		t.Fatal(err)
	}
	want := LinkPreview{URL: "https://news.example.org/wp-content/uploads/2026/05/statement.jpg", PreferLarge: true, AboveText: true}
	if p.LinkPreview == nil || *p.LinkPreview != want {
		t.Errorf("preview %+v, want %+v", p.LinkPreview, want)
	}
	v, _ := Render(loadItem(t, "youtube-video"), Format{})
	if v.LinkPreview == nil || v.LinkPreview.URL != "https://www.youtube.com/watch?v=dQw4w9WgXcQ" {
		t.Errorf("video post previews %+v", v.LinkPreview)
	}
	off, _ := Render(loadItem(t, "youtube-video"), Format{NoLinkPreview: true})
	if off.LinkPreview == nil || !off.LinkPreview.Disabled {
		t.Errorf("preview not disabled: %+v", off.LinkPreview)
	}
}

func TestRenderHostileInput(t *testing.T) {
	p, err := Render(loadItem(t, "hostile-html"), Format{Buttons: KnownButtons(), EmailShareURL: "https://x.example/mail"})
	if err != nil {
		t.Fatal(err)
	}
	all := p.Preview() + p.Plain
	for _, bad := range []string{"\u202e", "\u200b", "\ufeff", "\u0000", "\u0007", "\u00ad", "\u2066isolated"} {
		if strings.Contains(all, bad) {
			t.Errorf("post contains %q", bad)
		}
	}
	for _, bad := range []string{"<script", "<i>", "<b>not", `href="javascript`, "data:image", "file:"} {
		if strings.Contains(p.Text, bad) {
			t.Errorf("HTML text contains %q", bad)
		}
	}
	text, _, err := telegramfake.ParseHTML(p.Text)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<script>alert('x')</script> Tom & Jerry <b>not bold</b>", "&amp; &lt;tag&gt;", "&#39;entities&#39;", "a bare & ampersand"} {
		if !strings.Contains(text, want) {
			t.Errorf("visible text lacks literal %q:\n%s", want, text)
		}
	}
	if p.Photo != "https://news.example.org/safe.jpg" {
		t.Errorf("photo %q: want the only safe image", p.Photo)
	}
	if len(p.Keyboard) != 0 || len(p.Documents) != 0 {
		t.Errorf("unsafe link kept: keyboard %v documents %v", p.Keyboard, p.Documents)
	}
}

func TestRenderRightToLeft(t *testing.T) {
	for _, name := range []string{"ar-article", "fa-article"} {
		t.Run(name, func(t *testing.T) {
			p, err := Render(loadItem(t, name), Format{})
			if err != nil {
				t.Fatal(err)
			}
			text, _, err := telegramfake.ParseHTML(p.Text)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(text, "\n") {
				if line == "" {
					continue
				}
				if !strings.HasPrefix(line, string(script.RLM)) {
					t.Errorf("line does not start with a right-to-left mark: %q", line)
				}
				// Every Latin letter and digit sits inside an isolate.
				depth := 0
				for _, r := range line {
					switch {
					case r == script.LRI:
						depth++
					case r == script.PDI:
						depth--
					case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) && depth == 0:
						t.Errorf("left-to-right %q outside an isolate in %q", r, scripttest.ShowMarks(line))
					}
				}
				if depth != 0 {
					t.Errorf("unbalanced isolates in %q", scripttest.ShowMarks(line))
				}
			}
			if !strings.Contains(p.Plain, string(script.RLM)) {
				t.Error("plain fallback lost the direction marks")
			}
		})
	}
	en, _ := Render(loadItem(t, "en-news"), Format{})
	if strings.ContainsFunc(en.Text, script.IsBidiControl) {
		t.Error("left-to-right post got direction marks")
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Short.", 10, "Short."},
		{"First sentence here. Second sentence is longer than the rest.", 30, "First sentence here. …"},
		{"One two three four five six seven", 20, "One two three four…"},
		{"👩‍👩‍👧‍👦👩‍👩‍👧‍👦👩‍👩‍👧‍👦", 14, "👩‍👩‍👧‍👦…"},
		{"🇦🇱🇦🇱🇦🇱🇦🇱", 8, "🇦🇱…"},
		{"🇦🇱🇦🇱🇦🇱🇦🇱", 9, "🇦🇱🇦🇱…"},
		{"Unbrokenlongwordwithoutspaces", 10, "Unbrokenl…"},
	}
	for _, tt := range tests {
		got, _ := cut(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if units(got) > tt.max {
			t.Errorf("cut(%q, %d) is %d long", tt.in, tt.max, units(got))
		}
	}
}

// TestRenderKeepsGraphemes checks that cutting the emoji item never splits
// a flag or a family emoji: the excerpt is whole graphemes of the summary.
func TestRenderKeepsGraphemes(t *testing.T) {
	it := loadItem(t, "emoji")
	p, err := Render(it, Format{Buttons: []string{}, NoHashtags: true})
	if err != nil {
		t.Fatal(err)
	}
	text, _, _ := telegramfake.ParseHTML(p.Text)
	paras := strings.Split(text, "\n\n")
	excerpt := strings.TrimSuffix(paras[1], "…")
	if !strings.HasPrefix(it.Summary, excerpt) {
		t.Fatalf("excerpt is not a prefix of the summary")
	}
	g := uniseg.NewGraphemes(it.Summary)
	for g.Next() {
		_, end := g.Positions()
		if end == len(excerpt) {
			return
		}
		if end > len(excerpt) {
			break
		}
	}
	t.Errorf("excerpt ends inside a grapheme: %q", excerpt[max(0, len(excerpt)-20):])
}

func TestRenderHugeBody(t *testing.T) {
	it := loadItem(t, "huge-body")
	if len(it.Summary) < 200*1024 {
		t.Fatalf("fixture summary is only %d bytes", len(it.Summary))
	}
	for _, f := range []Format{{}, {Image: ImageNone}, {ExcerptMax: 100000}} {
		p, err := Render(it, f)
		if err != nil {
			t.Fatal(err)
		}
		assertValidPost(t, p)
	}
}

func TestRenderButtons(t *testing.T) {
	p, err := Render(loadItem(t, "en-news"), goldenFormats["en-news.all-buttons"].format)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, row := range p.Keyboard {
		if len(row) > 4 {
			t.Errorf("row of %d buttons, want at most 4", len(row))
		}
		for _, b := range row {
			names = append(names, b.Text)
		}
	}
	want := "Read on the site Telegram WhatsApp X Facebook Pinterest LinkedIn E-mail"
	if strings.Join(names, " ") != want {
		t.Errorf("buttons %q, want %q", strings.Join(names, " "), want)
	}
	for _, row := range p.Keyboard {
		for _, b := range row {
			switch b.Text {
			case "WhatsApp":
				if !strings.Contains(b.URL, "utm_source%3Dwhatsapp") {
					t.Errorf("whatsapp button lacks its own UTM: %s", b.URL)
				}
			case "Pinterest":
				if !strings.Contains(b.URL, "media=https%3A%2F%2Fnews%2Eexample%2Eorg%2Fwp-content") {
					t.Errorf("pinterest button lacks the image: %s", b.URL)
				}
			case "Read on the site":
				if !strings.Contains(b.URL, "utm_source=telegram") {
					t.Errorf("read button lacks the default UTM: %s", b.URL)
				}
			}
		}
	}
	q, _ := Render(loadItem(t, "en-news"), Format{Buttons: []string{ButtonEmail}})
	if len(q.Keyboard) != 0 || len(q.Notes) != 1 {
		t.Errorf("e-mail button without a share page: keyboard %v notes %v", q.Keyboard, q.Notes)
	}
	noImage := loadItem(t, "en-news")
	noImage.Image, noImage.Images = nil, nil
	r, _ := Render(noImage, Format{Buttons: []string{ButtonPinterest, ButtonX}})
	if len(r.Keyboard) != 1 || len(r.Keyboard[0]) != 1 || r.Keyboard[0][0].Text != "X" || len(r.Notes) != 1 {
		t.Errorf("pinterest button without an image: keyboard %v notes %v", r.Keyboard, r.Notes)
	}
	ar, _ := Render(loadItem(t, "ar-article"), Format{})
	if ar.Keyboard[0][0].Text != "اقرأ المقال" {
		t.Errorf("arabic read label %q", ar.Keyboard[0][0].Text)
	}
}

func TestFormatValidate(t *testing.T) {
	bad := []Format{
		{Image: "banner"},
		{Buttons: []string{"myspace"}},
		{EmailShareURL: "mailto:x@example.org"},
		{Template: "{{.Title"},
	}
	for _, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", f)
		}
	}
	if err := (Format{Buttons: KnownButtons(), Template: "{{.Title}}"}).Validate(); err != nil {
		t.Errorf("valid format: %v", err)
	}
}

func TestRenderTemplateEscapes(t *testing.T) {
	it := loadItem(t, "hostile-html")
	p, err := Render(it, Format{Template: "<b>{{.Title}}</b>\n{{.Summary}}\n{{link .Link \"open\"}}"})
	if err != nil {
		t.Fatal(err)
	}
	assertValidPost(t, p)
	if strings.Contains(p.Text, "<script") || strings.Contains(p.Text, `href="javascript`) {
		t.Errorf("template output not escaped: %s", p.Text)
	}
	if _, err := Render(it, Format{Template: "<div>{{.Title}}</div>"}); err == nil {
		t.Error("template with a tag Telegram refuses rendered without error")
	}
}

func FuzzRender(f *testing.F) {
	f.Add("Title", "Summary. More text.", "Cat one", "en", true)
	f.Add("<b>&amp;</b>", "a & b < c > d \"e\"", "Q&A", "ar", false)
	f.Add("عنوان BBC 2024", "متن https://x.org/a?b=1&c=2 متن.", "حقوق الإنسان", "fa", true)
	f.Add("👩‍👩‍👧‍👦🇦🇱", strings.Repeat("🇦🇱", 600), "✊🏽", "", true)
	f.Add(strings.Repeat("long title ", 200), strings.Repeat("x", 5000), strings.Repeat("c ", 100), "sq", true)
	f.Fuzz(func(t *testing.T, title, summary, category, lang string, image bool) {
		it := syndicate.Item{
			Key: "k", Title: title, Summary: summary, Language: lang,
			Link:       "https://news.example.org/a?x=1&y=2",
			Categories: []string{category, category + "2"},
		}
		if image {
			it.Image = &syndicate.Image{URL: "https://news.example.org/i.jpg"}
		}
		for _, format := range []Format{{}, {Image: ImagePreview, Buttons: KnownButtons(), EmailShareURL: "https://m.example/"}} {
			p, err := Render(it, format)
			if err != nil {
				if strings.TrimFunc(title+summary, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }) != "" {
					t.Fatalf("Render: %v", err)
				}
				continue
			}
			assertValidPost(t, p)
		}
	})
}

// TestRenderDirectionFromText runs the direction cases both platforms
// share.
func TestRenderDirectionFromText(t *testing.T) {
	f := Format{Buttons: []string{}, NoHashtags: true, Image: ImageNone, NoLinkPreview: true}
	for _, tt := range scripttest.DirectionCases {
		it := syndicate.Item{Key: "k", Title: tt.Title, Summary: tt.Summary, Language: tt.Lang, Link: "https://news.example.org/ar/1"}
		p, err := Render(it, f)
		if err != nil {
			t.Fatalf("%s: %v", tt.Name, err)
		}
		assertValidPost(t, p)
		text, entities, _ := telegramfake.ParseHTML(p.Text)
		if got := scripttest.ShowMarks(text); got != tt.Want {
			t.Errorf("%s:\n got %q\nwant %q", tt.Name, got, tt.Want)
		}
		// The title link starts after the line's mark and spans the
		// isolates, in UTF-16 units as Telegram counts them.
		title, _, _ := strings.Cut(text, "\n")
		start := 0
		if rest, ok := strings.CutPrefix(title, string(script.RLM)); ok {
			start, title = 1, rest
		}
		var link *telegramfake.Entity
		for i := range entities {
			if entities[i].Type == "text_link" {
				link = &entities[i]
			}
		}
		if link == nil || link.Offset != start || link.Length != telegramfake.Length(title) {
			t.Errorf("%s: title link %+v, want offset %d length %d", tt.Name, link, start, telegramfake.Length(title))
		}
	}
}
