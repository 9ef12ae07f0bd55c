package previewpage

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/syndicate-bot/syndicate/bots/mastodon"
	"github.com/syndicate-bot/syndicate/bots/telegram"
	"github.com/syndicate-bot/syndicate/syndicate"
)

var update = flag.Bool("update", false, "rewrite golden files")

// images is a Downloader serving fixed answers.
type images map[string]struct {
	data []byte
	ct   string
	err  error
}

func (m images) Download(_ context.Context, u string) ([]byte, string, error) {
	a, ok := m[u]
	if !ok {
		return nil, "", errors.New("download " + u + ": http 404")
	}
	return a.data, a.ct, a.err
}

func tinyPNG(t *testing.T, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, c)
	img.Set(1, 0, c)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const hostileTitle = `<script>alert("title")</script> "quoted" & <img src=x onerror=alert(1)>`

func items() map[string]syndicate.Item {
	return map[string]syndicate.Item{
		"photo": {
			Key: "guid:1", Link: "https://news.example/strike/", Language: "en",
			Title:      "Teachers' strike enters its fifth day",
			Summary:    "More than 20,000 teachers in 14 cities.\n\nThe union says the strike goes on.",
			Categories: []string{"News", "Workers' rights"},
			Image:      &syndicate.Image{URL: "https://news.example/strike.png", Alt: "Teachers outside the ministry"},
		},
		"album": {
			Key: "guid:2", Link: "https://news.example/rally/", Language: "en",
			Title: "Rally in pictures", Summary: "Thousands marched on Saturday.",
			Image:  &syndicate.Image{URL: "https://news.example/rally-1.png"},
			Images: []syndicate.Image{{URL: "https://news.example/rally-2.png", Alt: "The crowd"}, {URL: "https://news.example/rally-3.png"}},
		},
		"no-image": {
			Key: "guid:3", Link: "https://news.example/statement/", Language: "en",
			Title: "Statement", Summary: "We call for the release of everyone detained.",
			Attachments: []syndicate.Attachment{{URL: "https://news.example/statement.pdf", Type: "application/pdf", Title: "Full text"}},
		},
		"rtl": {
			Key: "guid:4", Link: "https://news.example/ar/digest/", Language: "ar",
			Title: "الموجز الأسبوعي", Summary: "الإفراج عن ثلاثة صحفيين بعد احتجاز دام شهرين.",
			Categories: []string{"الموجز"},
			Image:      &syndicate.Image{URL: "https://news.example/digest.png"},
		},
		"hostile": {
			Key: "guid:5", Link: "https://news.example/x/?q=\"><script>alert(2)</script>", Language: "en",
			Title:   hostileTitle,
			Summary: `<a href="javascript:alert(3)">click</a> <style>body{display:none}</style>`,
			Image:   &syndicate.Image{URL: "https://evil.example/x.svg", Alt: `"><script>alert(4)</script>`},
		},
	}
}

// goldenPage renders every kind of post both platforms make.
func goldenPage(t *testing.T) (Page, images) {
	t.Helper()
	it := items()
	tg := func(name string, f telegram.Format) Post {
		p, err := telegram.Render(it[name], f)
		if err != nil {
			t.Fatalf("telegram render %s: %v", name, err)
		}
		return Post{Item: it[name], Telegram: &p}
	}
	md := func(name string, f mastodon.Format) Post {
		s, err := mastodon.Render(it[name], f, mastodon.DefaultLimits())
		if err != nil {
			t.Fatalf("mastodon render %s: %v", name, err)
		}
		return Post{Item: it[name], Mastodon: &s}
	}
	edit := tg("photo", telegram.Format{Silent: true, ProtectContent: true, Buttons: []string{"read", "email"}})
	edit.Edit = true
	page := Page{Title: "syndicate preview", Destinations: []Destination{
		{ID: "tg-en", Telegram: "@news_en", Posts: []Post{
			tg("photo", telegram.Format{}),
			tg("album", telegram.Format{Album: true, AlbumButtons: true}),
			tg("photo", telegram.Format{Image: telegram.ImagePreview, ButtonsPerRow: 2}),
			tg("no-image", telegram.Format{}),
			tg("no-image", telegram.Format{NoLinkPreview: true, Buttons: []string{}}),
			tg("photo", telegram.Format{Template: `<b>{{.Title}}</b> <tg-spoiler>spoiler</tg-spoiler>
<blockquote>{{.Summary}}</blockquote>
<code>code</code> {{link .Link "read"}}`}),
			edit,
			tg("hostile", telegram.Format{}),
			{Item: it["photo"], Err: errors.New("render item guid:9: nothing to show")},
		}},
		{ID: "tg-ar", Telegram: "-1001234567890", Posts: []Post{tg("rtl", telegram.Format{})}},
		{ID: "md-en", Mastodon: "https://social.example", Posts: []Post{
			md("photo", mastodon.Format{ShareLinks: []string{"telegram"}}),
			md("album", mastodon.Format{SpoilerText: "Crowds, police", Images: new(3)}),
			md("no-image", mastodon.Format{Visibility: "unlisted", Sensitive: true}),
			md("hostile", mastodon.Format{}),
		}},
		{ID: "md-ar", Mastodon: "https://social.example/", Posts: []Post{md("rtl", mastodon.Format{})}},
		{ID: "md-empty", Mastodon: "https://quiet.example"},
	}}
	blue := tinyPNG(t, color.RGBA{B: 255, A: 255})
	imgs := images{
		"https://news.example/strike.png":  {data: blue, ct: "image/png"},
		"https://news.example/rally-1.png": {data: blue, ct: "image/png"},
		// A server that names the wrong type: the bytes decide.
		"https://news.example/rally-2.png": {data: tinyPNG(t, color.RGBA{R: 255, A: 255}), ct: "application/octet-stream"},
		"https://news.example/digest.png":  {data: blue, ct: "image/png"},
		"https://evil.example/x.svg":       {data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(5)</script></svg>`), ct: "image/png"},
	}
	return page, imgs
}

func TestPageGolden(t *testing.T) {
	page, imgs := goldenPage(t)
	var b bytes.Buffer
	if err := Write(context.Background(), &b, page, Options{Images: imgs}); err != nil {
		t.Fatal(err)
	}
	assertSafe(t, b.String())
	path := filepath.Join("testdata", "page.html")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("the page differs from %s (run go test -update and review the diff)", path)
	}
}

// TestPageShowsEveryPart checks the page's structure against the posts,
// so that the golden file is not the only proof.
func TestPageShowsEveryPart(t *testing.T) {
	page, imgs := goldenPage(t)
	var b bytes.Buffer
	if err := Write(context.Background(), &b, page, Options{Images: imgs}); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&b)
	if err != nil {
		t.Fatal(err)
	}
	posts := findAll(doc, func(n *html.Node) bool { return hasClass(n, "tg-post") || hasClass(n, "md-status") })
	if want := 9 + 1 + 4 + 1; len(posts) != want {
		t.Fatalf("%d posts on the page, want %d", len(posts), want)
	}
	for _, p := range posts {
		lang := attr(p, "lang")
		if dir := attr(p, "dir"); (lang == "ar") != (dir == "rtl") {
			t.Errorf("post of %s (lang %q) has dir=%q", attr(p, "data-link"), lang, dir)
		}
	}
	// Every button of every Telegram post, with its URL, in its row.
	var want, got []string
	for _, d := range page.Destinations {
		for _, p := range d.Posts {
			if p.Telegram == nil || p.Err != nil {
				continue
			}
			for _, row := range p.Telegram.Keyboard {
				var r []string
				for _, btn := range row {
					r = append(r, btn.Text+" "+unescape(btn.URL))
				}
				want = append(want, strings.Join(r, " | "))
			}
		}
	}
	for _, row := range findAll(doc, func(n *html.Node) bool { return hasClass(n, "tg-row") }) {
		var r []string
		for _, a := range findAll(row, func(n *html.Node) bool { return hasClass(n, "tg-button") }) {
			// The page writes URLs normalised (quotes percent-encoded).
			r = append(r, textOf(a)+" "+unescape(attr(a, "href")))
		}
		got = append(got, strings.Join(r, " | "))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("button rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Images: inline when fetched as a raster image, else by URL with a
	// note; always with alt text.
	inline := regexp.MustCompile(`^data:image/png;base64,`)
	for _, img := range findAll(doc, func(n *html.Node) bool { return n.Data == "img" }) {
		u, src, alt := attr(img, "data-url"), attr(img, "src"), attr(img, "alt")
		if alt == "" {
			t.Errorf("image %s has no alt text", u)
		}
		switch u {
		case "https://news.example/rally-3.png", "https://evil.example/x.svg":
			if src != u {
				t.Errorf("image %s shown from %.40q, want its URL", u, src)
			}
		default:
			if !inline.MatchString(src) {
				t.Errorf("image %s shown from %.40q, want a data: URI", u, src)
			}
		}
	}
	notes := textOf(doc)
	for _, want := range []string{"not downloaded: the file is text/plain; charset=utf-8, not an image", "not downloaded: download https://news.example/rally-3.png: http 404",
		"cannot render: render item guid:9: nothing to show", "edit of an earlier post", "Crowds, police", "ALT"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
}

// TestPageIsSafe: whatever the feeds put in an article, the page has no
// script, no event handler, no style from the feed and no link that is not
// http(s), tg: or an inline raster image.
func TestPageIsSafe(t *testing.T) {
	it := items()["hostile"]
	var posts []Post
	for _, f := range []telegram.Format{{}, {Image: telegram.ImagePreview}, {Template: `{{bold .Title}} {{.Summary}} {{link .Link .Title}}`}} {
		p, err := telegram.Render(it, f)
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, Post{Item: it, Telegram: &p})
	}
	// A post as a broken renderer might make it: raw feed HTML.
	posts = append(posts, Post{Item: it, Telegram: &telegram.Post{Method: telegram.MethodPhoto, Photo: "javascript:alert(6)",
		Text: it.Summary + hostileTitle, Keyboard: [][]telegram.Button{{{Text: hostileTitle, URL: "javascript:alert(7)"}}}}})
	st, err := mastodon.Render(it, mastodon.Format{SpoilerText: hostileTitle}, mastodon.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	raw := mastodon.Status{Text: hostileTitle + " javascript:alert(8) " + it.Link, Media: []mastodon.Media{{URL: "data:text/html,<script>alert(9)</script>", Alt: hostileTitle}}}
	page := Page{Title: hostileTitle, Destinations: []Destination{
		{ID: "tg", Telegram: hostileTitle, Posts: posts},
		{ID: `md"><script>`, Mastodon: "https://x.example/<script>", Posts: []Post{{Item: it, Mastodon: &st}, {Item: it, Mastodon: &raw}}},
	}}
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(10)"/>`)
	var b bytes.Buffer
	if err := Write(context.Background(), &b, page, Options{Images: images{"https://evil.example/x.svg": {data: svg, ct: "image/svg+xml"}}}); err != nil {
		t.Fatal(err)
	}
	assertSafe(t, b.String())
	if !strings.Contains(textOf(mustParse(t, b.String())), hostileTitle) {
		t.Error("the hostile title is not shown as text")
	}
}

// assertSafe checks a page: one style element (the page's own), no
// scripts, no event handler attributes, no style attributes, and only
// http(s) and tg: links and inline raster images.
func assertSafe(t *testing.T, page string) {
	t.Helper()
	doc := mustParse(t, page)
	styles := 0
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "script", "iframe", "object", "embed", "link", "base", "form", "svg", "math":
			t.Errorf("the page has a <%s> element", n.Data)
		case "style":
			styles++
		case "meta":
			if e := attr(n, "http-equiv"); e != "" && !strings.EqualFold(e, "Content-Security-Policy") {
				t.Errorf("the page has <meta http-equiv=%q>", e)
			}
		}
		for _, a := range n.Attr {
			switch {
			case strings.HasPrefix(a.Key, "on"), a.Key == "style", a.Key == "srcset", a.Key == "formaction":
				t.Errorf("<%s> has attribute %s=%q", n.Data, a.Key, a.Val)
			case a.Key == "href" && !safeLink.MatchString(a.Val):
				t.Errorf("<%s> links to %q", n.Data, a.Val)
			case a.Key == "src" && !safeLink.MatchString(a.Val) && !inlineImage.MatchString(a.Val) && a.Val != "":
				t.Errorf("<%s> loads %q", n.Data, a.Val)
			}
		}
	}
	if styles != 1 {
		t.Errorf("%d style elements, want the page's one", styles)
	}
}

var (
	safeLink    = regexp.MustCompile(`^(https?://[^\s]+|tg://[^\s]*|#ZgotmplZ)$`)
	inlineImage = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$`)
)

func unescape(u string) string {
	s, err := url.PathUnescape(u)
	if err != nil {
		return u
	}
	return s
}

func mustParse(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return n.Type == html.ElementNode && strings.Contains(" "+attr(n, "class")+" ", " "+class+" ")
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode && (c.Parent == nil || c.Parent.Data != "style") {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}
