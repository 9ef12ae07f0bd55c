package ratelimit

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
	"github.com/syndicate-bot/syndicate/syndicate/window"
)

// serverClock is a miniredis whose clock, the one the window script reads
// with TIME, moves only when the test moves it.
type serverClock struct {
	m   *miniredis.Miniredis
	now time.Time
}

func newServerClock(t *testing.T) *serverClock {
	t.Helper()
	c := &serverClock{m: miniredis.RunT(t), now: time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)}
	c.m.SetTime(c.now)
	return c
}

func (c *serverClock) advance(d time.Duration) {
	c.now = c.now.Add(d)
	c.m.SetTime(c.now)
}

// TestWindowScript walks the log through its edges on a server clock the
// test moves: a window is closed, a refusal names the exact time until
// the blocking admission leaves, and a lowered budget waits for enough.
func TestWindowScript(t *testing.T) {
	c := newServerClock(t)
	rdb := newClient(t, "redis://"+c.m.Addr())
	l := newLimiter(t, rdb, Options{Prefix: "p"})
	ctx := context.Background()
	const w = 300 * time.Millisecond
	take := func(n int) time.Duration {
		t.Helper()
		d, _, err := l.takeWindow(ctx, window.Claim{Key: "a/statuses", Limits: []window.Limit{{N: n, Per: w}}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	steps := []struct {
		name    string
		advance time.Duration
		n       int
		want    []time.Duration // what each take returns, in order
	}{
		{"burst at once", 0, 3, []time.Duration{0, 0, 0, w + time.Microsecond}},
		{"later in the window", 100 * time.Millisecond, 3, []time.Duration{200*time.Millisecond + time.Microsecond}},
		{"end of the closed window", 200 * time.Millisecond, 3, []time.Duration{minRetry}},
		{"just past the window", time.Microsecond, 3, []time.Duration{0, 0, 0, w + time.Microsecond}},
		// Three in the window and a budget of one: the newest must leave.
		{"lowered budget", 100 * time.Millisecond, 1, []time.Duration{200*time.Millisecond + time.Microsecond}},
		{"raised budget", 0, 4, []time.Duration{0, 200*time.Millisecond + time.Microsecond}},
	}
	for _, s := range steps {
		c.advance(s.advance)
		var got []time.Duration
		for range s.want {
			got = append(got, take(s.n))
		}
		if !slices.Equal(got, s.want) {
			t.Errorf("%s: takes returned %v, want %v", s.name, got, s.want)
		}
	}
	key := l.logKey("a/statuses")
	if n := rdb.ZCard(ctx, key).Val(); n != 4 {
		t.Errorf("log holds %d admissions, want 4", n)
	}
	if ttl := rdb.PTTL(ctx, key).Val(); ttl != w+time.Millisecond {
		t.Errorf("log lives %s, want %s", ttl, w+time.Millisecond)
	}
}

// TestWindowIsExact lets two replicas call at random moments of a server
// clock the test moves, under two limits of one key, and compares every
// answer with the definition: a call is admitted exactly when each
// limit's closed window ending at it holds fewer than N admissions, and a
// refusal names the time until enough of them leave.
func TestWindowIsExact(t *testing.T) {
	c := newServerClock(t)
	var ls []*Limiter
	for range 2 {
		ls = append(ls, newLimiter(t, newClient(t, "redis://"+c.m.Addr()), Options{Prefix: "p"}))
	}
	ctx := context.Background()
	claim := window.Claim{Key: "k", Limits: []window.Limit{{N: 10, Per: 400 * time.Millisecond}, {N: 3, Per: 50 * time.Millisecond}}}
	rng := rand.New(rand.NewPCG(1, 2))
	start := c.now
	var admitted []time.Time
	refused := 0
	for i := range 2000 {
		// Steps of up to 30ms, whole microseconds, often none at all.
		if rng.IntN(3) > 0 {
			c.advance(time.Duration(rng.IntN(30_000)) * time.Microsecond)
		}
		want := time.Duration(0)
		for _, lim := range claim.Limits {
			var inWindow []time.Time
			for _, a := range admitted {
				if !a.Before(c.now.Add(-lim.Per)) {
					inWindow = append(inWindow, a)
				}
			}
			if len(inWindow) >= lim.N {
				want = max(want, inWindow[len(inWindow)-lim.N].Add(lim.Per).Sub(c.now)+time.Microsecond)
			}
		}
		if want > 0 {
			want = max(want, minRetry)
		}
		got, member, err := ls[i%2].takeWindow(ctx, claim)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || (got == 0) != (member != "") {
			t.Fatalf("call %d at +%s: take = %s %q, want %s", i, c.now.Sub(start), got, member, want)
		}
		if got == 0 {
			admitted = append(admitted, c.now)
		} else {
			refused++
		}
	}
	if refused == 0 || len(admitted) <= 10 {
		t.Errorf("%d admitted, %d refused: the walk never filled the window", len(admitted), refused)
	}
}

// TestWindowBurst spends a budget through two replicas: the whole budget
// goes at once, then both are refused for about a window.
func TestWindowBurst(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	ctx := context.Background()
	var ms []func(context.Context, ...window.Claim) error
	for range 2 {
		ms = append(ms, waitUpTo(newLimiter(t, newClient(t, url), Options{Prefix: prefix}), 0))
	}
	statuses := func(account string) window.Claim { return budget(account+"/statuses", 10, time.Minute) }
	admitted := 0
	var we *handBack
	for {
		err := ms[admitted%2](ctx, statuses("a"))
		if err == nil {
			admitted++
			if admitted > 100 {
				t.Fatal("no refusal after 100 admissions")
			}
			continue
		}
		if !errors.As(err, &we) {
			t.Fatal(err)
		}
		break
	}
	if admitted != 10 {
		t.Errorf("%d admitted before the first refusal, want the budget of 10", admitted)
	}
	if w := statuses("a").Limits[0].Per; we.key != "a/statuses" || we.d <= 0 || we.d > w+time.Microsecond {
		t.Errorf("refusal %+v, want a wait of at most the window of %s", we, w)
	}
	for i, m := range ms {
		if err := m(ctx, statuses("a")); !errors.As(err, &we) {
			t.Errorf("replica %d after the budget: %v, want a refusal", i, err)
		}
	}
	if err := ms[1](ctx, statuses("b")); err != nil {
		t.Errorf("another account: %v", err)
	}
}

// TestWindowReplicasShareTheCap lets two replicas take a budget of 10 per
// 400ms as fast as it allows. Redis judges by its own clock, so each
// admission is known only to lie between the replica's last wake-up and
// Wait's return; any set of admissions whose brackets all fit one window
// of 400ms must then number at most 10.
func TestWindowReplicasShareTheCap(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	n, per := 10, 400*time.Millisecond
	var (
		mu   sync.Mutex
		got  []admission
		wg   sync.WaitGroup
		errs = make(chan error, 2)
	)
	ctx, cancel := context.WithTimeout(context.Background(), 1300*time.Millisecond)
	defer cancel()
	for r := range 2 {
		var woke time.Time // touched only by this replica's goroutine
		l := newLimiter(t, newClient(t, url), Options{Prefix: prefix, Sleep: func(ctx context.Context, d time.Duration) error {
			err := sleep(ctx, d)
			woke = time.Now()
			return err
		}})
		m := waitUpTo(l, time.Second)
		wg.Go(func() {
			for {
				start := time.Now()
				woke = time.Time{}
				if err := m(ctx, budget("a/statuses", n, per)); err != nil {
					var we *handBack
					if !errors.As(err, &we) && !errors.Is(err, context.DeadlineExceeded) {
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
	checkSharedCap(t, got, n, per)
}

// TestWaitSpreads sends 12 calls on a budget of 5 per 300ms, as a
// Mastodon account waits for its statuses, and reads each admission's time from the log, as
// the server took it: five go at once, no window holds six, and every
// wait is one sleep of at most a window.
func TestWaitSpreads(t *testing.T) {
	url := redistest.URL(t)
	rdb := newClient(t, url)
	n, per := 5, 300*time.Millisecond
	claim := budget("a/statuses", n, per)
	var slept []time.Duration
	l := newLimiter(t, rdb, Options{Prefix: redistest.Prefix(t), Sleep: func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return sleep(ctx, d)
	}})
	m := waitUpTo(l, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	var times []time.Duration // server admission times, from the first
	var first float64
	for i := range 12 {
		before := len(slept)
		if err := m(ctx, claim); err != nil {
			t.Fatalf("status %d: %v", i+1, err)
		}
		if n := len(slept) - before; n > 1 {
			t.Errorf("status %d slept %d times: a refusal named too short a wait", i+1, n)
		}
		// The newest admission in the log is this one.
		z, err := rdb.ZRangeWithScores(ctx, l.logKey("a/statuses"), -1, -1).Result()
		if err != nil || len(z) != 1 {
			t.Fatalf("read the log: %v %v", z, err)
		}
		if i == 0 {
			first = z[0].Score
		}
		times = append(times, time.Duration(z[0].Score-first)*time.Microsecond)
		if i == n-1 && len(slept) != 0 {
			t.Errorf("the first %d statuses slept %v, want them at once", n, slept)
		}
	}
	for k := n; k < len(times); k++ {
		if gap := times[k] - times[k-n]; gap <= per {
			t.Errorf("statuses %d and %d only %s apart: %d in one window of %s", k-n+1, k+1, gap, n+1, per)
		}
	}
	for _, d := range slept {
		if w := claim.Limits[0].Per; d <= 0 || d > w+time.Microsecond {
			t.Errorf("slept %v, want each sleep within one window of %s", slept, w)
			break
		}
	}
}

// TestSettleScript: on a server clock the test moves, a finished call's
// slot moves to its answer less the claim's margin when that is later,
// stays when the answer came within the margin, and the next call a full
// window refuses waits for the moved slot; a slot already gone is left
// alone.
func TestSettleScript(t *testing.T) {
	c := newServerClock(t)
	rdb := newClient(t, "redis://"+c.m.Addr())
	l := newLimiter(t, rdb, Options{Prefix: "p", Sleep: func(context.Context, time.Duration) error { return errors.New("no waiting here") }})
	ctx := context.Background()
	claim := budget("tg:bot:1", 1, time.Second) // a window of 1.025s, margin 25ms
	score := func() time.Time {
		t.Helper()
		zs := rdb.ZRangeWithScores(ctx, l.logKey("tg:bot:1"), 0, -1).Val()
		if len(zs) != 1 {
			t.Fatalf("log holds %d slots, want 1", len(zs))
		}
		return time.UnixMicro(int64(zs[0].Score)).UTC()
	}
	start := c.now
	done, err := l.Start(ctx, claim)
	if err != nil {
		t.Fatal(err)
	}
	c.advance(10 * time.Millisecond)
	done()
	if got := score(); !got.Equal(start) {
		t.Errorf("answered within the margin: slot at %s, want its admission %s", got.Sub(start), time.Duration(0))
	}

	c.advance(2 * time.Second)
	start = c.now
	done, err = l.Start(ctx, claim)
	if err != nil {
		t.Fatal(err)
	}
	c.advance(400 * time.Millisecond)
	done()
	done() // a second call changes nothing
	if got, want := score().Sub(start), 375*time.Millisecond; got != want {
		t.Errorf("answered 400ms after admission: slot moved by %s, want %s", got, want)
	}
	d, _, err := l.takeWindow(ctx, claim)
	if err != nil {
		t.Fatal(err)
	}
	// The slot, at +375ms, leaves the 1.025s window just after +1.4s; now
	// is +400ms.
	if want := time.Second + time.Microsecond; d != want {
		t.Errorf("the next call waits %s, want %s", d, want)
	}

	// A slot given back (or expired) before the answer is not made again.
	rdb.Del(ctx, l.logKey("tg:bot:1"))
	l.settle([]admitted{{key: "tg:bot:1", member: "gone", claim: claim}})
	if n := rdb.Exists(ctx, l.logKey("tg:bot:1")).Val(); n != 0 {
		t.Errorf("settling a slot that is gone made the log again")
	}
}

// TestSettleOnARealServer: against redis-server, a call answered 200ms
// after its admission has its slot moved by at least 175ms (its answer
// less the 25ms margin), on the server's own clock.
func TestSettleOnARealServer(t *testing.T) {
	rdb := newClient(t, redistest.URL(t))
	l := newLimiter(t, rdb, Options{Prefix: redistest.Prefix(t)})
	ctx := context.Background()
	claim := budget("tg:bot:2", 30, time.Second)
	score := func() time.Time {
		t.Helper()
		zs := rdb.ZRangeWithScores(ctx, l.logKey("tg:bot:2"), 0, -1).Val()
		if len(zs) != 1 {
			t.Fatalf("log holds %d slots, want 1", len(zs))
		}
		return time.UnixMicro(int64(zs[0].Score))
	}
	done, err := l.Start(ctx, claim)
	if err != nil {
		t.Fatal(err)
	}
	admitted := score()
	time.Sleep(200 * time.Millisecond)
	done()
	if moved := score().Sub(admitted); moved < 175*time.Millisecond {
		t.Errorf("slot moved by %s after a 200ms call; want at least 175ms", moved)
	}
}
