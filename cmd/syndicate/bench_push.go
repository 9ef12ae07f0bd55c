package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate/websub/websubtest"
)

// The push benchmark runs `run` in process with push on, against a local
// site whose feeds name a local hub, and the Telegram stand-in. Each
// sample adds an article to one feed, publishes it at the hub, and times
// until the post is at the stand-in. Feeds take turns, each posting to a
// chat of its own, at a pace that keeps every chat within Telegram's
// limits, so that no rate-limit wait is measured.

// pushReport is what bench push prints.
type pushReport struct {
	Feeds   int       `json:"feeds"`
	Samples int       `json:"samples"`
	Lost    int       `json:"lost"`
	P50MS   float64   `json:"p50_ms"`
	P90MS   float64   `json:"p90_ms"`
	P99MS   float64   `json:"p99_ms"`
	MaxMS   float64   `json:"max_ms"`
	Each    []float64 `json:"each_ms,omitempty"`
}

// pushSite serves feeds that gain articles on demand and name the hub.
type pushSite struct {
	mu    sync.Mutex
	hub   string
	srv   *httptest.Server
	items map[int][]string
	// polled counts the worker's fetches of each feed (not the hub's).
	polled map[int]int
}

func (s *pushSite) feedURL(i int) string { return fmt.Sprintf("%s/feed/%d", s.srv.URL, i) }

func (s *pushSite) add(i int, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[i] = append(s.items[i], title)
}

func (s *pushSite) serve(w http.ResponseWriter, r *http.Request) {
	var i int
	if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &i); err != nil {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	items := slices.Clone(s.items[i])
	s.mu.Unlock()
	self := s.feedURL(i)
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="hub"`, s.hub))
	w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="self"`, self))
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Feed %d</title><link>%s</link>`, i, s.srv.URL)
	for j := len(items) - 1; j >= 0 && j >= len(items)-10; j-- {
		fmt.Fprintf(&b, `<item><title>%s</title><link>%s/%d/%d</link><guid>%s/%d/%d</guid><description>%s, the article.</description></item>`,
			items[j], s.srv.URL, i, j, s.srv.URL, i, j, items[j])
	}
	b.WriteString(`</channel></rss>`)
	io.WriteString(w, b.String())
	if strings.HasPrefix(r.UserAgent(), "syndicate") {
		s.mu.Lock()
		if s.polled == nil {
			s.polled = map[int]int{}
		}
		s.polled[i]++
		s.mu.Unlock()
	}
}

// wasPolled reports whether the worker has read feed i, so that what is
// added now is news to it.
func (s *pushSite) wasPolled(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polled[i] > 0
}

func cmdBenchPush(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("bench push", "Measure push latency: from a publish at a local WebSub hub to the post at the Telegram\nstand-in, through the real worker (`run` with push on).", stderr)
	feeds := fs.Int("feeds", 20, "feeds, each posting to a chat of its own")
	samples := fs.Int("samples", 200, "articles published")
	pace := fs.Duration("pace", 200*time.Millisecond, "time between publishes (feeds take turns; each chat gets one post per feeds×pace, keep it above 3s)")
	asJSON := fs.Bool("json", false, "print JSON")
	hubURL := fs.String("hub", "", "a WebSub hub to use instead of the built-in test hub (publishes are announced to it with hub.mode=publish, as most hubs accept)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *feeds < 1 || *samples < 1 {
		return errors.New("--feeds and --samples must be at least 1")
	}
	dir, err := os.MkdirTemp("", "syndicate-bench-push-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var hub pushHub
	if *hubURL != "" {
		hub = externalHub(*hubURL)
	} else {
		h := websubtest.Start(websubtest.Options{})
		defer h.Close()
		hub = testHub{h}
	}
	site := &pushSite{hub: hub.url(), items: map[int][]string{}, polled: map[int]int{}}
	site.srv = httptest.NewServer(http.HandlerFunc(site.serve))
	defer site.srv.Close()
	const token = "123456:BENCH-push"
	var chats []telegramfake.Chat
	for i := range *feeds {
		site.add(i, fmt.Sprintf("Feed %d, first article", i))
		chats = append(chats, telegramfake.Chat{ID: int64(-1000 - i), Username: fmt.Sprintf("bench%d", i), Title: fmt.Sprintf("Bench %d", i)})
	}
	tg := telegramfake.New(telegramfake.Options{Tokens: []string{token}, Chats: chats})
	defer tg.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	listen := ln.Addr().String()
	ln.Close()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "store:\n  embedded:\n    path: %s\n", filepath.Join(dir, "state.db"))
	cfg.WriteString("defaults:\n  poll_interval: 1h\n  backfill: 0\nnetwork:\n  feeds:\n    allow_private: true\n  media:\n    allow_private: true\n")
	fmt.Fprintf(&cfg, "worker:\n  listen: %q\n  start_spread: 0s\n  concurrency: 8\n  per_host: 8\n", listen)
	fmt.Fprintf(&cfg, "push:\n  enabled: true\n  public_url: http://%s\n", listen)
	fmt.Fprintf(&cfg, "telegram:\n  bots:\n    - id: bench\n      token: %q\n      api_url: %s\n  channels:\n", token, tg.URL())
	for i := range *feeds {
		fmt.Fprintf(&cfg, "    - id: tg-%d\n      bot: bench\n      chat: \"@bench%d\"\n      format:\n        link_preview: false\n", i, i)
	}
	cfg.WriteString("feeds:\n")
	for i := range *feeds {
		fmt.Fprintf(&cfg, "  - id: f%d\n    url: %s\n    language: en\n", i, site.feedURL(i))
	}
	cfg.WriteString("routes:\n")
	for i := range *feeds {
		fmt.Fprintf(&cfg, "  - feeds: [f%d]\n    to: [tg-%d]\n", i, i)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		return err
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmdRun(rctx, []string{"--config", path}, env, io.Discard, io.Discard) }()
	// Every feed primed and subscribed before the clock starts: a warm-up
	// article per feed, announced until it is posted, proves the whole
	// path (a hub verifies intent after it answers).
	for i := range *feeds {
		if !websubtest.Wait(60*time.Second, func() bool { return site.wasPolled(i) }) {
			cancel()
			<-done
			return fmt.Errorf("feed %d was not polled within a minute", i)
		}
		title := fmt.Sprintf("Feed %d, warm-up", i)
		site.add(i, title)
		chat := fmt.Sprintf("@bench%d", i)
		posted := func() bool {
			return slices.ContainsFunc(tg.Messages(chat), func(m telegramfake.Message) bool { return strings.Contains(m.Text, title) })
		}
		if !websubtest.Wait(60*time.Second, func() bool {
			if err := hub.publish(site.feedURL(i)); err != nil {
				return false
			}
			return websubtest.Wait(time.Second, posted)
		}) {
			cancel()
			<-done
			return fmt.Errorf("feed %d: no pushed article reached its chat within a minute: not subscribed at the hub (%v)", i, hub.errors())
		}
	}

	var lat []time.Duration
	lost := 0
	next := time.Now()
	for n := range *samples {
		time.Sleep(time.Until(next))
		next = next.Add(*pace)
		i := n % *feeds
		title := fmt.Sprintf("Pushed article %d", n)
		site.add(i, title)
		start := time.Now()
		if err := hub.publish(site.feedURL(i)); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		chat := fmt.Sprintf("@bench%d", i)
		if !websubtest.Wait(10*time.Second, func() bool {
			for _, m := range tg.Messages(chat) {
				if strings.Contains(m.Text, title) {
					return true
				}
			}
			return false
		}) {
			lost++
			continue
		}
		lat = append(lat, time.Since(start))
	}
	cancel()
	if err := <-done; err != nil {
		return fmt.Errorf("run: %w", err)
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return ms(lat[min(len(lat)-1, int(p*float64(len(lat))))])
	}
	rep := pushReport{Feeds: *feeds, Samples: *samples, Lost: lost, P50MS: pct(0.5), P90MS: pct(0.9), P99MS: pct(0.99)}
	if len(lat) > 0 {
		rep.MaxMS = ms(lat[len(lat)-1])
	}
	if *asJSON {
		for _, d := range lat {
			rep.Each = append(rep.Each, ms(d))
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "%d articles published at a local WebSub hub, %d feeds taking turns every %s; from publish to post at the Telegram stand-in:\n\n", *samples, *feeds, *pace)
	fmt.Fprintf(stdout, "| p50 | p90 | p99 | max | lost |\n|---:|---:|---:|---:|---:|\n| %.0f ms | %.0f ms | %.0f ms | %.0f ms | %d |\n", rep.P50MS, rep.P90MS, rep.P99MS, rep.MaxMS, lost)
	return nil
}

// pushHub is the hub bench push announces new articles to.
type pushHub interface {
	url() string
	publish(topic string) error
	errors() []error
}

// testHub is the built-in test hub, which sends the notifications itself.
type testHub struct{ h *websubtest.Hub }

func (t testHub) url() string { return t.h.URL() }
func (t testHub) publish(topic string) error {
	_, err := t.h.Publish(topic, "application/rss+xml", nil)
	return err
}
func (t testHub) errors() []error { return t.h.Errors() }

// externalHub is a hub running elsewhere, told of new content the way
// publishers tell most hubs: a POST of hub.mode=publish and the topic.
type externalHub string

func (e externalHub) url() string { return string(e) }
func (e externalHub) publish(topic string) error {
	resp, err := http.PostForm(string(e), url.Values{"hub.mode": {"publish"}, "hub.url": {topic}, "hub.topic": {topic}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("publish at %s: %s", e, resp.Status)
	}
	return nil
}
func (e externalHub) errors() []error { return nil }
