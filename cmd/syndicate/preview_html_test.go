package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/demosite"
)

// envRequireBrowser set to 1 (as CI does) makes the browser test fail
// rather than skip when chromium is not installed.
const envRequireBrowser = "SYNDICATE_REQUIRE_BROWSER"

// demoHTML runs the demo with --html in a fresh state directory and
// returns the page and what the demo printed.
func demoHTML(t *testing.T) (page, stdout string) {
	t.Helper()
	// The sample site prefers a fixed port; holding it gives the site a
	// port from the ephemeral range, always five digits, so that the
	// page's layout of URLs is the same from run to run once the port is
	// replaced (Mastodon cuts a shown URL after 30 characters). When
	// another process held it but let it go before the site started, the
	// demo runs again.
	for attempt := 1; ; attempt++ {
		page, stdout = demoHTMLOnce(t)
		if !strings.Contains(stdout, "Sample site on http://"+demosite.PreferredAddr) || attempt == 3 {
			return page, stdout
		}
	}
}

func demoHTMLOnce(t *testing.T) (page, stdout string) {
	t.Helper()
	if ln, err := net.Listen("tcp", demosite.PreferredAddr); err == nil {
		defer ln.Close()
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "demo.html")
	r := runCmd(t, context.Background(), nil, "demo", "--state-dir", dir, "--html", out)
	if r.code != 0 {
		t.Fatalf("demo --html = %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "The posts as their readers see them: "+out) {
		t.Errorf("demo does not name the page:\n%s", r.stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), r.stdout
}

// TestDemoHTMLGolden: the demo's page is the golden file, once the loopback
// ports of the sample site and the Mastodon stand-in are replaced.
func TestDemoHTMLGolden(t *testing.T) {
	page, stdout := demoHTML(t)
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`Sample site on http://127\.0\.0\.1:(\d+)`),
		regexp.MustCompile(`Mastodon http://127\.0\.0\.1:(\d+)`),
	} {
		m := re.FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no %s in the demo's output:\n%s", re, stdout)
		}
		port := m[1]
		if len(port) != 5 {
			t.Fatalf("%s: port %s is not from the ephemeral range", re, port)
		}
		fixed := "00001"
		if strings.HasPrefix(re.String(), "Mastodon") {
			fixed = "00002"
		}
		page = strings.ReplaceAll(page, "127.0.0.1:"+port, "127.0.0.1:"+fixed)
		page = strings.ReplaceAll(page, "127%2E0%2E0%2E1%3A"+port, "127%2E0%2E0%2E1%3A"+fixed)
	}
	path := filepath.Join("testdata", "demo-preview.html")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestDemoHTMLGolden -update)", err)
	}
	if page != string(want) {
		t.Errorf("the demo's page differs from %s (run go test -run TestDemoHTMLGolden -update and review the diff)", path)
	}
}

// shownPost is one post as the demo's text output shows it.
type shownPost struct {
	dest, link string
	rows       []string
	images     []shownImage
}

type shownImage struct{ url, alt string }

var (
	destLine   = regexp.MustCompile(`^(\S+) — .*: (\d+) post\(s\)$`)
	postLine   = regexp.MustCompile(`^── \d+/\d+ · (?:new post|edit of an earlier post) · (.*)$`)
	buttonCell = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]*)\)`)
	imageLine  = regexp.MustCompile(`^(?:photo|image \d+): (\S+)$`)
)

// shownPosts reads the posts from the text the demo prints (the
// publishers' terminal previews), which the page must agree with.
func shownPosts(t *testing.T, stdout string) []shownPost {
	t.Helper()
	var (
		posts   []shownPost
		dest    string
		buttons bool
	)
	lines := strings.Split(stdout, "\n")
	for i, line := range lines {
		if m := destLine.FindStringSubmatch(line); m != nil {
			dest = m[1]
			continue
		}
		if m := postLine.FindStringSubmatch(line); m != nil {
			posts = append(posts, shownPost{dest: dest, link: m[1]})
			buttons = false
			continue
		}
		if len(posts) == 0 {
			continue
		}
		p := &posts[len(posts)-1]
		switch {
		case line == "buttons:":
			buttons = true
		case buttons && line == "":
			buttons = false
		case buttons:
			var cells []string
			for _, m := range buttonCell.FindAllStringSubmatch(line, -1) {
				cells = append(cells, m[1]+" "+unescapeURL(m[2]))
			}
			p.rows = append(p.rows, strings.Join(cells, " | "))
		case imageLine.MatchString(line):
			img := shownImage{url: imageLine.FindStringSubmatch(line)[1]}
			if i+1 < len(lines) {
				if alt, ok := strings.CutPrefix(lines[i+1], "  alt: "); ok {
					img.alt = alt
				}
			}
			p.images = append(p.images, img)
		}
	}
	if len(posts) == 0 {
		t.Fatalf("no posts in the demo's output:\n%s", stdout)
	}
	return posts
}

func unescapeURL(u string) string {
	s, err := url.PathUnescape(u)
	if err != nil {
		return u
	}
	return s
}

// browserPath finds chromium: without it the test skips, or fails when
// SYNDICATE_REQUIRE_BROWSER=1.
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(envRequireBrowser) == "1" {
		t.Fatalf("%s=1 but chromium is not on PATH: the HTML preview must be checked in a real browser", envRequireBrowser)
	}
	t.Skip("chromium not found: skipping the check of the HTML preview in a real browser (install chromium, or set " + envRequireBrowser + "=1 to make this a failure)")
	return ""
}

// browserTimeout bounds one headless browser run, so a hung browser fails
// the test instead of stalling it.
const browserTimeout = 2 * time.Minute

// runBrowser runs headless chromium on a page with its own profile and
// returns what it printed. A browser that crashes (killed by a signal,
// which a headless chromium in a small container now and then is) is
// started again, twice at most, with a fresh profile; any other failure
// fails the test.
func runBrowser(t *testing.T, browser, page string, args ...string) []byte {
	t.Helper()
	for attempt := 1; ; attempt++ {
		out, crashed, err := runBrowserOnce(t, browser, page, args...)
		if err == nil {
			return out
		}
		if !crashed || attempt == 3 {
			t.Fatalf("%s %s: %v", browser, strings.Join(args, " "), err)
		}
		t.Logf("chromium crashed (attempt %d), starting it again: %v", attempt, err)
	}
}

func runBrowserOnce(t *testing.T, browser, page string, args ...string) (out []byte, crashed bool, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	base := []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--disable-background-networking", "--disable-dev-shm-usage", "--hide-scrollbars", "--force-color-profile=srgb",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, browser, append(append(base, args...), (&url.URL{Scheme: "file", Path: page}).String())...)
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if cmd.ProcessState != nil && ctx.Err() == nil {
			ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			crashed = ok && ws.Signaled()
		}
		return nil, crashed, fmt.Errorf("%w\n%s", err, stderr.String())
	}
	return stdout.Bytes(), false, nil
}

// TestPreviewHTMLInBrowser opens the demo's page in headless chromium and
// checks from the DOM the browser built that every post, button and image
// of the demo's text output is there, with right-to-left editions laid out
// right to left, and from a screenshot that the page shows its colours.
func TestPreviewHTMLInBrowser(t *testing.T) {
	browser := browserPath(t)
	page, stdout := demoHTML(t)
	path := filepath.Join(t.TempDir(), "demo.html")
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	want := shownPosts(t, stdout)

	dom, err := html.Parse(bytes.NewReader(runBrowser(t, browser, path, "--dump-dom")))
	if err != nil {
		t.Fatal(err)
	}
	var got []shownPost
	dirs := map[string]string{}
	for _, sec := range elements(dom, func(n *html.Node) bool { return n.Data == "section" && attrOf(n, "data-destination") != "" }) {
		dest := attrOf(sec, "data-destination")
		for _, a := range elements(sec, func(n *html.Node) bool { return n.Data == "article" }) {
			p := shownPost{dest: dest, link: attrOf(a, "data-link")}
			for _, row := range elements(a, func(n *html.Node) bool { return classed(n, "tg-row") }) {
				var cells []string
				for _, b := range elements(row, func(n *html.Node) bool { return classed(n, "tg-button") }) {
					cells = append(cells, textContent(b)+" "+unescapeURL(attrOf(b, "href")))
				}
				p.rows = append(p.rows, strings.Join(cells, " | "))
			}
			for _, img := range elements(a, func(n *html.Node) bool { return n.Data == "img" }) {
				u, alt, src := attrOf(img, "data-url"), attrOf(img, "alt"), attrOf(img, "src")
				if !strings.HasPrefix(src, "data:image/png;base64,") {
					t.Errorf("%s: image %s is not inline: src %.40q", dest, u, src)
				}
				if alt == "" {
					t.Errorf("%s: image %s has no alt text", dest, u)
				}
				p.images = append(p.images, shownImage{url: u, alt: alt})
				if strings.HasPrefix(dest, "mastodon-") && len(elements(img.Parent, func(n *html.Node) bool { return classed(n, "md-alt-badge") && textContent(n) == "ALT" })) != 1 {
					t.Errorf("%s: image %s has no ALT badge", dest, u)
				}
			}
			if chat, ok := strings.CutPrefix(dest, "telegram-"); ok {
				names := elements(a, func(n *html.Node) bool { return classed(n, "tg-channel-name") })
				if len(names) != 1 || textContent(names[0]) != "@freedomvoice_"+chat {
					t.Errorf("%s %s: the bubble does not name the channel @freedomvoice_%s", dest, p.link, chat)
				}
			}
			dirs[dest+" "+p.link] = attrOf(a, "dir")
			got = append(got, p)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("the browser shows %d posts, the demo printed %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.dest != w.dest || g.link != w.link {
			t.Errorf("post %d: %s %s, want %s %s", i+1, g.dest, g.link, w.dest, w.link)
			continue
		}
		if !slices.Equal(g.rows, w.rows) {
			t.Errorf("%s %s: button rows\n%s\nwant\n%s", w.dest, w.link, strings.Join(g.rows, "\n"), strings.Join(w.rows, "\n"))
		}
		if len(g.images) != len(w.images) {
			t.Errorf("%s %s: images %v, want %v", w.dest, w.link, g.images, w.images)
			continue
		}
		for j, im := range w.images {
			// Telegram photos have no alt text of their own; the page
			// gives them the article's, which the text output does not show.
			if g.images[j].url != im.url || (im.alt != "" && g.images[j].alt != im.alt) {
				t.Errorf("%s %s: image %v, want %v", w.dest, w.link, g.images[j], im)
			}
		}
		wantDir := "ltr"
		if strings.HasSuffix(w.dest, "-ar") || strings.HasSuffix(w.dest, "-fa") {
			wantDir = "rtl"
		}
		if d := dirs[w.dest+" "+w.link]; d != wantDir {
			t.Errorf("%s %s: dir=%q, want %s", w.dest, w.link, d, wantDir)
		}
	}
	for _, lang := range []string{"ar", "fa"} {
		if !slices.ContainsFunc(want, func(p shownPost) bool { return strings.HasSuffix(p.dest, "-"+lang) }) {
			t.Errorf("the demo posted nothing in %s: the right-to-left layout went unchecked", lang)
		}
	}

	shot := filepath.Join(t.TempDir(), "demo.png")
	runBrowser(t, browser, path, "--window-size=1280,2000", "--screenshot="+shot)
	checkScreenshot(t, shot)
}

// pageColours are colours the page's style sheet paints in solid areas,
// with the least share of the screenshot each must cover when both
// platforms' first posts are in view.
var pageColours = []struct {
	name  string
	c     color.RGBA
	share float64
}{
	{"Telegram wallpaper", color.RGBA{0x9f, 0xc2, 0x8f, 0xff}, 0.02},
	{"Telegram bubble", color.RGBA{0xff, 0xff, 0xff, 0xff}, 0.02},
	{"Telegram button", color.RGBA{0x5e, 0x8a, 0x55, 0xff}, 0.005},
	{"Mastodon column", color.RGBA{0x19, 0x1b, 0x22, 0xff}, 0.005},
	{"Mastodon status", color.RGBA{0x28, 0x2c, 0x37, 0xff}, 0.02},
}

// checkScreenshot decodes the screenshot and checks that it is not blank:
// the bubbles, buttons and status cards are painted in their colours.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1280x2000", b.Dx(), b.Dy())
	}
	counts := make([]int, len(pageColours))
	distinct := map[color.RGBA]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if len(distinct) < 1000 {
				distinct[c] = true
			}
			for i, pc := range pageColours {
				if near(c, pc.c) {
					counts[i]++
				}
			}
		}
	}
	total := float64(b.Dx() * b.Dy())
	var summary []string
	for i, pc := range pageColours {
		share := float64(counts[i]) / total
		summary = append(summary, fmt.Sprintf("%s %.1f%%", pc.name, 100*share))
		if share < pc.share {
			t.Errorf("screenshot: %s (%v) covers %.2f%% of the page, want at least %.1f%%", pc.name, pc.c, 100*share, 100*pc.share)
		}
	}
	if len(distinct) < 50 {
		t.Errorf("screenshot has %d colours: the page looks blank", len(distinct))
	}
	t.Logf("screenshot: %s; %d+ colours", strings.Join(summary, ", "), len(distinct))
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) <= 2 && d(a.G, b.G) <= 2 && d(a.B, b.B) <= 2
}

func elements(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func classed(n *html.Node, class string) bool {
	return slices.Contains(strings.Fields(attrOf(n, "class")), class)
}

func textContent(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// TestPreviewHTML: preview --html writes the posts preview prints as a
// page, with the sample site's images inline, contacting no platform.
func TestPreviewHTML(t *testing.T) {
	site, tg, md := platforms(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), filepath.Join(dir, "state.db")))
	out := filepath.Join(dir, "preview.html")

	r := runCmd(t, context.Background(), platformVars, "preview", "--config", cfg, "--html", out)
	if r.code != 0 {
		t.Fatalf("preview --html = %d\n%s", r.code, r.stderr)
	}
	if len(tg.Calls()) != 0 || len(md.Statuses()) != 0 {
		t.Errorf("preview --html contacted a platform: %d Telegram calls, %d statuses", len(tg.Calls()), len(md.Statuses()))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"123456:ABCDEF", "mastodon-secret"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the page contains the secret %q", secret)
		}
	}
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range elements(doc, func(n *html.Node) bool { return n.Data == "article" }) {
		got = append(got, attrOf(a.Parent, "data-destination")+" "+attrOf(a, "data-link"))
		imgs := elements(a, func(n *html.Node) bool { return n.Data == "img" })
		if len(imgs) != 1 || !strings.HasPrefix(attrOf(imgs[0], "src"), "data:image/png;base64,") {
			t.Errorf("post %s: want one inline image", attrOf(a, "data-link"))
		}
	}
	var want []string
	for _, p := range shownPosts(t, r.stdout) {
		want = append(want, p.dest+" "+p.link)
	}
	if len(want) != 4 || !slices.Equal(got, want) {
		t.Errorf("the page shows\n%s\npreview printed\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A page that cannot be written is an error, and leaves nothing behind.
	bad := filepath.Join(dir, "missing", "preview.html")
	r = runCmd(t, context.Background(), platformVars, "preview", "--config", cfg, "--html", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "html preview") {
		t.Errorf("preview --html into a missing directory = %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Dir(bad)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing directory exists: %v", err)
	}
}
