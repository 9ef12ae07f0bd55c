package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
)

// onceWithFaults sets up the sample site and both stand-ins with a
// 3-second retry_after waiting for the first Telegram call and a 500 for
// the first Mastodon status, and returns the config file.
func onceWithFaults(t *testing.T) (string, *telegramfake.Server, *mastodonfake.Server) {
	t.Helper()
	site, tg, md := platforms(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), filepath.Join(dir, "state.db")))
	tg.Fail("", 1, telegramfake.TooManyRequests(3))
	md.Fail("POST /api/v1/statuses", mastodonfake.Fault{Status: http.StatusInternalServerError})
	return cfg, tg, md
}

// faultsAnswered checks that the stand-ins did answer the injected faults,
// so that the test exercised the retries.
func faultsAnswered(t *testing.T, tg *telegramfake.Server, md *mastodonfake.Server) {
	t.Helper()
	n429 := 0
	for _, c := range tg.Calls() {
		if c.Code == http.StatusTooManyRequests {
			n429++
		}
	}
	if n429 != 1 || md.CountStatus(http.StatusInternalServerError) != 1 {
		t.Errorf("faults answered: %d Telegram 429s, %d Mastodon 500s; want 1 each", n429, md.CountStatus(http.StatusInternalServerError))
	}
}

func TestRunOnceWaitsForRetries(t *testing.T) {
	t.Parallel()
	cfg, tg, md := onceWithFaults(t)
	r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once")
	if r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	faultsAnswered(t, tg, md)
	if n, s := len(tg.Messages("@freedomvoice_en")), len(md.Statuses()); n < 2 || s != 2 {
		t.Errorf("after run --once: %d Telegram messages, %d statuses; want both articles on each", n, s)
	}
	if strings.Contains(r.stdout, "waiting") {
		t.Errorf("run --once reports deliveries still waiting:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "rate limited; holding the destination back") || !strings.Contains(r.stderr, "delivery failed; will retry") {
		t.Errorf("the log does not show the retries:\n%s", r.stderr)
	}
}

func TestRunOnceWithoutWaitLeavesRetries(t *testing.T) {
	t.Parallel()
	cfg, tg, md := onceWithFaults(t)
	r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once", "--wait", "0")
	if r.code != 0 {
		t.Fatalf("run --once --wait 0 = %d\n%s", r.code, r.stderr)
	}
	faultsAnswered(t, tg, md)
	if n, s := len(tg.Messages("@freedomvoice_en")), len(md.Statuses()); n != 0 || s != 0 {
		t.Errorf("after run --once --wait 0: %d Telegram messages, %d statuses; want none yet", n, s)
	}
	for _, want := range []string{"tg-en: 2 deliveries waiting; next attempt at ", "md-en: 2 deliveries waiting; next attempt at "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if lines := strings.Count(r.stdout, "\n"); lines != 2 {
		t.Errorf("output has %d lines, want one per destination:\n%s", lines, r.stdout)
	}
}

func TestRunWaitFlagNeedsOnce(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--config", "x.yaml", "--wait", "1m"},
		{"run", "--config", "x.yaml", "--once", "--wait", "-1s"},
	} {
		if r := runCmd(t, context.Background(), nil, args...); r.code != 2 {
			t.Errorf("%v = %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}
