package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
)

// The delivery benchmark runs `run` in process with a backlog queued at
// once (a route's backfill) against the Telegram stand-in, which enforces
// Telegram's windows (20 posts a minute to a chat, 30 calls a second per
// bot) with 429s, and measures the pace the worker keeps: the posts past
// the first window's worth, per window of the time they took.

// deliverCase is one measured pace.
type deliverCase struct {
	Limit    string  `json:"limit"`
	Posts    int     `json:"posts"`
	Seconds  float64 `json:"seconds"`
	PerLimit float64 `json:"achieved_per_window"`
	Allowed  int     `json:"allowed_per_window"`
	Percent  float64 `json:"percent"`
	Refused  int     `json:"refused_429"`
}

func cmdBenchDeliver(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("bench deliver", "Measure the delivery pace against the Telegram stand-in's windows: one chat with a\nbacklog (the per-chat limit), then many chats at once (the per-bot limit).", stderr)
	chatPosts := fs.Int("chat-posts", 60, "backlog of the one chat (20 a minute: 60 take two minutes)")
	chats := fs.Int("chats", 40, "chats of the bot case")
	perChat := fs.Int("per-chat", 20, "backlog of each chat in the bot case")
	cases := fs.String("cases", "chat,bot", "which limits to measure")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *chatPosts < 21 || *chats < 2 || *perChat < 1 {
		return errors.New("--chat-posts must be above 20, --chats at least 2, --per-chat at least 1")
	}
	var out []deliverCase
	for _, c := range []struct {
		name, limit  string
		chats, posts int
		events       int
		per          time.Duration
	}{
		{"chat", "telegram chat: 20 a minute", 1, *chatPosts, 20, time.Minute},
		{"bot", "telegram bot: 30 a second", *chats, *perChat, 30, time.Second},
	} {
		if !slices.Contains(strings.Split(*cases, ","), c.name) {
			continue
		}
		dc, err := benchDeliverCase(ctx, env, c.limit, c.chats, c.posts, c.events, c.per)
		if err != nil {
			return err
		}
		out = append(out, dc)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintln(stdout, "| limit | posts | seconds | achieved per window | % of the limit | 429s |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---:|")
	for _, c := range out {
		fmt.Fprintf(stdout, "| %s | %d | %.1f | %.2f of %d | %.1f%% | %d |\n", c.Limit, c.Posts, c.Seconds, c.PerLimit, c.Allowed, c.Percent, c.Refused)
	}
	return nil
}

// benchDeliverCase queues posts articles for each of chats chats at once
// and measures the sends at the stand-in.
func benchDeliverCase(ctx context.Context, env env, limit string, chats, posts, events int, per time.Duration) (deliverCase, error) {
	dir, err := os.MkdirTemp("", "syndicate-bench-deliver-")
	if err != nil {
		return deliverCase{}, err
	}
	defer os.RemoveAll(dir)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Backlog</title><link>https://news.example.org/</link>`)
		for i := range posts {
			fmt.Fprintf(&b, `<item><title>Article %d of %s</title><link>https://news.example.org%s/%d</link><description>Article %d.</description></item>`, i, r.URL.Path, r.URL.Path, i, i)
		}
		b.WriteString(`</channel></rss>`)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, b.String())
	}))
	defer site.Close()
	const token = "123456:BENCH-deliver"
	var tc []telegramfake.Chat
	for i := range chats {
		tc = append(tc, telegramfake.Chat{ID: int64(-2000 - i), Username: fmt.Sprintf("pace%d", i), Title: "Pace"})
	}
	tg := telegramfake.New(telegramfake.Options{Tokens: []string{token}, Chats: tc})
	defer tg.Close()

	var cfg strings.Builder
	fmt.Fprintf(&cfg, "store:\n  embedded:\n    path: %s\n", filepath.Join(dir, "state.db"))
	cfg.WriteString("defaults:\n  poll_interval: 1h\nnetwork:\n  feeds:\n    allow_private: true\n")
	cfg.WriteString("worker:\n  start_spread: 0s\n  concurrency: 8\n  per_host: 8\n")
	fmt.Fprintf(&cfg, "telegram:\n  bots:\n    - id: bench\n      token: %q\n      api_url: %s\n  channels:\n", token, tg.URL())
	for i := range chats {
		fmt.Fprintf(&cfg, "    - id: tg-%d\n      bot: bench\n      chat: \"@pace%d\"\n      format:\n        link_preview: false\n", i, i)
	}
	cfg.WriteString("feeds:\n")
	for i := range chats {
		fmt.Fprintf(&cfg, "  - id: f%d\n    url: %s/f%d\n    language: en\n", i, site.URL, i)
	}
	cfg.WriteString("routes:\n")
	for i := range chats {
		fmt.Fprintf(&cfg, "  - feeds: [f%d]\n    to: [tg-%d]\n    backfill: %d\n", i, i, posts)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		return deliverCase{}, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmdRun(rctx, []string{"--config", path}, env, io.Discard, io.Discard) }()
	total := chats * posts
	sent := func() []time.Time {
		var at []time.Time
		for _, c := range tg.CallsTo("sendMessage") {
			if c.Code == http.StatusOK {
				at = append(at, c.At)
			}
		}
		return at
	}
	deadline := time.Now().Add(time.Duration(total/events+3) * (per + per/10))
	for len(sent()) < total && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		return deliverCase{}, fmt.Errorf("run: %w", err)
	}
	at := sent()
	if len(at) < total {
		return deliverCase{}, fmt.Errorf("%s: %d of %d posts sent before the deadline", limit, len(at), total)
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	span := at[len(at)-1].Sub(at[0])
	refused := 0
	for _, c := range tg.Refused() {
		if c.Code == http.StatusTooManyRequests {
			refused++
		}
	}
	// The first window's worth goes at once; the rest comes at the pace.
	achieved := float64(len(at)-events) / (span.Seconds() / per.Seconds())
	return deliverCase{Limit: limit, Posts: len(at), Seconds: span.Seconds(), PerLimit: achieved, Allowed: events,
		Percent: 100 * achieved / float64(events), Refused: refused}, nil
}
