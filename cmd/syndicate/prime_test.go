package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// changingFeed serves an RSS feed whose items the test sets.
type changingFeed struct {
	*httptest.Server
	mu    sync.Mutex
	items []string
}

func newChangingFeed(t *testing.T, items ...string) *changingFeed {
	f := &changingFeed{items: items}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", rssType)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Freedom Voice</title><link>https://freedomvoice.example/</link><language>en</language>`)
		for i, it := range f.items {
			// Newest first, an hour apart, all recent.
			date := time.Now().Add(-time.Duration(i+1) * time.Hour).Format(time.RFC1123Z)
			fmt.Fprintf(w, `<item><title>%s</title><link>https://freedomvoice.example/%s/</link><guid>https://freedomvoice.example/?p=%s</guid><pubDate>%s</pubDate><description>What happened: %s.</description></item>`, it, it, it, date, it)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *changingFeed) set(items ...string) {
	f.mu.Lock()
	f.items = items
	f.mu.Unlock()
}

func TestPrimeThenRunPostsNothingOld(t *testing.T) {
	_, tg, md := platforms(t)
	feed := newChangingFeed(t, "strike", "rally", "letter")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	// The route backfills 2 items: priming must win over it.
	writeFile(t, cfg, minimalConfig(feed.URL+"/feed/", md.URL(), tg.URL(), filepath.Join(dir, "state.db")))

	r := runCmd(t, context.Background(), platformVars, "prime", "--config", cfg, "--feed", "en")
	if r.code != 0 {
		t.Fatalf("prime = %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"en: 3 items in the feed, 3 marked as seen\n", "3 items marked as seen in 1 feeds; none will be posted."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("prime output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "priming [1/1] en: 3 items, 3 newly seen\n") {
		t.Errorf("prime progress without a terminal is not a plain line:\n%s", r.stderr)
	}
	if len(tg.Calls()) != 0 || len(md.Statuses()) != 0 {
		t.Fatalf("prime contacted a platform: %d Telegram calls, %d statuses", len(tg.Calls()), len(md.Statuses()))
	}

	if r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once"); r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	if n, m := len(tg.Messages("@freedomvoice_en")), len(md.Statuses()); n != 0 || m != 0 {
		t.Errorf("run after prime posted %d Telegram messages and %d statuses, want none", n, m)
	}

	feed.set("verdict", "strike", "rally", "letter")
	if r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once"); r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	statuses := md.Statuses()
	if len(statuses) != 1 || !strings.Contains(fmt.Sprint(statuses[0]), "verdict") {
		t.Errorf("after a new article: statuses %v, want only the new one", statuses)
	}

	// Priming again marks only what is new since.
	feed.set("appeal", "verdict", "strike", "rally", "letter")
	r = runCmd(t, context.Background(), platformVars, "prime", "--config", cfg, "--all")
	if r.code != 0 || !strings.Contains(r.stdout, "en: 5 items in the feed, 1 marked as seen\n") {
		t.Errorf("prime --all = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestPrimeDisabledFeedAndErrors(t *testing.T) {
	_, tg, md := platforms(t)
	feed := newChangingFeed(t, "strike", "rally")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	text := minimalConfig(feed.URL+"/feed/", md.URL(), tg.URL(), filepath.Join(dir, "state.db"))
	text = strings.Replace(text, "    language: en\n", "    language: en\n    disabled: true\n", 1)
	writeFile(t, cfg, text)

	// --all skips disabled feeds; naming one primes it before it is enabled.
	if r := runCmd(t, context.Background(), platformVars, "prime", "--config", cfg, "--all"); r.code != 1 || !strings.Contains(r.stderr, "no enabled feed to prime") {
		t.Errorf("prime --all with only a disabled feed = %d\n%s", r.code, r.stderr)
	}
	r := runCmd(t, context.Background(), platformVars, "prime", "--config", cfg, "--feed", "en")
	if r.code != 0 || !strings.Contains(r.stdout, "en: 2 items in the feed, 2 marked as seen") {
		t.Fatalf("prime of a disabled feed = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	writeFile(t, cfg, strings.Replace(text, "    disabled: true\n", "", 1))
	if r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once"); r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	if n := len(md.Statuses()); n != 0 {
		t.Errorf("run after priming the disabled feed and enabling it posted %d statuses", n)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--config", cfg}, 2, "give --feed ID (one or more) or --all"},
		{[]string{"--config", cfg, "--all", "--feed", "en"}, 2, "give --feed ID (one or more) or --all"},
		{[]string{"--config", cfg, "--feed", "de"}, 1, `unknown feed "de" (feeds: [en])`},
	} {
		r := runCmd(t, context.Background(), platformVars, append([]string{"prime"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("prime %q = %d, want %d with %q\n%s", tc.args, r.code, tc.code, tc.want, r.stderr)
		}
	}

	feed.Close()
	r = runCmd(t, context.Background(), platformVars, "prime", "--config", cfg, "--feed", "en")
	if r.code != 1 || !strings.Contains(r.stdout, "en: failed: fetch feed en:") || !strings.Contains(r.stderr, "1 of 1 feeds failed") {
		t.Errorf("prime of an unreachable feed = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestNewCommandsHelp(t *testing.T) {
	for cmd, usage := range map[string]string{
		"prime":       "syndicate prime [flags]",
		"discover":    "syndicate discover URL [flags]",
		"import-opml": "syndicate import-opml FILE [flags]",
	} {
		r := runCmd(t, context.Background(), nil, cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stderr, usage) || !strings.Contains(r.stderr, "-") {
			t.Errorf("%s --help = %d\n%s", cmd, r.code, r.stderr)
		}
		if h := runCmd(t, context.Background(), nil, "--help"); !strings.Contains(h.stdout, "syndicate "+cmd+" ") {
			t.Errorf("the usage does not list %s:\n%s", cmd, h.stdout)
		}
	}
}
