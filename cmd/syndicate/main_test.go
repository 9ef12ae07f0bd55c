package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/demosite"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
)

// result is what one invocation of the program did.
type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, ctx context.Context, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
	code := run(ctx, args, env{lookup: lookup}, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func TestVersionAndHelp(t *testing.T) {
	r := runCmd(t, context.Background(), nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "syndicate ") {
		t.Errorf("--version = %d %q", r.code, r.stdout)
	}
	r = runCmd(t, context.Background(), nil, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "syndicate run --config FILE") {
		t.Errorf("--help = %d %q", r.code, r.stdout)
	}
	for _, cmd := range []string{"run", "validate", "preview", "demo", "status", "retry"} {
		r := runCmd(t, context.Background(), nil, cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stderr, "syndicate "+cmd) || !strings.Contains(r.stderr, "-") {
			t.Errorf("%s --help = %d, stderr %q", cmd, r.code, r.stderr)
		}
	}
	if r := runCmd(t, context.Background(), nil, "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("unknown command = %d %q", r.code, r.stderr)
	}
	if r := runCmd(t, context.Background(), nil, "run", "--nope"); r.code != 2 {
		t.Errorf("unknown flag exit code = %d, want 2", r.code)
	}
	if r := runCmd(t, context.Background(), nil, "run"); r.code != 1 || !strings.Contains(r.stderr, "--config FILE is required") {
		t.Errorf("run without --config = %d %q", r.code, r.stderr)
	}
}

func TestValidate(t *testing.T) {
	vars := map[string]string{"TELEGRAM_TOKEN": "123456:ABCDEF", "MASTODON_TOKEN": "secret"}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, minimalConfig("https://example.org/feed/", "https://mastodon.example", "https://api.telegram.org", filepath.Join(dir, "state.db")))
	r := runCmd(t, context.Background(), vars, "validate", "--config", good)
	if r.code != 0 || !strings.Contains(r.stdout, "OK (1 feeds, 2 destinations, 1 routes)") {
		t.Fatalf("validate good config = %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}

	broken := filepath.Join(dir, "broken.yaml")
	writeFile(t, broken, `feeds:
  - id: en
    url: ftp://example.org/feed
    poll_interval: 5s
    colour: blue
telegram:
  bots:
    - id: main
      token: ${MISSING_TOKEN}
  channels:
    - id: tg
      bot: nobody
      chat: "not a chat"
routes:
  - feeds: [en, de]
    to: [tg, md]
`)
	r = runCmd(t, context.Background(), nil, "validate", "--config", broken)
	if r.code != 1 {
		t.Fatalf("validate broken config exit code = %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		broken + ":3:10: feeds[0].url",
		broken + ":4:20: feeds[0].poll_interval",
		broken + ":5:5: feeds[0].colour",
		broken + ":9:14: telegram.bots[0].token",
		broken + ":12:12: telegram.channels[0].bot",
		broken + ":13:13: telegram.channels[0].chat",
		"routes[0].feeds[1]", "routes[0].to[1]",
		"problem(s)",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("validate output lacks %q:\n%s", want, r.stderr)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// minimalConfig routes one feed to one Telegram channel and one Mastodon
// account, with secrets from the environment.
func minimalConfig(feedURL, mastodonURL, telegramURL, dbPath string) string {
	return fmt.Sprintf(`store:
  embedded:
    path: %s
network:
  media:
    allow_private: true
feeds:
  - id: en
    url: %s
    language: en
telegram:
  bots:
    - id: main
      token: ${TELEGRAM_TOKEN}
      api_url: %s
  channels:
    - id: tg-en
      chat: "@freedomvoice_en"
      per_minute: 600
mastodon:
  accounts:
    - id: md-en
      server: %s
      access_token: ${MASTODON_TOKEN}
routes:
  - feeds: [en]
    to: [tg-en, md-en]
    backfill: 2
`, dbPath, feedURL, telegramURL, mastodonURL)
}

// platforms starts the sample site and both platform stand-ins.
func platforms(t *testing.T) (*demosite.Site, *telegramfake.Server, *mastodonfake.Server) {
	t.Helper()
	site, err := demosite.Start(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	tg := telegramfake.New(telegramfake.Options{Tokens: []string{"123456:ABCDEF"},
		Chats: []telegramfake.Chat{{ID: -1001000000001, Username: "freedomvoice_en"}}})
	t.Cleanup(tg.Close)
	md := mastodonfake.New(mastodonfake.Options{Tokens: map[string]string{"mastodon-secret": "freedomvoice"}})
	t.Cleanup(md.Close)
	return site, tg, md
}

var platformVars = map[string]string{"TELEGRAM_TOKEN": "123456:ABCDEF", "MASTODON_TOKEN": "mastodon-secret"}

func TestRunOncePostsNewItemsOnce(t *testing.T) {
	site, tg, md := platforms(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), filepath.Join(dir, "state.db")))

	r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once")
	if r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	msgs := tg.Messages("@freedomvoice_en")
	statuses := md.Statuses()
	if len(msgs) < 2 || len(statuses) != 2 {
		t.Fatalf("after the first run: %d Telegram messages, %d statuses; want the 2 backfilled articles on each", len(msgs), len(statuses))
	}
	for _, secret := range []string{"123456:ABCDEF", "mastodon-secret"} {
		if strings.Contains(r.stderr, secret) || strings.Contains(r.stdout, secret) {
			t.Errorf("output contains the secret %q", secret)
		}
	}

	r = runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once")
	if r.code != 0 {
		t.Fatalf("second run --once = %d\n%s", r.code, r.stderr)
	}
	if n := len(tg.Messages("@freedomvoice_en")); n != len(msgs) {
		t.Errorf("second run changed Telegram messages from %d to %d", len(msgs), n)
	}
	if n := len(md.Statuses()); n != 2 {
		t.Errorf("second run changed statuses from 2 to %d", n)
	}
}

func TestRunOnceFatalStoreError(t *testing.T) {
	site, tg, md := platforms(t)
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	writeFile(t, blocker, "")
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), filepath.Join(blocker, "state.db")))
	r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once")
	if r.code != 1 || !strings.Contains(r.stderr, "embedded store") {
		t.Errorf("run with an unusable store = %d %q", r.code, r.stderr)
	}
}

func TestPreviewChangesNothing(t *testing.T) {
	site, tg, md := platforms(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	db := filepath.Join(dir, "state.db")
	writeFile(t, cfg, minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), db))

	r := runCmd(t, context.Background(), platformVars, "preview", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("preview = %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"tg-en", "md-en", "Video: thousands rally", "4 post(s) would be sent"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("preview lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "123456:ABCDEF") || strings.Contains(r.stdout, "mastodon-secret") {
		t.Error("preview shows a secret")
	}
	if len(tg.Calls()) != 0 || len(md.Statuses()) != 0 {
		t.Errorf("preview contacted a platform: %d Telegram calls, %d statuses", len(tg.Calls()), len(md.Statuses()))
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("preview created the state file: %v", err)
	}
	// What preview showed is what run posts.
	if r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once"); r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	if n := len(md.Statuses()); n != 2 {
		t.Errorf("run after preview posted %d statuses, want 2", n)
	}
	r = runCmd(t, context.Background(), platformVars, "preview", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "0 post(s) would be sent") {
		t.Errorf("preview after the run = %d\n%s", r.code, r.stdout)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	site, tg, md := platforms(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	// Polled at once rather than within the first minute.
	writeFile(t, cfg, minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), filepath.Join(dir, "state.db"))+
		"worker:\n  start_spread: 0s\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- runCmd(t, ctx, platformVars, "run", "--config", cfg) }()
	deadline := time.After(20 * time.Second)
	for len(md.Statuses()) < 2 {
		select {
		case r := <-done:
			t.Fatalf("run returned early: %d\n%s", r.code, r.stderr)
		case <-deadline:
			t.Fatal("run posted nothing")
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	select {
	case r := <-done:
		if r.code != 0 || !strings.Contains(r.stderr, "stopped") {
			t.Errorf("run after cancel = %d\n%s", r.code, r.stderr)
		}
	case <-deadline:
		t.Fatal("run did not stop after cancel")
	}
}

func TestDemoTwice(t *testing.T) {
	dir := t.TempDir()
	r := runCmd(t, context.Background(), map[string]string{"HOME": dir}, "demo", "--state-dir", dir)
	if r.code != 0 {
		t.Fatalf("demo = %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"telegram-en", "mastodon-ar", "telegram-fa", "mastodon-sq",
		"Newsletter No. 142", "إضراب المعلمين", "نامه‌ی ۳۰۰ فعال", "Protesta në Tiranë",
		"youtube.com/watch?v=dQw4w9WgXcQ", "newsletter-142.pdf",
		"post(s) delivered",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(r.stdout)
	}
	again := runCmd(t, context.Background(), map[string]string{"HOME": dir}, "demo", "--state-dir", dir)
	if again.code != 0 || !strings.Contains(again.stdout, "Nothing new to post") {
		t.Errorf("second demo = %d\n%s\n%s", again.code, again.stdout, again.stderr)
	}
}

func TestStatusAndRetry(t *testing.T) {
	site, tg, md := platforms(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), filepath.Join(dir, "state.db")))
	// The server refuses one status for a reason no re-render fixes.
	md.Fail("POST /api/v1/statuses", mastodonfake.Fault{Status: 422, Error: "Validation failed: Language is not supported"})
	if r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once"); r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	if n := len(md.Statuses()); n != 1 {
		t.Fatalf("statuses after a refused one = %d, want 1", n)
	}
	r := runCmd(t, context.Background(), platformVars, "status", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("status = %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"FEED", "en ", "DESTINATION", "tg-en", "md-en", "parked", "Language is not supported", "syndicate retry"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCmd(t, context.Background(), platformVars, "retry", "--config", cfg, "--destination", "md-en")
	if r.code != 0 || !strings.Contains(r.stdout, "1 delivery queued again") {
		t.Fatalf("retry = %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once"); r.code != 0 {
		t.Fatalf("run --once after retry = %d\n%s", r.code, r.stderr)
	}
	if n := len(md.Statuses()); n != 2 {
		t.Errorf("statuses after retry = %d, want 2", n)
	}
	if r := runCmd(t, context.Background(), platformVars, "retry", "--config", cfg, "--destination", "nope"); r.code != 1 || !strings.Contains(r.stderr, "unknown destination") {
		t.Errorf("retry on an unknown destination = %d %q", r.code, r.stderr)
	}
}

func TestRunOnceWithRedis(t *testing.T) {
	site, tg, md := platforms(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	text := minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), filepath.Join(dir, "unused.db"))
	text = strings.Replace(text, "store:\n  embedded:\n    path: "+filepath.Join(dir, "unused.db")+"\n",
		"store:\n  redis:\n    url: ${REDIS_URL}\n    key_prefix: "+redistest.Prefix(t)+"\n", 1)
	writeFile(t, cfg, text)
	vars := map[string]string{"REDIS_URL": redistest.URL(t)}
	for k, v := range platformVars {
		vars[k] = v
	}
	for range 2 {
		if r := runCmd(t, context.Background(), vars, "run", "--config", cfg, "--once"); r.code != 0 {
			t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
		}
	}
	if n := len(md.Statuses()); n != 2 {
		t.Errorf("statuses after two runs on Redis = %d, want 2", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "unused.db")); !os.IsNotExist(err) {
		t.Errorf("an embedded store was created although Redis is configured")
	}
	r := runCmd(t, context.Background(), vars, "status", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "md-en") {
		t.Errorf("status on Redis = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestRunServesMetricsAndHealth(t *testing.T) {
	site, tg, md := platforms(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cfg := filepath.Join(dir, "config.yaml")
	// No host: loopback only.
	writeFile(t, cfg, minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), filepath.Join(dir, "state.db"))+
		"worker:\n  start_spread: 0s\n  listen: \":"+port+"\"\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- runCmd(t, ctx, platformVars, "run", "--config", cfg) }()
	defer func() {
		cancel()
		<-done
	}()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get("/metrics")
		if code == http.StatusOK && strings.Contains(body, `syndicate_deliveries_total{destination="md-en",outcome="sent"} 2`) {
			for _, want := range []string{`syndicate_ambiguous_deliveries_total{destination="tg-en"} 0`, `syndicate_store_up 1`, `syndicate_feed_polls_total{feed="en",result="ok"} 1`} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed the deliveries: %d\n%s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d %s", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, body)
	}
	// Not served on the machine's other addresses.
	if ips := nonLoopbackIPs(t); len(ips) > 0 {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(ips[0], port), time.Second); err == nil {
			c.Close()
			t.Errorf("listen \":%s\" is reachable at %s", port, ips[0])
		}
	}
}

// nonLoopbackIPs lists this machine's addresses other than loopback.
func nonLoopbackIPs(t *testing.T) []string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			out = append(out, n.IP.String())
		}
	}
	return out
}

func TestOpsAddress(t *testing.T) {
	for in, want := range map[string]string{
		":9090":          "127.0.0.1:9090",
		"0.0.0.0:9090":   "0.0.0.0:9090",
		"[::]:9090":      "[::]:9090",
		"10.0.0.5:9090":  "10.0.0.5:9090",
		"localhost:9090": "localhost:9090",
	} {
		if got := opsAddress(in); got != want {
			t.Errorf("opsAddress(%q) = %q; want %q", in, got, want)
		}
	}
}
