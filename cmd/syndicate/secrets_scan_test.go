package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
)

// Real-looking secrets: a Telegram token, a Mastodon token and a Redis
// password, none of which may show in any output.
const (
	scanTelegramToken = "7351846290:AAGq8Zr3kVt-Xw2YbN5mLp0sD4fH6jK9uQe"
	scanMastodonToken = "Zk3Qm9PpX2vL7tR4yW8nB1cD6fG0hJ5sAuE9iO3kM"
	scanRedisPassword = "rEd1s-P4ss-7f3a9c2e"
)

// scanFor fails when out holds any of the secrets, or a part of one long
// enough to be recognised (the token's secret half, a prefix of each).
func scanFor(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{scanTelegramToken, scanTelegramToken[11:], scanMastodonToken, scanMastodonToken[:16], scanRedisPassword} {
		if strings.Contains(out, s) {
			t.Errorf("%s shows a secret (%q…):\n%s", what, s[:6], out)
		}
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestNoSecretInAnyOutput drives the error paths a stranger or a mistake
// can reach: tokens the platforms refuse (401), permissions they refuse
// (403), missing things (404), platforms and Redis that cannot be
// reached, with logs as text and as JSON at debug level, through run,
// check, preview, status and validate, and /metrics; every byte written
// is scanned for the secrets.
func TestNoSecretInAnyOutput(t *testing.T) {
	site, _, _ := platforms(t)
	vars := map[string]string{"TELEGRAM_TOKEN": scanTelegramToken, "MASTODON_TOKEN": scanMastodonToken}
	type setup struct {
		name            string
		telegram, mastd string // the platforms' URLs
		md              *mastodonfake.Server
		redis           string // a store.redis.url, or "" for the embedded store
		commands        [][]string
	}
	// refusing knows other tokens: every call is refused with 401.
	refusingTG := telegramfake.New(telegramfake.Options{Tokens: []string{"111:other"}})
	t.Cleanup(refusingTG.Close)
	refusingMD := mastodonfake.New(mastodonfake.Options{Tokens: map[string]string{"other": "x"}})
	t.Cleanup(refusingMD.Close)
	// forbidding knows the tokens but refuses the posts: 403, then 404.
	goodTG := telegramfake.New(telegramfake.Options{Tokens: []string{scanTelegramToken},
		Chats: []telegramfake.Chat{{ID: -1001000000001, Username: "freedomvoice_en"}}})
	t.Cleanup(goodTG.Close)
	forbidding := mastodonfake.New(mastodonfake.Options{Tokens: map[string]string{scanMastodonToken: "freedomvoice"}})
	t.Cleanup(forbidding.Close)
	forbidding.Fail("POST /api/v1/statuses",
		mastodonfake.Fault{Status: http.StatusForbidden, Error: "This action is outside the authorized scopes"},
		mastodonfake.Fault{Status: http.StatusNotFound, Error: "Record not found"})
	down := "http://" + closedAddr(t)
	everything := [][]string{{"validate"}, {"check"}, {"preview"}, {"run", "--once"}, {"status"}, {"status", "--json"}, {"check", "--json"}}
	setups := []setup{
		{name: "tokens refused", telegram: refusingTG.URL(), mastd: refusingMD.URL(), commands: everything},
		{name: "posts refused", telegram: goodTG.URL(), mastd: forbidding.URL(), md: forbidding, commands: everything},
		{name: "platforms unreachable", telegram: down, mastd: down, commands: everything},
		{name: "redis unreachable", telegram: down, mastd: down,
			redis:    "redis://:" + scanRedisPassword + "@" + closedAddr(t) + "/0",
			commands: [][]string{{"validate"}, {"status"}, {"preview"}, {"check"}}},
	}
	for _, s := range setups {
		for _, format := range []string{"text", "json"} {
			t.Run(s.name+"/"+format, func(t *testing.T) {
				dir := t.TempDir()
				cfg := minimalConfig(site.FeedURL("en"), s.mastd, s.telegram, filepath.Join(dir, "state.db"))
				if s.redis != "" {
					cfg = strings.Replace(cfg, "store:\n  embedded:\n    path: "+filepath.Join(dir, "state.db")+"\n",
						"store:\n  redis:\n    url: "+s.redis+"\n", 1)
				}
				cfg += fmt.Sprintf("log: {level: debug, format: %s}\nworker: {start_spread: 0s}\n", format)
				path := filepath.Join(dir, "config.yaml")
				writeFile(t, path, cfg)
				for _, args := range s.commands {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					r := runCmd(t, ctx, vars, append(args, "--config", path)...)
					cancel()
					scanFor(t, strings.Join(args, " "), r.stdout+r.stderr)
					if r.stdout+r.stderr == "" {
						t.Errorf("%v printed nothing", args)
					}
				}
			})
		}
	}
}

// TestNoSecretInMetrics scrapes a running worker that met refused tokens.
func TestNoSecretInMetrics(t *testing.T) {
	site, _, _ := platforms(t)
	refusingTG := telegramfake.New(telegramfake.Options{Tokens: []string{"111:other"}})
	t.Cleanup(refusingTG.Close)
	refusingMD := mastodonfake.New(mastodonfake.Options{Tokens: map[string]string{"other": "x"}})
	t.Cleanup(refusingMD.Close)
	dir := t.TempDir()
	addr := closedAddr(t)
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, minimalConfig(site.FeedURL("en"), refusingMD.URL(), refusingTG.URL(), filepath.Join(dir, "state.db"))+
		"worker: {start_spread: 0s, listen: \""+addr+"\"}\n")
	vars := map[string]string{"TELEGRAM_TOKEN": scanTelegramToken, "MASTODON_TOKEN": scanMastodonToken}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- runCmd(t, ctx, vars, "run", "--config", path) }()
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(body, `outcome="permanent_destination"} 1`) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}
	cancel()
	r := <-done
	if !strings.Contains(body, "syndicate_destination_paused") {
		t.Errorf("/metrics never showed the paused destinations:\n%s", body)
	}
	scanFor(t, "/metrics", body)
	scanFor(t, "run", r.stdout+r.stderr)
}
