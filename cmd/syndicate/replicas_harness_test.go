package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/workertest"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/redisstore"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
)

// The replica tests run the real program as separate processes against a
// real redis-server and the platform fakes, as an operator runs several
// replicas: only processes can be killed mid-send or lose their store.

// binary is the program built once for the whole test binary.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// syndicateBinary builds the program once for the test binary, as
// workertest.Build does (without -race).
func syndicateBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "syndicate-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.dir = dir
		binary.path, binary.err = workertest.Build(dir)
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// redisServerPath skips the test under -short and without redis-server,
// unless SYNDICATE_REQUIRE_REDIS=1 demands the real server.
func redisServerPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("replica tests run the program as processes for up to a minute each: skipped under -short")
	}
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(redistest.EnvRequire) == "1" {
			t.Fatalf("redis-server not installed but %s=1: %v", redistest.EnvRequire, err)
		}
		t.Skipf("redis-server not installed: replicas share a real Redis server in these tests (%v)", err)
	}
	return path
}

// Secrets handed to the processes through their environment.
const (
	rigTelegramToken = "123456:REPLICAtoken"
	rigMastodonToken = "mastodon-replica-secret"
)

// Destinations of the rig's route: two Telegram channels of one bot and a
// Mastodon account.
const (
	destA  = "tg-a"
	destB  = "tg-b"
	destMd = "md"
	chatA  = "@replica_a"
	chatB  = "@replica_b"
)

var rigDests = []string{destA, destB, destMd}

// rigOptions shape one test's world.
type rigOptions struct {
	items int
	// mdItems is how many of the newest articles go to Mastodon (default
	// items): the shared Mastodon budget lets its 300 statuses per 3h go
	// at once, then none until the window passes.
	mdItems int
	// perMinute and perSecond are both the fake's flood limits and the
	// config's pacing.
	perMinute, perSecond int
	mastodonLimits       mastodonfake.RateLimits
	// redisArgs are extra redis-server arguments (persistence).
	redisArgs []string
}

// rig is one test's Redis, feed, platform fakes and worker processes.
type rig struct {
	t        *testing.T
	opts     rigOptions
	bin      string
	dir      string
	redis    *redistest.Server
	redisURL string
	prefix   string
	feedURL  string
	tg       *telegramfake.Server
	md       *mastodonfake.Server
	store    *redisstore.Store

	mu      sync.Mutex
	workers []*workertest.Worker
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	redisBin := redisServerPath(t)
	if o.mdItems == 0 {
		o.mdItems = o.items
	}
	r := &rig{t: t, opts: o, bin: syndicateBinary(t), dir: t.TempDir(), prefix: redistest.Prefix(t)}

	feed := httptest.NewServer(newsFeed(o.items, time.Now()))
	t.Cleanup(feed.Close)
	r.feedURL = feed.URL + "/feed/"
	r.tg = telegramfake.New(telegramfake.Options{
		FloodPerChatPerMinute: o.perMinute, FloodPerBotPerSecond: o.perSecond,
		Tokens: []string{rigTelegramToken},
		Chats: []telegramfake.Chat{
			{ID: -1001000000101, Username: strings.TrimPrefix(chatA, "@"), Title: "Replica A"},
			{ID: -1001000000102, Username: strings.TrimPrefix(chatB, "@"), Title: "Replica B"},
		},
	})
	t.Cleanup(r.tg.Close)
	r.md = mastodonfake.New(mastodonfake.Options{Tokens: map[string]string{rigMastodonToken: "news"}, RateLimits: o.mastodonLimits})
	t.Cleanup(r.md.Close)

	rdir := filepath.Join(r.dir, "redis")
	if err := os.Mkdir(rdir, 0o700); err != nil {
		t.Fatal(err)
	}
	srv, err := redistest.Start(redisBin, rdir, o.redisArgs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	r.redis, r.redisURL = srv, srv.URL()
	client, err := redisstore.NewClient(redisstore.ClientOptions{URL: r.redisURL})
	if err != nil {
		t.Fatal(err)
	}
	st, err := redisstore.New(client, redisstore.Options{Prefix: r.prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r.store = st

	// Registered last, so it runs first: no process outlives the test, and
	// the logs of a failed test are shown once every process is gone.
	t.Cleanup(r.stopAll)
	return r
}

// config writes the config of one worker.
func (r *rig) config(workerID, lease string) string {
	r.t.Helper()
	leaseLine := ""
	if lease != "" {
		leaseLine = "\n  lease: " + lease
	}
	text := fmt.Sprintf(`store:
  redis:
    url: %s
    key_prefix: %s
defaults:
  max_age: 720h
feeds:
  - id: news
    url: %s
    language: en
    page_image: false
    max_age: 720h
telegram:
  bots:
    - id: main
      token: ${TELEGRAM_TOKEN}
      api_url: %s
      per_second: %d
  channels:
    - id: %s
      bot: main
      chat: "%s"
      per_minute: %d
    - id: %s
      bot: main
      chat: "%s"
      per_minute: %d
mastodon:
  accounts:
    - id: %s
      server: %s
      access_token: ${MASTODON_TOKEN}
routes:
  - feeds: [news]
    to: [%s, %s]
    backfill: %d
  - feeds: [news]
    to: [%s]
    backfill: %d
log:
  level: info
worker:
  start_spread: 0s
  id: %s%s
`, r.redisURL, r.prefix, r.feedURL, r.tg.URL(), r.opts.perSecond,
		destA, chatA, r.opts.perMinute, destB, chatB, r.opts.perMinute,
		destMd, r.md.URL(), destA, destB, r.opts.items, destMd, r.opts.mdItems, workerID, leaseLine)
	path := filepath.Join(r.dir, workerID+".yaml")
	writeFile(r.t, path, text)
	return path
}

// addWorker configures a replica and starts it.
func (r *rig) addWorker(id, lease string) *workertest.Worker {
	r.t.Helper()
	w := &workertest.Worker{
		ID: id, Bin: r.bin, Config: r.config(id, lease), Log: filepath.Join(r.dir, id+".log"),
		Env: []string{
			"TELEGRAM_TOKEN=" + rigTelegramToken,
			"MASTODON_TOKEN=" + rigMastodonToken,
			"HOME=" + r.dir,
			"PATH=" + os.Getenv("PATH"),
		},
	}
	r.mu.Lock()
	r.workers = append(r.workers, w)
	r.mu.Unlock()
	r.start(w)
	return w
}

// start runs the worker's process, failing the test if it cannot.
func (r *rig) start(w *workertest.Worker) {
	r.t.Helper()
	if err := w.Start(); err != nil {
		r.t.Fatal(err)
	}
}

// checkWorkers fails the test when a worker ended without being killed.
func (r *rig) checkWorkers() {
	r.t.Helper()
	r.mu.Lock()
	ws := slices.Clone(r.workers)
	r.mu.Unlock()
	for _, w := range ws {
		if err := w.Died(); err != nil {
			r.t.Fatal(err)
		}
	}
}

// stopAll kills every process still running and, when the test failed,
// shows the end of each worker's log.
func (r *rig) stopAll() {
	r.mu.Lock()
	ws := slices.Clone(r.workers)
	r.mu.Unlock()
	for _, w := range ws {
		w.Kill()
	}
	if !r.t.Failed() {
		return
	}
	for _, w := range ws {
		r.t.Logf("--- last lines of %s (%d starts) ---\n%s", w.ID, w.Starts(), tail(w.Log, 60))
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string { return workertest.Tail(path, n) }

// logLines counts the lines of all workers' logs that contain s.
func (r *rig) logLines(s string) int {
	r.mu.Lock()
	ws := slices.Clone(r.workers)
	r.mu.Unlock()
	n := 0
	for _, w := range ws {
		n += w.LogLines(s)
	}
	return n
}

// newsFeed serves an RSS 2.0 feed of n articles, newest first, published
// over the last hours, without images (so no media is fetched).
func newsFeed(n int, now time.Time) http.Handler {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Replica news</title><link>https://news.example.org/</link>
<description>Articles for the replica tests</description><language>en</language>
`)
	for i := n; i >= 1; i-- {
		fmt.Fprintf(&b, `<item><title>Report %03d on the strike</title><link>%s</link>`+
			`<guid isPermaLink="false">urn:replica-test:item-%03d</guid><pubDate>%s</pubDate>`+
			`<category>Labour</category><category>Human rights</category>`+
			`<description>Workers of site %03d stopped work on Monday; the union published its demands.</description></item>
`, i, articleLink(i), i, now.Add(-time.Duration(n-i+1)*time.Minute).Format(time.RFC1123Z), i)
	}
	b.WriteString("</channel></rss>\n")
	body := b.String()
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/feed/" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write([]byte(body))
	})
}

func articleLink(i int) string {
	return fmt.Sprintf("https://news.example.org/articles/item-%03d/", i)
}

// articlesIn returns the article numbers linked from texts.
var articlesIn = workertest.ArticleNumbers(regexp.MustCompile(`news\.example\.org/articles/item-([0-9]{3})/`))

// tally counts the posts of each article on each destination.
func (r *rig) tally() workertest.Tally {
	tl := workertest.NewTally()
	tl.AddTelegram(destA, r.tg.Messages(chatA), articlesIn)
	tl.AddTelegram(destB, r.tg.Messages(chatB), articlesIn)
	tl.AddMastodon(destMd, r.md.Statuses(), articlesIn)
	return tl
}

// expected lists the articles that belong on dest: the route's backfill
// takes the newest, which have the highest numbers.
func (r *rig) expected(dest string) []int {
	n := r.opts.items
	if dest == destMd {
		n = r.opts.mdItems
	}
	var out []int
	for i := r.opts.items - n + 1; i <= r.opts.items; i++ {
		out = append(out, i)
	}
	return out
}

// complete reports whether every destination has all its articles.
func (r *rig) complete(tl workertest.Tally) bool {
	for _, d := range rigDests {
		if len(tl.Missing(d, r.expected(d))) > 0 {
			return false
		}
	}
	return true
}

// unfinished counts the jobs the store still has queued or being sent,
// and lists the parked or unknown ones.
func (r *rig) unfinished(ctx context.Context) (int, []string, error) {
	return workertest.Unfinished(ctx, r.store, rigDests)
}

// claimsOf lists the jobs the store shows as being sent by owner: right
// after owner was killed, the claims its lease must hand over (and those
// of an earlier incarnation under the same id whose lease still runs).
func (r *rig) claimsOf(owner string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out []string
	for _, d := range rigDests {
		jobs, err := r.store.List(ctx, d, 0, syndicate.StatusSending)
		if err != nil {
			r.t.Fatalf("list %s: %v", d, err)
		}
		for _, j := range jobs {
			if j.Owner == owner {
				out = append(out, d+" "+j.ArticleKey)
			}
		}
	}
	return out
}

// waitDrained waits until every destination has every article and the
// store has nothing left to send, failing the test at the deadline or
// when a worker dies by itself.
func (r *rig) waitDrained(timeout time.Duration) workertest.Tally {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r.checkWorkers()
		tl := r.tally()
		if r.complete(tl) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			pending, failed, err := r.unfinished(ctx)
			cancel()
			if len(failed) > 0 {
				r.t.Fatalf("deliveries parked or unknown: %s", strings.Join(failed, "; "))
			}
			if err == nil && pending == 0 {
				return tl
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, d := range rigDests {
				m := tl.Missing(d, r.expected(d))
				fmt.Fprintf(&b, "\n  %s: %d posts, %d missing %v", d, tl.Total(d), len(m), workertest.Head(m, 10))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			pending, failed, err := r.unfinished(ctx)
			cancel()
			r.t.Fatalf("not drained within %s:%s\n  store: %d queued or sending, failed %v, error %v", timeout, b.String(), pending, failed, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitFor polls cond until it holds, failing the test at the deadline.
func (r *rig) waitFor(what string, timeout time.Duration, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		r.checkWorkers()
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkExactlyOnce fails the test for any article missing or doubled on
// any destination, and for stray posts.
// checkOldestFirst fails when a destination got an article after a newer
// one (a higher number is a newer article); a resend right after itself,
// the at-least-once window, keeps the order.
func (r *rig) checkOldestFirst(tl workertest.Tally) {
	r.t.Helper()
	for _, d := range rigDests {
		seq := tl.Order[d]
		for i := 1; i < len(seq); i++ {
			if seq[i] < seq[i-1] {
				r.t.Errorf("%s: article %d was posted after article %d (post %d of %d): oldest first is broken", d, seq[i], seq[i-1], i+1, len(seq))
				break
			}
		}
	}
}

func (r *rig) checkExactlyOnce(tl workertest.Tally) {
	r.t.Helper()
	r.checkOldestFirst(tl)
	for _, d := range rigDests {
		if m := tl.Missing(d, r.expected(d)); len(m) > 0 {
			r.t.Errorf("%s: %d articles missing: %v", d, len(m), workertest.Head(m, 20))
		}
		if u := tl.Unexpected(d, r.expected(d)); len(u) > 0 {
			r.t.Errorf("%s: %d articles posted that its route does not carry: %v", d, len(u), workertest.Head(u, 20))
		}
		if n := tl.Duplicates(d); n > 0 {
			r.t.Errorf("%s: %d duplicate posts", d, n)
		}
		if n := tl.Strays[d]; n > 0 {
			r.t.Errorf("%s: %d posts that do not link exactly one article", d, n)
		}
	}
}

// telegram429s counts the calls Telegram answered with 429.
func (r *rig) telegram429s() int {
	n := 0
	for _, c := range r.tg.Calls() {
		if c.Code == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// sendTimes returns when each call of the bot reached Telegram, and when
// each call addressed to chat did.
func (r *rig) sendTimes(chat string) (bot, toChat []time.Time) {
	for _, c := range r.tg.Calls() {
		bot = append(bot, c.At)
		if c.Params["chat_id"] == chat {
			toChat = append(toChat, c.At)
		}
	}
	return bot, toChat
}

// maxInWindow returns the largest number of times in any window of
// length w as Telegram counts it, (t−w, t], and where that window ends.
func maxInWindow(times []time.Time, w time.Duration) (int, time.Time) {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, at := 0, time.Time{}
	j := 0
	for k, t := range ts {
		for !ts[j].After(t.Add(-w)) {
			j++
		}
		if n := k - j + 1; n > best {
			best, at = n, t
		}
	}
	return best, at
}
