package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon"
	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/feed"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
	"github.com/syndicate-bot/syndicate/syndicate/ratelimit"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
	"github.com/syndicate-bot/syndicate/syndicate/store/redisstore"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
)

// The delivery benchmark queues more posts than the platforms' limits let
// through in the run, lets the real engine deliver them through the real
// publishers to the stand-ins, which enforce the platforms' windows, and
// reports how close to each limit the posts arrived.
//
// Telegram: one bot posting to many chats at once, so that one run meets
// both the 20 posts a minute of each chat and the bot's 30 calls a second:
// 90 chats at 20 a minute together ask for exactly the bot's 30 a second.
// Mastodon: one account posting text (bound by 300 statuses per 3 hours)
// and one posting an image with each status (bound by 30 uploads per 30
// minutes), with every window of the stand-in and of the limiter divided
// by -mastodon-scale so that a run of minutes spans several windows.

// Bench identities: what the stand-ins accept.
const (
	benchBotToken   = "100000:BENCHdeliveryToken"
	benchTextToken  = "bench-text-token"
	benchMediaToken = "bench-media-token"
	benchTextAcct   = "text"
	benchMediaAcct  = "media"
)

// benchDeliverOptions are the flags of bench deliver.
type benchDeliverOptions struct {
	duration time.Duration
	replicas []int
	chats    int
	scale    int
	redisURL string
	logs     io.Writer
}

func cmdBenchDeliver(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("bench deliver", "Measure delivery against stand-ins that enforce Telegram's and Mastodon's rate limits:\n"+
		"the share of each limit the posts reach, the most posts any window held, and the 429 answers.", stderr)
	duration := fs.Duration("duration", 2*time.Minute, "how long each case delivers")
	replicas := fs.String("replicas", "1,3", "`counts` of replicas, one case each: 1 runs on the embedded store with in-process limits, more share a Redis and its limiter")
	chats := fs.Int("chats", 90, "Telegram chats of the one bot; 90 at 20 posts a minute ask for exactly the bot's 30 calls a second")
	scale := fs.Int("mastodon-scale", 600, "divide Mastodon's windows (5 min, 30 min, 3 h) by `N`, so that a run spans several of them")
	redisURL := fs.String("redis", "", "`URL` of a Redis the replicas share (default: start redis-server from PATH)")
	verbose := fs.Bool("v", false, "log the engines' warnings to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o := benchDeliverOptions{duration: *duration, chats: *chats, scale: *scale, redisURL: *redisURL, logs: io.Discard}
	if *verbose {
		o.logs = stderr
	}
	for f := range strings.SplitSeq(*replicas, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "-replicas: %q is not a count of replicas\n", f)
			return errUsage
		}
		o.replicas = append(o.replicas, n)
	}
	if o.duration <= 0 || o.chats < 1 || o.scale < 1 {
		fmt.Fprintln(stderr, "-duration, -chats and -mastodon-scale must be positive")
		return errUsage
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "replicas\tplatform\tlimit\tachieved\t% of limit\tmost in a window\t429s\t")
	for _, n := range o.replicas {
		fmt.Fprintf(stderr, "bench deliver: %d replica(s) for %s\n", n, o.duration)
		rows, err := benchDeliverCase(ctx, o, n)
		if err != nil {
			return fmt.Errorf("%d replica(s): %w", n, err)
		}
		for _, r := range rows {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.1f%%\t%d\t%d\t\n", n, r.platform, r.limitText(), r.achievedText(), 100*r.share(), r.worst(), r.refused)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return ctx.Err()
}

// benchWorld is one case's stand-ins and the destinations posting to them.
type benchWorld struct {
	o      benchDeliverOptions
	tg     *telegramfake.Server
	md     *mastodonfake.Server
	images *httptest.Server
	chats  []string
	// budgets are Mastodon's per-account limits with scaled windows.
	budgets map[string]mastodon.Budget
	limits  mastodonfake.RateLimits
}

func newBenchWorld(o benchDeliverOptions) (*benchWorld, error) {
	w := &benchWorld{o: o}
	var tgChats []telegramfake.Chat
	for i := range o.chats {
		name := fmt.Sprintf("bench_%03d", i+1)
		w.chats = append(w.chats, "@"+name)
		tgChats = append(tgChats, telegramfake.Chat{ID: -1001000100000 - int64(i), Username: name, Title: "Bench " + name})
	}
	// The stand-in keeps Telegram's documented flood limits (its defaults).
	w.tg = telegramfake.New(telegramfake.Options{Tokens: []string{benchBotToken}, Chats: tgChats})
	scale := time.Duration(o.scale)
	w.budgets = map[string]mastodon.Budget{}
	for family, b := range mastodon.DefaultBudgets() {
		w.budgets[family] = mastodon.Budget{N: b.N, Per: b.Per / scale}
	}
	w.limits = mastodonfake.RateLimits{
		Requests: 300, RequestsWindow: 5 * time.Minute / scale,
		Media: 30, MediaWindow: 30 * time.Minute / scale,
		Statuses: 300, StatusesWindow: 3 * time.Hour / scale,
	}
	w.md = mastodonfake.New(mastodonfake.Options{
		Tokens:     map[string]string{benchTextToken: benchTextAcct, benchMediaToken: benchMediaAcct},
		RateLimits: w.limits,
	})
	img, err := benchImage()
	if err != nil {
		w.Close()
		return nil, err
	}
	w.images = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "image/png")
		rw.Write(img)
	}))
	return w, nil
}

func (w *benchWorld) Close() {
	for _, c := range []interface{ Close() }{w.tg, w.md, w.images} {
		if c != nil {
			c.Close()
		}
	}
}

// benchImage is a small PNG for the media account's statuses.
func benchImage() ([]byte, error) {
	m := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			m.Set(x, y, color.RGBA{uint8(4 * x), uint8(5 * y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		return nil, fmt.Errorf("bench image: %w", err)
	}
	return b.Bytes(), nil
}

// destIDs names the destinations: one per chat, then the two accounts.
func (w *benchWorld) destIDs() []string {
	var ids []string
	for i := range w.chats {
		ids = append(ids, fmt.Sprintf("tg-%03d", i+1))
	}
	return append(ids, "md-"+benchTextAcct, "md-"+benchMediaAcct)
}

// jobs are the posts queued for the run: more than the limits let through
// in it, so that no destination ever runs dry.
func (w *benchWorld) jobs(now time.Time) []syndicate.Delivery {
	perChat := int(w.o.duration.Minutes()*20*1.25) + 20
	windows := func(per time.Duration) int { return int(w.o.duration/per) + 2 }
	counts := map[string]int{
		"md-" + benchTextAcct:  300 * windows(w.limits.StatusesWindow),
		"md-" + benchMediaAcct: 30 * windows(w.limits.MediaWindow),
	}
	var jobs []syndicate.Delivery
	for _, dest := range w.destIDs() {
		n, ok := counts[dest]
		if !ok {
			n = perChat
		}
		for i := range n {
			it := syndicate.Item{
				FeedID: "bench", Key: fmt.Sprintf("guid:%s-%d", dest, i),
				Link:      fmt.Sprintf("https://news.example.org/%s/%d/", dest, i),
				Title:     fmt.Sprintf("Article %d for %s", i, dest),
				Summary:   "A short summary of the article, as a feed would carry it.",
				Language:  "en",
				Published: now,
			}
			if dest == "md-"+benchMediaAcct {
				it.Image = &syndicate.Image{URL: w.images.URL + "/lead.png", Alt: "A colourful test picture", Type: "image/png", Checked: true}
			}
			jobs = append(jobs, syndicate.Delivery{Destination: dest, ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it})
		}
	}
	return jobs
}

// benchReplica is one replica's store and limiters.
type benchReplica struct {
	store syndicate.Store
	// shared is the Redis limiter; nil means in-process limits.
	shared *ratelimit.Limiter
}

// destinations builds the replica's publishers, as build does from a
// config: one bot for all chats, and an account for each Mastodon token.
func (w *benchWorld) destinations(r benchReplica, log *slog.Logger) ([]syndicate.Destination, error) {
	bo := telegram.BotOptions{ID: "bench", Token: benchBotToken, APIURL: w.tg.URL(), Logger: log}
	if r.shared != nil {
		bo.Limiter = telegram.SharedLimiter(r.shared)
	}
	bot, err := telegram.NewBot(bo)
	if err != nil {
		return nil, err
	}
	var dests []syndicate.Destination
	ids := w.destIDs()
	for i, chat := range w.chats {
		ch, err := bot.Channel(telegram.ChannelOptions{ID: ids[i], Chat: chat, Format: telegram.Format{Image: telegram.ImageNone}})
		if err != nil {
			return nil, err
		}
		dests = append(dests, syndicate.Destination{ID: ids[i], Publisher: ch})
	}
	media := downloader{c: guard.New(guard.Options{AllowPrivate: true})}
	none := 0
	// Waits for a window to pass happen in place, as they would at the
	// unscaled windows: returning them to the engine, which looks again on
	// its next tick, would add up to a tick to each scaled window.
	maxWait := w.limits.StatusesWindow + time.Second
	for _, acct := range []struct {
		name, token string
		images      *int
	}{{benchTextAcct, benchTextToken, &none}, {benchMediaAcct, benchMediaToken, nil}} {
		ao := mastodon.AccountOptions{
			ID: "md-" + acct.name, Server: w.md.URL(), Token: acct.token, Logger: log, Downloader: media,
			Format: mastodon.Format{Images: acct.images},
		}
		if r.shared != nil {
			ao.Limiter = mastodon.SharedLimiter(r.shared, mastodon.LocalLimiterOptions{Budgets: w.budgets, MaxWait: maxWait})
		} else {
			ao.Limiter = mastodon.NewLocalLimiter(mastodon.LocalLimiterOptions{Budgets: w.budgets, MaxWait: maxWait})
		}
		a, err := mastodon.NewAccount(ao)
		if err != nil {
			return nil, err
		}
		dests = append(dests, syndicate.Destination{ID: ao.ID, Publisher: a})
	}
	return dests, nil
}

// benchDeliverCase runs one case and measures it.
func benchDeliverCase(ctx context.Context, o benchDeliverOptions, n int) ([]benchRow, error) {
	w, err := newBenchWorld(o)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	dir, err := os.MkdirTemp("", "syndicate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	replicas, cleanup, err := benchReplicas(ctx, o, n, dir)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	log := slog.New(slog.NewTextHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var engines []*syndicate.Engine
	src := feed.New(feed.Options{})
	for i, r := range replicas {
		dests, err := w.destinations(r, log.With("replica", i+1))
		if err != nil {
			return nil, err
		}
		e, err := syndicate.New(syndicate.Options{
			Store: r.store, Source: src, Destinations: dests, Owner: fmt.Sprintf("bench-%d", i+1), Logger: log.With("replica", i+1),
		})
		if err != nil {
			return nil, err
		}
		engines = append(engines, e)
	}
	if _, err := replicas[0].store.Enqueue(ctx, w.jobs(time.Now()), time.Now()); err != nil {
		return nil, fmt.Errorf("queue the posts: %w", err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(engines))
	start := time.Now()
	for _, e := range engines {
		wg.Go(func() {
			if err := e.Run(runCtx); err != nil {
				errs <- err
			}
		})
	}
	select {
	case <-time.After(o.duration):
	case <-ctx.Done():
	}
	end := time.Now()
	// What was in flight no longer counts: cut it short.
	for _, e := range engines {
		e.Stop()
	}
	cancel()
	wg.Wait()
	close(errs)
	var failed []error
	for err := range errs {
		failed = append(failed, err)
	}
	if err := errors.Join(failed...); err != nil {
		return nil, err
	}
	return w.measure(start, end), nil
}

// benchReplicas opens the stores: the embedded one for a single replica,
// else a shared Redis (the given one, or a redis-server started here) with
// a connection and a limiter per replica.
func benchReplicas(ctx context.Context, o benchDeliverOptions, n int, dir string) ([]benchReplica, func(), error) {
	if n == 1 {
		st, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{})
		if err != nil {
			return nil, nil, err
		}
		return []benchReplica{{store: st}}, func() { st.Close() }, nil
	}
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	url := o.redisURL
	if url == "" {
		path, err := exec.LookPath("redis-server")
		if err != nil {
			return nil, nil, fmt.Errorf("%d replicas share a Redis: install redis-server or pass -redis URL: %w", n, err)
		}
		srv, err := redistest.Start(path, dir)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, srv.Stop)
		url = srv.URL()
	}
	prefix := "syndicate-bench-" + strings.ToLower(rand.Text()[:8])
	var out []benchReplica
	for range n {
		client, err := redisstore.NewClient(redisstore.ClientOptions{URL: url})
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("redis: %w", err)
		}
		st, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
		if err != nil {
			client.Close()
			cleanup()
			return nil, nil, fmt.Errorf("redis: %w", err)
		}
		closers = append(closers, func() { st.Close() })
		lim, err := ratelimit.New(client, ratelimit.Options{Prefix: prefix})
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		out = append(out, benchReplica{store: st, shared: lim})
	}
	if o.redisURL != "" {
		// A Redis the caller gave keeps nothing of the run.
		closers = append([]func(){func() { benchDropKeys(ctx, url, prefix) }}, closers...)
	}
	return out, cleanup, nil
}

// benchDropKeys deletes the run's keys from a Redis the caller gave.
func benchDropKeys(ctx context.Context, url, prefix string) {
	client, err := redisstore.NewClient(redisstore.ClientOptions{URL: url})
	if err != nil {
		return
	}
	defer client.Close()
	for _, pattern := range []string{prefix + ":*", "rate:" + prefix + ":*"} {
		iter := client.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	}
}

// benchRow is one limit and the arrivals it counts.
type benchRow struct {
	platform string
	// what the limit counts, e.g. "per chat (90 chats)"
	what string
	n    int
	per  time.Duration
	// unscaled is the platform's own window when per was scaled.
	unscaled time.Duration
	// series are independent sequences of arrivals under the limit (one
	// per chat for a per-chat limit), each sorted.
	series  [][]time.Time
	refused int
}

// share is how close the arrivals came to the limit, the mean over the
// series (one per chat for a per-chat limit) of each one's share: any N+1
// arrivals in a row must span more than Per, and a limiter that uses the
// whole limit spans exactly Per with every N of them, so a series' share
// is Per over the mean span of N arrivals in a row. A series too short for
// that is measured by its mean spacing.
func (r benchRow) share() float64 {
	total := 0.0
	for _, s := range r.series {
		var span time.Duration
		count := 0
		for i := 0; i+r.n < len(s); i++ {
			span += s[i+r.n].Sub(s[i])
			count++
		}
		switch {
		case count > 0 && span > 0:
			total += float64(r.per) / (float64(span) / float64(count))
		case len(s) > 1 && s[len(s)-1].After(s[0]):
			spacing := float64(s[len(s)-1].Sub(s[0])) / float64(len(s)-1)
			total += float64(r.per) / (spacing * float64(r.n))
		}
	}
	if len(r.series) == 0 {
		return 0
	}
	return total / float64(len(r.series))
}

// worst is the most arrivals of one series in any window of Per, counted
// as the stand-ins count: those after t−Per up to t.
func (r benchRow) worst() int {
	most := 0
	for _, s := range r.series {
		j := 0
		for i := range s {
			for !s[j].After(s[i].Add(-r.per)) {
				j++
			}
			most = max(most, i-j+1)
		}
	}
	return most
}

func (r benchRow) limitText() string {
	s := fmt.Sprintf("%d per %s %s", r.n, r.per, r.what)
	if r.unscaled != 0 {
		s += fmt.Sprintf(" (%s scaled)", r.unscaled)
	}
	return s
}

func (r benchRow) achievedText() string {
	return fmt.Sprintf("%.2f per %s", float64(r.n)*r.share(), r.per)
}

// measure reads what the stand-ins accepted between start and end.
func (w *benchWorld) measure(start, end time.Time) []benchRow {
	within := func(t time.Time) bool { return !t.Before(start) && !t.After(end) }
	perChat := map[string][]time.Time{}
	var bot []time.Time
	var refused []telegramfake.Call
	for _, c := range w.tg.Calls() {
		if !within(c.At) {
			continue
		}
		switch {
		case c.Code == http.StatusOK:
			bot = append(bot, c.At)
			perChat[c.Params["chat_id"]] = append(perChat[c.Params["chat_id"]], c.At)
		case c.Code == http.StatusTooManyRequests:
			refused = append(refused, c)
		}
	}
	// Telegram's answer does not say which limit refused: the fake checks
	// the bot's second first, so a 429 with the bot's second full was the
	// bot's, any other the chat's.
	bot = sortedTimes(bot)
	botRefused := 0
	for _, c := range refused {
		if countIn(bot, c.At, time.Second) >= 30 {
			botRefused++
		}
	}
	var chats [][]time.Time
	for _, chat := range w.chats {
		chats = append(chats, sortedTimes(perChat[chat]))
	}
	rows := []benchRow{
		{platform: "telegram", what: fmt.Sprintf("per chat (%d chats)", len(w.chats)), n: 20, per: time.Minute, series: chats, refused: len(refused) - botRefused},
		{platform: "telegram", what: "per bot", n: 30, per: time.Second, series: [][]time.Time{bot}, refused: botRefused},
	}
	type family struct {
		acct, token, endpoint, name string
		n                           int
		per, unscaled               time.Duration
	}
	for _, f := range []family{
		{benchTextAcct, benchTextToken, "POST /api/v1/statuses", "statuses", 300, w.limits.StatusesWindow, 3 * time.Hour},
		{benchMediaAcct, benchMediaToken, "POST /api/v2/media", "media", 30, w.limits.MediaWindow, 30 * time.Minute},
	} {
		var at []time.Time
		refused := 0
		for _, q := range w.md.Requests() {
			if !within(q.At) || q.Authorization != "Bearer "+f.token {
				continue
			}
			if q.Status == http.StatusTooManyRequests {
				refused++
				continue
			}
			if q.Status < 400 && q.Endpoint == f.endpoint {
				at = append(at, q.At)
			}
		}
		rows = append(rows, benchRow{platform: "mastodon", what: f.name + " of " + f.acct, n: f.n, per: f.per, unscaled: f.unscaled,
			series: [][]time.Time{sortedTimes(at)}, refused: refused})
	}
	return rows
}

// countIn counts the sorted times after t−per up to t.
func countIn(ts []time.Time, t time.Time, per time.Duration) int {
	n := 0
	for _, a := range ts {
		if a.After(t.Add(-per)) && !a.After(t) {
			n++
		}
	}
	return n
}

func sortedTimes(ts []time.Time) []time.Time {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	return ts
}
