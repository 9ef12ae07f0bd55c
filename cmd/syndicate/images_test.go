package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
)

// brokenImageSite is a news site whose articles carry the broken images
// seen in the wild: a deleted upload in the feed's media, an <img src=x>
// that resolves to a web page, next to images that load.
//   - /news/broken-first/: media and first content image broken, the
//     second content image good;
//   - /news/page-only/: every feed image broken, the page's og:image good;
//   - /news/nothing/: every image broken, og:image included.
func brokenImageSite(t *testing.T) (*httptest.Server, func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	heads := map[string]int{}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 800, 600)), nil); err != nil {
		t.Fatal(err)
	}
	photo := buf.Bytes()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			mu.Lock()
			heads[r.URL.Path]++
			mu.Unlock()
		}
		switch p := r.URL.Path; {
		case p == "/feed/":
			w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
			fmt.Fprint(w, brokenImageFeed(srv.URL, time.Now()))
		case p == "/uploads/good.jpg" || p == "/uploads/og.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(photo)
		case strings.HasPrefix(p, "/uploads/"):
			http.NotFound(w, r)
		default:
			// Like many sites, any other path is an HTML page.
			og := "/uploads/og.jpg"
			if strings.HasPrefix(p, "/news/nothing/") {
				og = "/uploads/og-deleted.jpg"
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html><head><meta property="og:image" content="%s%s"><title>News</title></head><body>Story</body></html>`, srv.URL, og)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(heads)
	}
}

func brokenImageFeed(base string, now time.Time) string {
	item := func(slug, title string, age time.Duration, media, content string) string {
		return fmt.Sprintf(`<item><title>%s</title><link>%s/news/%s/</link><guid>%s/news/%s/</guid>
<pubDate>%s</pubDate><description>%s happened today, and more.</description>%s
<content:encoded><![CDATA[<p>%s happened today, and more.</p>%s]]></content:encoded></item>`,
			title, base, slug, base, slug, now.Add(-age).UTC().Format(time.RFC1123Z), title, media, title, content)
	}
	deletedMedia := `<media:content url="` + base + `/uploads/deleted.jpg" medium="image" width="1200" height="800"/>`
	return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Broken images</title><link>` + base + `/</link><language>en</language>` +
		item("broken-first", "First image broken", 3*time.Hour, deletedMedia,
			`<img src=x onerror="alert(1)"><img src="/uploads/gone.jpg" width="800" height="600"><img src="/uploads/good.jpg" width="800" height="600" alt="Good">`) +
		item("page-only", "Only the page image loads", 2*time.Hour, deletedMedia, `<img src=x onerror="alert(1)">`) +
		item("nothing", "No image loads", time.Hour, deletedMedia, `<img src="/uploads/gone.jpg" width="800" height="600">`) +
		`</channel></rss>`
}

// An article whose first images are broken is posted with the first image
// that loads, else the page's og:image, else as text, and no platform is
// handed an image it refuses.
func TestBrokenImagesNeverReachPlatforms(t *testing.T) {
	site, heads := brokenImageSite(t)
	tg := telegramfake.New(telegramfake.Options{Tokens: []string{"123456:ABCDEF"}, FetchURLs: true,
		Chats: []telegramfake.Chat{{ID: -1001000000001, Username: "freedomvoice_en"}}})
	t.Cleanup(tg.Close)
	md := mastodonfake.New(mastodonfake.Options{Tokens: map[string]string{"mastodon-secret": "freedomvoice"}})
	t.Cleanup(md.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, strings.Replace(minimalConfig(site.URL+"/feed/", md.URL(), tg.URL(), filepath.Join(dir, "state.db")),
		"backfill: 2", "backfill: 3", 1))

	r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once")
	if r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}

	if refused := tg.Refused(); len(refused) != 0 {
		for _, c := range refused {
			t.Errorf("Telegram refused %s: %s", c.Method, c.Description)
		}
	}
	for _, req := range md.Requests() {
		if req.Status >= 400 {
			t.Errorf("Mastodon refused %s: %d", req.Endpoint, req.Status)
		}
	}

	// Three articles for two destinations name 7 image URLs (the deleted
	// upload in all three, gone.jpg in two): each is checked once.
	checked := heads()
	if len(checked) != 7 {
		t.Errorf("%d image URLs checked, want 7: %v", len(checked), checked)
	}
	for path, n := range checked {
		if n != 1 {
			t.Errorf("%s checked %d times", path, n)
		}
	}

	want := []struct{ title, image string }{
		{"First image broken", site.URL + "/uploads/good.jpg"},
		{"Only the page image loads", site.URL + "/uploads/og.jpg"},
		{"No image loads", ""},
	}
	msgs := tg.Messages("@freedomvoice_en")
	statuses := md.Statuses()
	if len(msgs) != len(want) || len(statuses) != len(want) {
		t.Fatalf("%d Telegram messages and %d statuses, want %d of each", len(msgs), len(statuses), len(want))
	}
	for i, w := range want {
		m, st := msgs[i], statuses[i]
		if !strings.Contains(m.Caption+m.Text, w.title) || !strings.Contains(st.Text, w.title) {
			t.Errorf("post %d is not %q: Telegram %q, Mastodon %q", i, w.title, m.Caption+m.Text, st.Text)
			continue
		}
		if w.image == "" {
			if m.Photo != nil || len(st.Media) != 0 {
				t.Errorf("%q: an image went out (Telegram %q, Mastodon %d media)", w.title, m.Media, len(st.Media))
			}
			continue
		}
		if m.Media != w.image {
			t.Errorf("%q: Telegram photo from %q, want %q", w.title, m.Media, w.image)
		}
		if len(st.Media) != 1 || st.Media[0].Width != 800 {
			t.Errorf("%q: Mastodon media %+v, want the 800x600 image", w.title, st.Media)
		}
	}
}
