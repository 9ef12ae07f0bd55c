package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate/proxy/proxytest"
)

// publicImageHost is an address the address rules allow, which the test
// proxy maps to the test site: the guard checks it, the proxy carries it.
const publicImageHost = "93.184.216.34"

// proxySite serves one article whose first image candidates point at
// internal addresses, and records the paths it was asked for.
func proxySite(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 800, 600)), nil); err != nil {
		t.Fatal(err)
	}
	photo := buf.Bytes()
	var mu sync.Mutex
	var paths []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/feed/":
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>News</title><link>http://news.test/</link><language>en</language>
<item><title>Proxied story</title><link>http://news.test/news/proxied/</link><guid>http://news.test/news/proxied/</guid>
<pubDate>%s</pubDate><description>Something happened.</description>
<media:content url="http://169.254.169.254/latest/meta-data/iam.jpg" medium="image"/>
<content:encoded><![CDATA[<p>Something happened.</p><img src="http://127.0.0.1:%s/uploads/loopback.jpg"><img src="http://localhost:%s/uploads/localhost.jpg"><img src="http://[::ffff:10.0.0.1]/uploads/mapped.jpg"><img src="http://%s/uploads/good.jpg" alt="Good">]]></content:encoded></item>
</channel></rss>`, time.Now().Add(-time.Hour).UTC().Format(time.RFC1123Z), port, port, publicImageHost)
		case "/uploads/good.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(photo)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(paths)
	}
}

func addr(rawURL string) string {
	u, _ := url.Parse(rawURL)
	return u.Host
}

// anyAddr names a loopback listener by 0.0.0.0, which reaches it but,
// unlike 127.0.0.1, is not exempt from proxying by Go's rules: only
// NO_PROXY or "direct" keeps it from the proxy.
func anyAddr(rawURL string) string {
	_, port, _ := net.SplitHostPort(addr(rawURL))
	return "http://0.0.0.0:" + port
}

// Feed fetches, image checks and downloads, and the Telegram and Mastodon
// API calls go through the proxy set in the environment or the config;
// NO_PROXY and "direct" bypass it; images at internal addresses never
// reach it; its password appears in no log line.
func TestOutboundProxy(t *testing.T) {
	const user, password = "syndicate", "hunter2-proxy-pw"
	type want struct {
		posted bool
		// viaProxy are the hosts the proxy must have carried requests to,
		// notVia those it must not have seen.
		viaProxy, notVia []string
	}
	tests := []struct {
		name string
		// env and cfgProxy get the proxy's URL with credentials for %s;
		// urls says where the feed and platforms are named.
		env      map[string]string
		cfgProxy map[string]string
		direct   bool
		want     want
	}{
		{
			name: "environment",
			env:  map[string]string{"HTTP_PROXY": "%s"},
			want: want{posted: true, viaProxy: []string{"news.test", publicImageHost, "api.telegram.test", "mastodon.test"}},
		},
		{
			name:     "configuration",
			cfgProxy: map[string]string{"feeds": "%s", "media": "%s", "platforms": "%s"},
			want:     want{posted: true, viaProxy: []string{"news.test", publicImageHost, "api.telegram.test", "mastodon.test"}},
		},
		{
			name:     "NO_PROXY and direct",
			env:      map[string]string{"HTTP_PROXY": "%s", "NO_PROXY": "0.0.0.0"},
			cfgProxy: map[string]string{"platforms": "direct"},
			direct:   true,
			want:     want{posted: true, viaProxy: []string{publicImageHost}, notVia: []string{"0.0.0.0"}},
		},
		{
			name: "proxy refuses the password",
			env:  map[string]string{"HTTP_PROXY": "wrong"},
			want: want{posted: false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, paths := proxySite(t)
			tg := telegramfake.New(telegramfake.Options{Tokens: []string{"123456:ABCDEF"},
				Chats: []telegramfake.Chat{{ID: -1001000000001, Username: "freedomvoice_en"}}})
			t.Cleanup(tg.Close)
			md := mastodonfake.New(mastodonfake.Options{Tokens: map[string]string{"mastodon-secret": "freedomvoice"}})
			t.Cleanup(md.Close)
			px := proxytest.New(proxytest.Options{User: user, Password: password, Hosts: map[string]string{
				"news.test:80":          addr(site.URL),
				publicImageHost + ":80": addr(site.URL),
				"api.telegram.test:80":  addr(tg.URL()),
				"mastodon.test:80":      addr(md.URL()),
			}})
			t.Cleanup(px.Close)
			proxyURL := px.URLWithCredentials(user, password)
			if tt.name == "proxy refuses the password" {
				proxyURL = px.URLWithCredentials(user, "hunter2-wrong")
			}

			vars := map[string]string{"PROXY_URL": proxyURL}
			for k, v := range platformVars {
				vars[k] = v
			}
			for k, v := range tt.env {
				if v == "%s" || v == "wrong" {
					v = proxyURL
				}
				vars[k] = v
			}
			feedURL, tgURL, mdURL := "http://news.test/feed/", "http://api.telegram.test", "http://mastodon.test"
			if tt.direct {
				feedURL, tgURL, mdURL = anyAddr(site.URL)+"/feed/", anyAddr(tg.URL()), anyAddr(md.URL())
			}
			network := "network:\n"
			for _, group := range []string{"feeds", "media", "platforms"} {
				network += "  " + group + ":\n"
				if group == "media" {
					network += "    allow_private: false\n"
				}
				v := tt.cfgProxy[group]
				if v == "%s" {
					v = "${PROXY_URL}"
				}
				if v != "" {
					network += "    proxy: " + v + "\n"
				}
			}
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.yaml")
			doc := minimalConfig(feedURL, mdURL, tgURL, filepath.Join(dir, "state.db"))
			doc = strings.Replace(doc, "network:\n  media:\n    allow_private: true\n", network, 1)
			doc = strings.Replace(doc, "backfill: 2", "backfill: 1", 1)
			writeFile(t, cfg, doc)

			r := runCmd(t, context.Background(), vars, "run", "--config", cfg, "--once")
			if strings.Contains(r.stderr+r.stdout, "hunter2") {
				t.Errorf("the proxy password is in the output:\n%s", r.stderr)
			}
			asked := px.Requests()
			if !strings.Contains(r.stderr, "outbound proxy") {
				t.Errorf("the proxies in use were not logged:\n%s", r.stderr)
			}
			msgs, statuses := tg.Messages("@freedomvoice_en"), md.Statuses()
			if !tt.want.posted {
				if len(msgs)+len(statuses) != 0 {
					t.Errorf("%d messages and %d statuses through a proxy that refused every request", len(msgs), len(statuses))
				}
				if len(asked) == 0 {
					t.Error("the proxy was never asked")
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
			}
			if len(msgs) != 1 || len(statuses) != 1 {
				t.Fatalf("%d Telegram messages and %d statuses, want 1 of each\n%s", len(msgs), len(statuses), r.stderr)
			}
			if want := "http://" + publicImageHost + "/uploads/good.jpg"; msgs[0].Media != want {
				t.Errorf("Telegram photo %q, want %q", msgs[0].Media, want)
			}
			if len(statuses[0].Media) != 1 || statuses[0].Media[0].Width != 800 {
				t.Errorf("Mastodon media %+v, want the 800x600 image", statuses[0].Media)
			}
			carried := map[string]int{}
			for _, q := range asked {
				if !q.Forwarded {
					t.Errorf("the proxy refused %s %s", q.Method, q.Target)
				}
				u, err := url.Parse(q.Target)
				if err != nil {
					t.Fatal(err)
				}
				carried[u.Hostname()]++
			}
			for _, h := range tt.want.viaProxy {
				if carried[h] == 0 {
					t.Errorf("nothing for %s went through the proxy: %v", h, carried)
				}
			}
			for _, h := range append(tt.want.notVia, "169.254.169.254", "127.0.0.1", "localhost", "::ffff:10.0.0.1") {
				if carried[h] != 0 {
					t.Errorf("the proxy was asked for %s", h)
				}
			}
			for _, p := range paths() {
				if strings.Contains(p, "loopback.jpg") || strings.Contains(p, "localhost.jpg") {
					t.Errorf("the site was asked %s", p)
				}
			}
		})
	}
}
