package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate/websub/websubtest"
)

// TestRunPushCallbacks: with push on, the worker subscribes a feed that
// names a hub, answers the hub's verification on worker.listen under
// public_url's path (and without it, for a proxy that strips it), and
// posts an article published at the hub although the feed is polled only
// hourly.
func TestRunPushCallbacks(t *testing.T) {
	hub := websubtest.Start(websubtest.Options{})
	defer hub.Close()
	site := &pushSite{hub: hub.URL(), items: map[int][]string{}}
	site.srv = httptest.NewServer(http.HandlerFunc(site.serve))
	defer site.srv.Close()
	site.add(0, "First article")
	const token = "123456:PUSH-test"
	tg := telegramfake.New(telegramfake.Options{Tokens: []string{token}, Chats: []telegramfake.Chat{{ID: -1001, Username: "pushtest"}}})
	defer tg.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, fmt.Sprintf(`store:
  embedded: {path: %s}
defaults: {poll_interval: 1h, backfill: 0}
network:
  feeds: {allow_private: true}
worker: {listen: %q, start_spread: 0s}
push: {enabled: true, public_url: "http://%s/hooks/"}
telegram:
  bots: [{id: main, token: %q, api_url: %s}]
  channels: [{id: tg, chat: "@pushtest", format: {link_preview: false}}]
feeds: [{id: f0, url: %s, language: en}]
routes: [{feeds: [f0], to: [tg]}]
`, filepath.Join(dir, "state.db"), addr, addr, token, tg.URL(), site.feedURL(0)))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- runCmd(t, ctx, nil, "run", "--config", cfg) }()
	defer func() {
		cancel()
		if r := <-done; r.code != 0 {
			t.Errorf("run = %d\n%s", r.code, r.stderr)
		}
	}()
	if !websubtest.Wait(30*time.Second, func() bool { return len(hub.Subscriptions()) == 1 }) {
		t.Fatalf("no subscription verified at the hub (errors %v)", hub.Errors())
	}
	sub := hub.Subscriptions()[0]
	prefix := "http://" + addr + "/hooks/websub/f0/"
	if sub.Topic != site.feedURL(0) || !strings.HasPrefix(sub.Callback, prefix) || len(sub.Secret) != 64 {
		t.Fatalf("subscription %q at %q; want the feed's self URL and a callback under %s", sub.Topic, sub.Callback, prefix)
	}

	site.add(0, "Pushed article")
	if codes, err := hub.Publish(site.feedURL(0), "application/rss+xml", []byte("<rss/>")); err != nil || len(codes) != 1 || codes[0] != http.StatusAccepted {
		t.Fatalf("publish = %v, %v", codes, err)
	}
	if !websubtest.Wait(20*time.Second, func() bool {
		for _, m := range tg.Messages("@pushtest") {
			if strings.Contains(m.Text, "Pushed article") {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("the pushed article was not posted; messages %v", tg.Messages("@pushtest"))
	}

	// A proxy that strips public_url's path reaches the same callback.
	stripped := "http://" + addr + "/websub/f0/" + strings.TrimPrefix(sub.Callback, prefix)
	body := []byte("<rss/>")
	req, _ := http.NewRequest(http.MethodPost, stripped, bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature", websubtest.Sign("sha1", sub.Secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("notification without the path prefix: %d", resp.StatusCode)
	}
	// The operations endpoints are still served.
	resp, err = http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
}
