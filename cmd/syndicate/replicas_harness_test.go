package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
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

// syndicateBinary builds the program (without -race: the processes must
// run at the speed the tests' rate limits assume) with the caller's GOFLAGS.
func syndicateBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "syndicate-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.dir = dir
		binary.path = filepath.Join(dir, "syndicate")
		cmd := exec.Command("go", "build", "-o", binary.path, ".")
		cmd.Env = os.Environ()
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
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
	redisBin string
	redis    *redistest.Server
	redisDir string
	redisURL string
	prefix   string
	feedURL  string
	tg       *telegramfake.Server
	md       *mastodonfake.Server
	store    *redisstore.Store

	mu      sync.Mutex
	workers []*worker
}

// worker is one replica, restarted under the same id after a kill.
type worker struct {
	id     string
	cfg    string
	log    string
	starts int

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	killed bool
	exit   error
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	redisBin := redisServerPath(t)
	if o.mdItems == 0 {
		o.mdItems = o.items
	}
	r := &rig{t: t, opts: o, bin: syndicateBinary(t), dir: t.TempDir(), redisBin: redisBin, prefix: redistest.Prefix(t)}

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
	r.redis, r.redisURL, r.redisDir = srv, srv.URL(), rdir
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
func (r *rig) addWorker(id, lease string) *worker {
	r.t.Helper()
	w := &worker{id: id, cfg: r.config(id, lease), log: filepath.Join(r.dir, id+".log")}
	r.mu.Lock()
	r.workers = append(r.workers, w)
	r.mu.Unlock()
	r.start(w)
	return w
}

// start runs the worker's process, appending to its log.
func (r *rig) start(w *worker) {
	r.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done != nil {
		select {
		case <-w.done:
		default:
			r.t.Fatalf("worker %s is still running", w.id)
		}
	}
	w.starts++
	f, err := os.OpenFile(w.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "=== test: start %d of %s at %s ===\n", w.starts, w.id, time.Now().Format("15:04:05.000"))
	cmd := exec.Command(r.bin, "run", "--config", w.cfg)
	cmd.Env = []string{
		"TELEGRAM_TOKEN=" + rigTelegramToken,
		"MASTODON_TOKEN=" + rigMastodonToken,
		"HOME=" + r.dir,
		"PATH=" + os.Getenv("PATH"),
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start worker %s: %v", w.id, err)
	}
	done := make(chan struct{})
	w.cmd, w.done, w.killed, w.exit = cmd, done, false, nil
	go func() {
		err := cmd.Wait()
		w.mu.Lock()
		w.exit = err
		w.mu.Unlock()
		close(done)
	}()
}

// kill ends the worker's process with SIGKILL and waits until it is gone.
func (r *rig) kill(w *worker) {
	w.mu.Lock()
	cmd, done := w.cmd, w.done
	w.killed = true
	w.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// running reports whether the worker's process is alive.
func (w *worker) running() bool {
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// checkWorkers fails the test when a worker ended without being killed.
func (r *rig) checkWorkers() {
	r.t.Helper()
	r.mu.Lock()
	ws := slices.Clone(r.workers)
	r.mu.Unlock()
	for _, w := range ws {
		w.mu.Lock()
		done, killed, exit := w.done, w.killed, w.exit
		w.mu.Unlock()
		select {
		case <-done:
			if !killed {
				r.t.Fatalf("worker %s exited by itself: %v", w.id, exit)
			}
		default:
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
		r.kill(w)
	}
	if !r.t.Failed() {
		return
	}
	for _, w := range ws {
		r.t.Logf("--- last lines of %s (%d starts) ---\n%s", w.id, w.starts, tail(w.log, 60))
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// logLines counts the lines of all workers' logs that contain s.
func (r *rig) logLines(s string) int {
	r.mu.Lock()
	ws := slices.Clone(r.workers)
	r.mu.Unlock()
	n := 0
	for _, w := range ws {
		b, err := os.ReadFile(w.log)
		if err != nil {
			continue
		}
		for l := range strings.Lines(string(b)) {
			if strings.Contains(l, s) {
				n++
			}
		}
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

var articleRE = regexp.MustCompile(`news\.example\.org/articles/item-([0-9]{3})/`)

// articlesIn returns the article numbers linked from texts.
func articlesIn(texts ...string) []int {
	var out []int
	for _, s := range texts {
		for _, m := range articleRE.FindAllStringSubmatch(s, -1) {
			n, _ := strconv.Atoi(m[1])
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// tally counts, per destination, the posts of each article a follower
// sees; posts that link to no article or to several count as strays.
type tally struct {
	posts  map[string]map[int]int
	strays map[string]int
	// order lists each destination's articles as they were posted.
	order map[string][]int
}

func (r *rig) tally() tally {
	tl := tally{posts: map[string]map[int]int{}, strays: map[string]int{}, order: map[string][]int{}}
	add := func(dest string, arts []int) {
		if tl.posts[dest] == nil {
			tl.posts[dest] = map[int]int{}
		}
		if len(arts) != 1 {
			tl.strays[dest]++
			return
		}
		tl.posts[dest][arts[0]]++
		tl.order[dest] = append(tl.order[dest], arts[0])
	}
	for dest, chat := range map[string]string{destA: chatA, destB: chatB} {
		tl.posts[dest] = map[int]int{}
		for _, m := range r.tg.Messages(chat) {
			texts := []string{m.Text, m.Caption}
			for _, e := range append(m.Entities, m.CaptionEntities...) {
				texts = append(texts, e.URL)
			}
			if m.LinkPreviewOptions != nil {
				texts = append(texts, m.LinkPreviewOptions.URL)
			}
			add(dest, articlesIn(texts...))
		}
	}
	tl.posts[destMd] = map[int]int{}
	for _, st := range r.md.Statuses() {
		add(destMd, articlesIn(st.Text))
	}
	return tl
}

// total is the number of posts on a destination.
func (tl tally) total(dest string) int {
	n := 0
	for _, c := range tl.posts[dest] {
		n += c
	}
	return n
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

// missing lists the articles of want without a post on dest.
func (tl tally) missing(dest string, want []int) []int {
	var out []int
	for _, i := range want {
		if tl.posts[dest][i] == 0 {
			out = append(out, i)
		}
	}
	return out
}

// unexpected lists the posted articles on dest that are not in want.
func (tl tally) unexpected(dest string, want []int) []int {
	var out []int
	for i := range tl.posts[dest] {
		if !slices.Contains(want, i) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// duplicates counts the posts beyond the first of each article on dest.
func (tl tally) duplicates(dest string) int {
	d := 0
	for _, c := range tl.posts[dest] {
		d += max(0, c-1)
	}
	return d
}

// complete reports whether every destination has all its articles.
func (r *rig) complete(tl tally) bool {
	for _, d := range rigDests {
		if len(tl.missing(d, r.expected(d))) > 0 {
			return false
		}
	}
	return true
}

// unfinished counts the jobs the store still has queued or being sent,
// and lists the parked or unknown ones.
func (r *rig) unfinished(ctx context.Context) (int, []string, error) {
	pending := 0
	var failed []string
	for _, d := range rigDests {
		open, err := r.store.List(ctx, d, 0, syndicate.StatusQueued, syndicate.StatusSending)
		if err != nil {
			return 0, nil, err
		}
		pending += len(open)
		bad, err := r.store.List(ctx, d, 0, syndicate.StatusParked, syndicate.StatusUnknown)
		if err != nil {
			return 0, nil, err
		}
		for _, j := range bad {
			failed = append(failed, fmt.Sprintf("%s %s %s: %s", d, j.ArticleKey, j.Status, j.LastError))
		}
	}
	return pending, failed, nil
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
func (r *rig) waitDrained(timeout time.Duration) tally {
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
				m := tl.missing(d, r.expected(d))
				fmt.Fprintf(&b, "\n  %s: %d posts, %d missing %v", d, tl.total(d), len(m), head(m, 10))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			pending, failed, err := r.unfinished(ctx)
			cancel()
			r.t.Fatalf("not drained within %s:%s\n  store: %d queued or sending, failed %v, error %v", timeout, b.String(), pending, failed, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func head(xs []int, n int) []int { return xs[:min(n, len(xs))] }

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
func (r *rig) checkOldestFirst(tl tally) {
	r.t.Helper()
	for _, d := range rigDests {
		seq := tl.order[d]
		for i := 1; i < len(seq); i++ {
			if seq[i] < seq[i-1] {
				r.t.Errorf("%s: article %d was posted after article %d (post %d of %d): oldest first is broken", d, seq[i], seq[i-1], i+1, len(seq))
				break
			}
		}
	}
}

func (r *rig) checkExactlyOnce(tl tally) {
	r.t.Helper()
	r.checkOldestFirst(tl)
	for _, d := range rigDests {
		if m := tl.missing(d, r.expected(d)); len(m) > 0 {
			r.t.Errorf("%s: %d articles missing: %v", d, len(m), head(m, 20))
		}
		if u := tl.unexpected(d, r.expected(d)); len(u) > 0 {
			r.t.Errorf("%s: %d articles posted that its route does not carry: %v", d, len(u), head(u, 20))
		}
		if n := tl.duplicates(d); n > 0 {
			r.t.Errorf("%s: %d duplicate posts", d, n)
		}
		if n := tl.strays[d]; n > 0 {
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

// redisPID asks the server at addr for its process id.
func redisPID(ctx context.Context, addr string) (int, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return 0, fmt.Errorf("redis info: %w", err)
	}
	for l := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("INFO server has no process_id")
}

// stopRedisGracefully sends SIGTERM to the server at addr, as an operator
// or orchestrator stops it, and waits until its process is gone.
func stopRedisGracefully(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pid, err := redisPID(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM redis-server %d: %v", pid, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	// The process is reaped by whoever started it; until then signal 0
	// still finds it.
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server %d still running 15s after SIGTERM", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restartRedis starts redis-server again on addr with the data in dir,
// waits until it answers and stops it at cleanup.
func restartRedis(t *testing.T, path, dir, addr string, extra ...string) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	args := append([]string{"--bind", host, "--port", port, "--save", "", "--dir", dir,
		"--logfile", "", "--loglevel", "warning"}, extra...)
	cmd := exec.Command(path, args...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("restarted redis-server exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted redis-server does not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
