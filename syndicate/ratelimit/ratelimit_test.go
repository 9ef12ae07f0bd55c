package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
	"github.com/syndicate-bot/syndicate/syndicate/window"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// failsafe bounds waits for a call that must return, so that a hang fails
// the test instead of stalling the run; it is never the assertion.
const failsafe = 20 * time.Second

func newClient(t *testing.T, url string) redis.UniversalClient {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func newLimiter(t *testing.T, rdb redis.UniversalClient, o Options) *Limiter {
	t.Helper()
	l, err := New(rdb, o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// budget claims one call under key within n per per, with the margin a
// platform limit gets.
func budget(key string, n int, per time.Duration) window.Claim {
	return window.Claim{Key: key, Limits: []window.Limit{window.Platform(n, per)}}
}

// chatClaim claims one post of a chat that allows 20 a minute, at most 3
// of them within any 9 seconds.
func chatClaim(key string) window.Claim {
	return window.Claim{Key: key, Limits: []window.Limit{window.Platform(20, time.Minute), {N: 3, Per: 9 * time.Second}}}
}

// handBack is a wait a caller refused to make, as a platform client that
// gives the job back to its scheduler does.
type handBack struct {
	key string
	d   time.Duration
}

func (h *handBack) Error() string { return fmt.Sprintf("%s: not waiting %s", h.key, h.d) }

// waitUpTo waits in place for at most maxWait, else hands the call back.
func waitUpTo(l *Limiter, maxWait time.Duration) func(ctx context.Context, claims ...window.Claim) error {
	return func(ctx context.Context, claims ...window.Claim) error {
		return l.WaitOr(ctx, claims, func(key string, d time.Duration) error {
			if d > maxWait {
				return &handBack{key: key, d: d}
			}
			return nil
		})
	}
}

// fakeClock moves only when someone sleeps on it and remembers the sleeps.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// replicas returns n limiters with their own connections to one Redis and
// one prefix, on one fake clock: the replicas of one deployment.
func replicas(t *testing.T, n int, clock *fakeClock) []*Limiter {
	t.Helper()
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	var ls []*Limiter
	for range n {
		ls = append(ls, newLimiter(t, newClient(t, url), Options{Prefix: prefix, Now: clock.Now, Sleep: clock.Sleep}))
	}
	return ls
}

// free has no limits, so only blocks hold its calls back.
func free(key string) window.Claim { return window.Claim{Key: key} }

// TestReplicasKeepTheBound lets three replicas post to six chats of one
// bot as fast as the limits allow, with real time and the real server's
// clock: the chats ask for more than the bot allows, so calls are refused
// by the bot after their chat admitted them and must give the chat's slot
// back. Every claim also carries a limit of an hour that never binds, only
// so that the logs keep every admission for the test to read: by the
// server's own times, no window of any key holds more than its limit, and
// each log holds exactly the calls that Wait let through under its key.
func TestReplicasKeepTheBound(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	keep := window.Limit{N: 1 << 30, Per: time.Hour}
	chatLimit := window.Limit{N: 4, Per: 300 * time.Millisecond}
	botLimit := window.Limit{N: 10, Per: 200 * time.Millisecond}
	bot := window.Claim{Key: "tg:bot:1", Limits: []window.Limit{botLimit, keep}}
	const chats = 6
	var (
		mu     sync.Mutex
		passed = map[string]int{}
		wg     sync.WaitGroup
		errs   = make(chan error, 3*chats)
	)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var first *Limiter
	for r := range 3 {
		l := newLimiter(t, newClient(t, url), Options{Prefix: prefix})
		if first == nil {
			first = l
		}
		for c := range chats {
			chat := window.Claim{Key: fmt.Sprintf("tg:chat:%d", c), Limits: []window.Limit{chatLimit, keep}}
			wg.Go(func() {
				for {
					if err := l.Wait(ctx, chat, bot); err != nil {
						if !errors.Is(err, context.DeadlineExceeded) {
							errs <- fmt.Errorf("replica %d: %w", r, err)
						}
						return
					}
					mu.Lock()
					passed[chat.Key]++
					passed[bot.Key]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Wait: %v", err)
	}
	rdb := newClient(t, url)
	check := func(key string, lim window.Limit) {
		t.Helper()
		z, err := rdb.ZRangeWithScores(context.Background(), first.logKey(key), 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(z) != passed[key] {
			t.Errorf("%s: the log holds %d admissions, Wait let %d calls through", key, len(z), passed[key])
		}
		us := lim.Per.Microseconds()
		for i := lim.N; i < len(z); i++ {
			if span := int64(z[i].Score - z[i-lim.N].Score); span <= us {
				t.Errorf("%s: %d admissions within %dµs, more than %d in a window of %s", key, lim.N+1, span, lim.N, lim.Per)
				return
			}
		}
	}
	check(bot.Key, botLimit)
	for c := range chats {
		check(fmt.Sprintf("tg:chat:%d", c), chatLimit)
	}
	// Six chats at 4 per 300ms ask for 80 calls a second, the bot allows 50.
	if passed[bot.Key] <= botLimit.N {
		t.Errorf("%d calls in all: the run never filled the bot's window", passed[bot.Key])
	}
}

// admission is when a replica's Wait let a call through: somewhere
// between lo and hi, as Redis judged it by its own clock.
type admission struct {
	lo, hi  time.Time
	replica int
}

// checkSharedCap fails when admissions that surely fall in one window of
// per number more than events, or when the replicas did not both get
// some and together more than events (a test that admitted too little
// would prove nothing).
func checkSharedCap(t *testing.T, got []admission, events int, per time.Duration) {
	t.Helper()
	perReplica := map[int]int{}
	for _, a := range got {
		perReplica[a.replica]++
		n := 0
		for _, b := range got {
			if !b.lo.Before(a.lo) && !b.hi.After(a.lo.Add(per)) {
				n++
			}
		}
		if n > events {
			t.Errorf("%d admissions within %s of %s", n, per, a.lo.Format("15:04:05.000"))
		}
	}
	if len(got) <= events || perReplica[0] == 0 || perReplica[1] == 0 {
		t.Errorf("admissions per replica %v: want more than %d in all, some in each", perReplica, events)
	}
}

func TestBlockHoldsEveryReplica(t *testing.T) {
	clock := newFakeClock()
	ls := replicas(t, 2, clock)
	ctx := context.Background()
	ls[0].Block("tg:bot:1", clock.Now().Add(time.Hour))
	if err := ls[1].Wait(ctx, free("tg:bot:2")); err != nil {
		t.Fatal(err)
	}
	if s := clock.Slept(); len(s) != 0 {
		t.Errorf("another key waited %v", s)
	}
	if err := ls[1].Wait(ctx, free("tg:bot:1")); err != nil {
		t.Fatal(err)
	}
	if s := clock.Slept(); !slices.Equal(s, []time.Duration{time.Hour}) {
		t.Errorf("blocked key slept %v, want one hour", s)
	}
	if err := ls[0].Wait(ctx, free("tg:bot:1")); err != nil {
		t.Fatal(err)
	}
	if s := clock.Slept(); len(s) != 1 {
		t.Errorf("an ended block still holds: slept %v", s)
	}
}

func TestBlockNeverShortens(t *testing.T) {
	tests := []struct {
		name          string
		first, second time.Duration
		want          time.Duration
	}{
		{"earlier block after a later one", time.Hour, time.Minute, time.Hour},
		{"later block after an earlier one", time.Minute, time.Hour, time.Hour},
		{"block in the past", time.Minute, -time.Hour, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			ls := replicas(t, 2, clock)
			ls[0].Block("k", clock.Now().Add(tt.first))
			ls[1].Block("k", clock.Now().Add(tt.second))
			if err := ls[1].Wait(context.Background(), free("k")); err != nil {
				t.Fatal(err)
			}
			var total time.Duration
			for _, d := range clock.Slept() {
				total += d
			}
			if total != tt.want {
				t.Errorf("waited %s, want %s", total, tt.want)
			}
		})
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	url := redistest.URL(t)

	t.Run("cancelled while blocked", func(t *testing.T) {
		sleeping := make(chan struct{}, 1)
		l := newLimiter(t, newClient(t, url), Options{Prefix: redistest.Prefix(t), Sleep: func(ctx context.Context, d time.Duration) error {
			sleeping <- struct{}{}
			return sleep(ctx, d)
		}})
		l.Block("k", time.Now().Add(time.Hour))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Wait(ctx, free("k")) }()
		<-sleeping
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Wait = %v, want context.Canceled", err)
			}
		case <-time.After(failsafe):
			t.Fatal("Wait still running after its context was cancelled")
		}
	})

	t.Run("deadline before the block ends", func(t *testing.T) {
		clock := newFakeClock()
		l := newLimiter(t, newClient(t, url), Options{Prefix: redistest.Prefix(t), Sleep: clock.Sleep})
		l.Block("k", time.Now().Add(time.Hour))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := l.Wait(ctx, free("k")); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait = %v, want context.DeadlineExceeded", err)
		}
		if s := clock.Slept(); len(s) != 0 {
			t.Errorf("slept %v towards a deadline it cannot make", s)
		}
	})

	t.Run("cancelled while refused", func(t *testing.T) {
		var slept []time.Duration
		l := newLimiter(t, newClient(t, url), Options{Prefix: redistest.Prefix(t), Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			return context.Canceled
		}})
		hourly := window.Claim{Key: "k", Limits: []window.Limit{{N: 1, Per: time.Hour}}}
		if err := l.Wait(context.Background(), hourly); err != nil {
			t.Fatal(err)
		}
		if err := l.Wait(context.Background(), hourly); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait = %v, want context.Canceled", err)
		}
		// One call an hour: the second waits for the rest of it.
		if len(slept) != 1 || slept[0] <= time.Hour-time.Minute || slept[0] > time.Hour+time.Millisecond {
			t.Errorf("slept %v, want one wait of just under an hour", slept)
		}
	})
}

// closedAddr returns a loopback address nothing listens on.
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

// waitOrHang runs f and fails the test if it does not return.
func waitOrHang(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(failsafe):
		t.Fatal("Wait hangs while Redis is down")
		return nil
	}
}

func TestRedisDown(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		// No retries: the client's retry policy is not what is tested.
		rdb := redis.NewClient(&redis.Options{Addr: closedAddr(t), Password: "hunter2", MaxRetries: -1, DialerRetries: 1})
		t.Cleanup(func() { rdb.Close() })
		var logs bytes.Buffer
		var sleeps int
		l := newLimiter(t, rdb, Options{
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			Sleep:  func(context.Context, time.Duration) error { sleeps++; return nil },
		})
		err := waitOrHang(t, func() error {
			l.Block("k", time.Now().Add(time.Minute))
			return l.Wait(context.Background(), free("k"))
		})
		if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait = %v, want a Redis error", err)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
		if sleeps != 0 {
			t.Errorf("Wait slept %d times instead of failing", sleeps)
		}
		if !strings.Contains(logs.String(), "rate limit block not stored") || strings.Contains(logs.String(), "hunter2") {
			t.Errorf("failed Block logged %q", logs.String())
		}
	})

	t.Run("default client within the deadline", func(t *testing.T) {
		l := newLimiter(t, newClient(t, "redis://"+closedAddr(t)), Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := waitOrHang(t, func() error {
			return l.Wait(ctx, window.Claim{Key: "k", Limits: []window.Limit{{N: 1, Per: time.Second}}})
		}); err == nil {
			t.Error("Wait succeeded without Redis")
		}
	})
}

func TestKeyLayout(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	rdb := newClient(t, url)
	clock := newFakeClock()
	l := newLimiter(t, rdb, Options{Prefix: prefix, Now: clock.Now, Sleep: clock.Sleep})
	ctx := context.Background()
	key := "tg:chat:{x}%y"
	l.Block(key, clock.Now().Add(time.Minute))
	if err := l.Wait(ctx, chatClaim(key)); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(ctx, budget("m{x}/media", 2, time.Minute)); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, pattern := range []string{prefix + ":*"} {
		ks, err := rdb.Keys(ctx, pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, ks...)
	}
	slices.Sort(keys)
	tag := "{l:tg:chat:%7Bx%7D%25y}"
	want := []string{prefix + ":" + tag + ":log", prefix + ":" + tag + ":blocked", prefix + ":{l:m%7Bx%7D/media}:log"}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if longest := 30*time.Minute + window.Margin(30*time.Minute) + time.Millisecond; ttl <= 0 || ttl > longest {
			t.Errorf("key %s lives %s, want a lifetime of at most %s", k, ttl, longest)
		}
	}
	// Escaping is one-to-one: keys that differ keep different tags.
	if l.tagged("a{b") == l.tagged("a%7Bb") || l.tagged("a}") == l.tagged("a%7D") {
		t.Error("escaping maps two keys onto one")
	}
}

// TestCluster runs on a Cluster, which refuses any command or script whose
// keys are not declared or not in one slot.
func TestCluster(t *testing.T) {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: redistest.ClusterAddrs(t)})
	t.Cleanup(func() { rdb.Close() })
	clock := newFakeClock()
	prefix := redistest.Prefix(t)
	l := newLimiter(t, rdb, Options{Prefix: prefix, Now: clock.Now, Sleep: clock.Sleep})
	ctx := context.Background()
	l.Block("tg:chat:@news", clock.Now().Add(time.Minute))
	// A post counts under a chat and a bot whose keys lie in other slots:
	// each script declares its one key.
	chat, bot := chatClaim("tg:chat:@news"), budget("tg:bot:1", 1, time.Minute)
	if err := l.Wait(ctx, chat, bot); err != nil {
		t.Fatal(err)
	}
	if s := clock.Slept(); !slices.Equal(s, []time.Duration{time.Minute}) {
		t.Errorf("slept %v, want the minute of the block", s)
	}
	// The bot is full: the chat's slot is given back across slots too.
	stop := errors.New("stop")
	refusing := newLimiter(t, rdb, Options{Prefix: prefix, Sleep: func(context.Context, time.Duration) error { return stop }})
	if err := refusing.Wait(ctx, chatClaim("tg:chat:@other"), bot); !errors.Is(err, stop) {
		t.Errorf("a call the bot refuses: %v, want a wait", err)
	}
	if n := rdb.ZCard(ctx, l.logKey("tg:chat:@other")).Val(); n != 0 {
		t.Errorf("the refused call left %d admissions in its chat's log", n)
	}
	a, err := rdb.ClusterKeySlot(ctx, l.blockedKey("tg:chat:@news")).Result()
	if err != nil {
		t.Fatal(err)
	}
	b, err := rdb.ClusterKeySlot(ctx, l.logKey("tg:chat:@news")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("a key's block and log are in slots %d and %d", a, b)
	}
	m := waitUpTo(l, 0)
	if err := m(ctx, budget("a/media", 1, time.Minute)); err != nil {
		t.Fatal(err)
	}
	var we *handBack
	if err := m(ctx, budget("a/media", 1, time.Minute)); !errors.As(err, &we) {
		t.Errorf("second upload on a Cluster: %v, want a WaitError", err)
	}
	c, err := rdb.ClusterKeySlot(ctx, l.logKey("a/media")).Result()
	if err != nil {
		t.Fatal(err)
	}
	d, err := rdb.ClusterKeySlot(ctx, l.blockedKey("a/media")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if c != d {
		t.Errorf("a key's block and log are in slots %d and %d", d, c)
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("nil client accepted")
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	if _, err := New(rdb, Options{Prefix: "a{b}"}); err == nil {
		t.Error("prefix with a hash tag accepted")
	}
}
