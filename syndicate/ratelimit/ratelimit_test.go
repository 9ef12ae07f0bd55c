package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/bots/mastodon"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
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

// generous never refuses in these tests, so only blocks hold calls back.
var generous = Limit{Events: 1000, Per: time.Second, Burst: 100}

// simulateGCRA runs limit's GCRA as its definition states, with a caller
// that takes every slot the moment it frees, and returns the first n
// admission times.
func simulateGCRA(limit Limit, n int) []time.Duration {
	g := limit.gcra()
	interval := g.Period / time.Duration(g.Rate)
	var (
		times []time.Duration
		tat   time.Duration
		now   time.Duration
	)
	for len(times) < n {
		next := max(tat, now) + interval
		if next-now > time.Duration(g.Burst)*interval {
			now = next - time.Duration(g.Burst)*interval
			continue
		}
		tat = next
		times = append(times, now)
	}
	return times
}

// worstWindow returns the most of the sorted times in one closed window of
// length per.
func worstWindow(times []time.Duration, per time.Duration) int {
	worst := 0
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j]-times[i] <= per; j++ {
			n++
		}
		worst = max(worst, n)
	}
	return worst
}

// TestMappingKeepsWindow counts the worst window of each mapping.
func TestMappingKeepsWindow(t *testing.T) {
	tests := []struct {
		limit Limit
		tight bool // the worst window holds exactly Events
	}{
		{Limit{Events: 20, Per: time.Minute, Burst: 3}, true},
		{Limit{Events: 30, Per: time.Second, Burst: 5}, true},
		{Limit{Events: 10, Per: 500 * time.Millisecond, Burst: 3}, true},
		{Limit{Events: 3, Per: time.Second, Burst: 1}, true},
		{Limit{Events: 10, Per: time.Second, Burst: 2}, true},
		{Limit{Events: 1, Per: time.Minute, Burst: 1}, true},
		{Limit{Events: 1, Per: time.Minute, Burst: 0}, true},
		{Limit{Events: 3, Per: time.Minute, Burst: 10}, true},
		{Limit{Events: 28, Per: 30 * time.Minute, Burst: 7}, true},
		{Limit{Events: 285, Per: 5 * time.Minute, Burst: 72}, false},
		{Limit{Events: 285, Per: 3 * time.Hour, Burst: 285}, true},
	}
	for _, tt := range tests {
		times := simulateGCRA(tt.limit, 3*tt.limit.Events+10)
		worst := worstWindow(times, tt.limit.Per)
		if worst > tt.limit.Events || (tt.tight && worst != tt.limit.Events) {
			t.Errorf("%+v as %v: %d calls in the worst closed window of %s", tt.limit, tt.limit.gcra(), worst, tt.limit.Per)
		}
	}
}

// TestReplicasShareTheCap lets two replicas take a 10 per 500ms limit as
// fast as it allows. Redis judges by its own clock, so each admission is
// known only to lie between the replica's last wake-up and Wait's return;
// any set of admissions whose brackets all fit one window of 500ms must
// then number at most 10.
func TestReplicasShareTheCap(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	limit := Limit{Events: 10, Per: 500 * time.Millisecond, Burst: 3}
	var (
		mu   sync.Mutex
		got  []admission
		wg   sync.WaitGroup
		errs = make(chan error, 2)
	)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	for r := range 2 {
		var woke time.Time // touched only by this replica's goroutine
		l := newLimiter(t, newClient(t, url), Options{Prefix: prefix, Sleep: func(ctx context.Context, d time.Duration) error {
			err := sleep(ctx, d)
			woke = time.Now()
			return err
		}})
		wg.Go(func() {
			for {
				start := time.Now()
				woke = time.Time{}
				if err := l.Wait(ctx, "tg:chat:1", limit); err != nil {
					if !errors.Is(err, context.DeadlineExceeded) {
						errs <- err
					}
					return
				}
				a := admission{lo: start, hi: time.Now(), replica: r}
				if woke.After(a.lo) {
					a.lo = woke
				}
				mu.Lock()
				got = append(got, a)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Wait: %v", err)
	}
	checkSharedCap(t, got, limit.Events, limit.Per)
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
	if err := ls[1].Wait(ctx, "tg:bot:2", generous); err != nil {
		t.Fatal(err)
	}
	if s := clock.Slept(); len(s) != 0 {
		t.Errorf("another key waited %v", s)
	}
	if err := ls[1].Wait(ctx, "tg:bot:1", generous); err != nil {
		t.Fatal(err)
	}
	if s := clock.Slept(); !slices.Equal(s, []time.Duration{time.Hour}) {
		t.Errorf("blocked key slept %v, want one hour", s)
	}
	if err := ls[0].Wait(ctx, "tg:bot:1", generous); err != nil {
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
			if err := ls[1].Wait(context.Background(), "k", generous); err != nil {
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
		go func() { done <- l.Wait(ctx, "k", generous) }()
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
		if err := l.Wait(ctx, "k", generous); !errors.Is(err, context.DeadlineExceeded) {
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
		hourly := Limit{Events: 1, Per: time.Hour, Burst: 1}
		if err := l.Wait(context.Background(), "k", hourly); err != nil {
			t.Fatal(err)
		}
		if err := l.Wait(context.Background(), "k", hourly); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait = %v, want context.Canceled", err)
		}
		// One call per 1.01 hours: the second waits for the rest of that.
		if len(slept) != 1 || slept[0] <= time.Hour || slept[0] > time.Hour+36*time.Second {
			t.Errorf("slept %v, want one wait of just under 1h0m36s", slept)
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
			return l.Wait(context.Background(), "k", generous)
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
		if err := waitOrHang(t, func() error { return l.Wait(ctx, "k", generous) }); err == nil {
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
	if err := l.Wait(ctx, key, generous); err != nil {
		t.Fatal(err)
	}
	m := l.Mastodon(MastodonOptions{Budgets: map[string]mastodon.Budget{"media": {N: 2, Per: time.Minute}}})
	if err := m.Wait(ctx, "m{x}/media"); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, pattern := range []string{prefix + ":*", "rate:" + prefix + ":*"} {
		ks, err := rdb.Keys(ctx, pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, ks...)
	}
	slices.Sort(keys)
	tag := "{l:tg:chat:%7Bx%7D%25y}"
	want := []string{"rate:" + prefix + ":" + tag + ":gcra", prefix + ":" + tag + ":blocked", prefix + ":{l:m%7Bx%7D/media}:log"}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > time.Minute+blockGrace {
			t.Errorf("key %s lives %s, want a lifetime of at most %s", k, ttl, time.Minute+blockGrace)
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
	l := newLimiter(t, rdb, Options{Prefix: redistest.Prefix(t), Now: clock.Now, Sleep: clock.Sleep})
	ctx := context.Background()
	l.Block("tg:chat:@news", clock.Now().Add(time.Minute))
	if err := l.Wait(ctx, "tg:chat:@news", Limit{Events: 20, Per: time.Minute, Burst: 3}); err != nil {
		t.Fatal(err)
	}
	if s := clock.Slept(); !slices.Equal(s, []time.Duration{time.Minute}) {
		t.Errorf("slept %v, want the minute of the block", s)
	}
	a, err := rdb.ClusterKeySlot(ctx, l.blockedKey("tg:chat:@news")).Result()
	if err != nil {
		t.Fatal(err)
	}
	b, err := rdb.ClusterKeySlot(ctx, "rate:"+l.gcraKey("tg:chat:@news")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("a key's block and bucket are in slots %d and %d", a, b)
	}
	// The window script declares its one key, in the slot of the block.
	m := l.Mastodon(MastodonOptions{Budgets: map[string]mastodon.Budget{"media": {N: 1, Per: time.Minute}}, NoWait: true})
	if err := m.Wait(ctx, "a/media"); err != nil {
		t.Fatal(err)
	}
	var we *mastodon.WaitError
	if err := m.Wait(ctx, "a/media"); !errors.As(err, &we) {
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
