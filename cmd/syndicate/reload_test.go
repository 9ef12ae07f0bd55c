package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/demosite"
	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
)

// reloadConfigText is the config of the reload test: feeds and routes as
// given, the Telegram channels tg-en, tg-fa and tg-ar and the Mastodon
// account md-en, each present when a route names it.
func reloadConfigText(db, listen string, site *demosite.Site, tg *telegramfake.Server, md *mastodonfake.Server, feeds []string, routes string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "store:\n  embedded:\n    path: %s\nnetwork:\n  media:\n    allow_private: true\nworker:\n  start_spread: 0s\n  listen: %q\nfeeds:\n", db, listen)
	for _, f := range feeds {
		fmt.Fprintf(&b, "  - id: %s\n    url: %s\n    language: %s\n", f, site.FeedURL(f), f)
	}
	fmt.Fprintf(&b, "telegram:\n  bots:\n    - id: main\n      token: ${TELEGRAM_TOKEN}\n      api_url: %s\n  channels:\n", tg.URL())
	for _, ch := range []string{"en", "fa", "ar"} {
		if strings.Contains(routes, "tg-"+ch) {
			fmt.Fprintf(&b, "    - id: tg-%s\n      chat: \"@freedomvoice_%s\"\n      per_minute: 600\n", ch, ch)
		}
	}
	fmt.Fprintf(&b, "mastodon:\n  accounts:\n    - id: md-en\n      server: %s\n      access_token: ${MASTODON_TOKEN}\n", md.URL())
	b.WriteString("routes:\n" + routes)
	return b.String()
}

// TestReloadOnSIGHUP runs the worker as a process and sends it SIGHUP:
// first with a file that does not validate (the running config stays and
// the problem is logged with file and line), then with a feed and a
// destination added and a feed and a destination removed (the new feed
// is primed and its backfill posted at the new destination; the removed
// destination's queued jobs stay in the store). /readyz answers 200 all
// along.
func TestReloadOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program as a process: skipped under -short")
	}
	bin := syndicateBinary(t)
	site, err := demosite.Start(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	tg := telegramfake.New(telegramfake.Options{Tokens: []string{"123456:ABCDEF"}, Chats: []telegramfake.Chat{
		{ID: -1001000000001, Username: "freedomvoice_en"},
		{ID: -1001000000002, Username: "freedomvoice_fa"},
		{ID: -1001000000003, Username: "freedomvoice_ar"},
	}})
	t.Cleanup(tg.Close)
	md := mastodonfake.New(mastodonfake.Options{Tokens: map[string]string{"mastodon-secret": "freedomvoice"}})
	t.Cleanup(md.Close)
	// The Farsi channel is rate limited for an hour: its jobs wait in the
	// queue when it leaves the config.
	tg.FailChat("@freedomvoice_fa", "", 1, telegramfake.TooManyRequests(3600))

	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	cfg := filepath.Join(dir, "config.yaml")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	first := reloadConfigText(db, addr, site, tg, md, []string{"en", "fa"},
		"  - feeds: [en]\n    to: [tg-en, md-en]\n    backfill: 2\n  - feeds: [fa]\n    to: [tg-fa]\n    backfill: 2\n")
	second := reloadConfigText(db, addr, site, tg, md, []string{"en", "ar"},
		"  - feeds: [en]\n    to: [tg-en, md-en]\n    backfill: 2\n  - feeds: [ar]\n    to: [tg-ar]\n    backfill: 1\n")
	writeFile(t, cfg, first)

	logPath := filepath.Join(dir, "worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = []string{"TELEGRAM_TOKEN=123456:ABCDEF", "MASTODON_TOKEN=mastodon-secret", "HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var exit error
	go func() {
		exit = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("worker log:\n%s", tail(logPath, 60))
		}
	})
	logHas := func(s string) bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), s)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			select {
			case <-done:
				t.Fatalf("worker exited while waiting for %s: %v", what, exit)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// /readyz is asked throughout, from the first answer until the stop.
	var probes, notReady atomic.Int64
	var firstBad atomic.Value
	stopProbes := make(chan struct{})
	var probing sync.WaitGroup
	ready := func() (int, error) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	waitFor("/readyz", func() bool { code, _ := ready(); return code == http.StatusOK })
	probing.Go(func() {
		for {
			select {
			case <-stopProbes:
				return
			case <-time.After(10 * time.Millisecond):
			}
			code, err := ready()
			probes.Add(1)
			if code != http.StatusOK {
				notReady.Add(1)
				firstBad.CompareAndSwap(nil, fmt.Sprintf("%d %v", code, err))
			}
		}
	})

	waitFor("the English backfill and the Farsi 429", func() bool {
		n429 := 0
		for _, c := range tg.Calls() {
			if c.Code == http.StatusTooManyRequests {
				n429++
			}
		}
		return len(tg.Messages("@freedomvoice_en")) >= 2 && len(md.Statuses()) == 2 && n429 == 1 && logHas("rate limited; holding the destination back")
	})

	// A file that does not validate: a route to a destination not defined.
	bad := strings.Replace(second, "to: [tg-ar]", "to: [tg-ar, tg-xx]", 1)
	writeFile(t, cfg, bad)
	badLine := 0
	for i, l := range strings.Split(bad, "\n") {
		if strings.Contains(l, "tg-xx") {
			badLine = i + 1
		}
	}
	cmd.Process.Signal(syscall.SIGHUP)
	problem := regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("%s:%d:", cfg, badLine)) + `[0-9]+: routes\[1\]\.to\[1\]`)
	waitFor("the refused reload in the log", func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), "config reload refused") && problem.Match(b)
	})
	// The old config keeps running: nothing of the new one is in force
	// (the good reload below still finds fa and tg-fa to remove).
	if logHas("config reloaded") || len(tg.Messages("@freedomvoice_ar")) != 0 {
		t.Fatal("a config that does not validate was put in force")
	}

	// The good file: ar and tg-ar come, fa and tg-fa go.
	writeFile(t, cfg, second)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("the reload", func() bool { return logHas("config reloaded") })
	waitFor("the Arabic backfill on tg-ar", func() bool { return len(tg.Messages("@freedomvoice_ar")) >= 1 })
	for _, want := range []string{"feeds_added=[ar]", "feeds_removed=[fa]", "destinations_added=[tg-ar]", "destinations_removed=[tg-fa]"} {
		if !logHas(want) {
			t.Errorf("the reload log lacks %s", want)
		}
	}
	if n := len(tg.Messages("@freedomvoice_fa")); n != 0 {
		t.Errorf("tg-fa got %d messages", n)
	}

	close(stopProbes)
	probing.Wait()
	cmd.Process.Signal(syscall.SIGTERM)
	<-done
	if exit != nil {
		t.Errorf("worker exit after SIGTERM: %v", exit)
	}
	if probes.Load() == 0 || notReady.Load() != 0 {
		t.Errorf("/readyz: %d of %d probes not 200 (first: %v)", notReady.Load(), probes.Load(), firstBad.Load())
	}

	// The removed destination's jobs are still queued for when it returns.
	st, err := boltstore.Open(db, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	queued, err := st.List(context.Background(), "tg-fa", 0, syndicate.StatusQueued)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 {
		t.Errorf("tg-fa has %d queued jobs after it was removed, want its backfilled article (the feed has one)", len(queued))
	}
}

// TestReloadKeepsUnchangedPublishers: a reload builds publishers only for
// the destinations whose settings changed, so that the others keep their
// pacing and what they learnt.
func TestReloadKeepsUnchangedPublishers(t *testing.T) {
	dir := t.TempDir()
	text := minimalConfig("https://example.org/feed/", "https://mastodon.example", "https://api.telegram.org", filepath.Join(dir, "state.db"))
	vars := map[string]string{"OTHER_TOKEN": "654321:GHIJKL"}
	for k, v := range platformVars {
		vars[k] = v
	}
	load := func(t *testing.T, text string) *config.Config {
		t.Helper()
		path := filepath.Join(dir, "config.yaml")
		writeFile(t, path, text)
		cfg, err := loadConfig(path, env{lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	a, err := build(context.Background(), load(t, text), buildOptions{logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tests := []struct {
		name   string
		text   string
		keepTg bool
		keepMd bool
	}{
		{"nothing changed", text, true, true},
		{"a channel's pace changed", strings.Replace(text, "per_minute: 600", "per_minute: 20", 1), false, true},
		{"the bot's token changed", strings.Replace(text, "${TELEGRAM_TOKEN}", "${OTHER_TOKEN}", 1), false, true},
		{"the account's server changed", strings.Replace(text, "https://mastodon.example", "https://social.example", 1), true, false},
		{"a delivery policy changed", text + "delivery:\n  max_attempts: 3\n", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.dests
			cfg := a.cfg
			defer func() { a.dests, a.cfg = before, cfg }()
			dests, err := a.rebuildDestinations(load(t, tt.text))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range dests {
				kept := d.Publisher == before[d.ID].Publisher
				want := map[string]bool{"tg-en": tt.keepTg, "md-en": tt.keepMd}[d.ID]
				if kept != want {
					t.Errorf("%s: publisher kept %v, want %v", d.ID, kept, want)
				}
				if wantAttempts := policy(load(t, tt.text).DeliveryPolicy(d.ID)).MaxAttempts; d.Policy.MaxAttempts != wantAttempts {
					t.Errorf("%s: policy max attempts %d, want the new config's %d", d.ID, d.Policy.MaxAttempts, wantAttempts)
				}
			}
		})
	}
}
