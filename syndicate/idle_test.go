package syndicate_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// stepClock is a clock whose timers fire only when the test moves it past
// them, so that a running engine sleeps as it would in real time.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []stepTimer
}

type stepTimer struct {
	at time.Time
	ch chan time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, stepTimer{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock and fires the timers it passes.
func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- c.now
	}
	c.timers = kept
}

// flow lets simulated time pass in steps, giving the engine's goroutines
// a moment of real time at each, until d has passed or stop holds; it
// returns the simulated time that passed.
func (c *stepClock) flow(d, step time.Duration, stop func() bool) time.Duration {
	passed := time.Duration(0)
	for passed < d && (stop == nil || !stop()) {
		c.Advance(step)
		passed += step
		time.Sleep(time.Millisecond)
	}
	return passed
}

// runEngine runs e until the test ends.
func runEngine(t *testing.T, e *syndicate.Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// destCounter counts the store calls a destination's sender makes.
type destCounter struct {
	syndicate.Store
	loads, claims atomic.Int64
}

func (s *destCounter) LoadDestination(ctx context.Context, d string) (syndicate.DestinationState, error) {
	s.loads.Add(1)
	return s.Store.LoadDestination(ctx, d)
}

func (s *destCounter) Claim(ctx context.Context, d, owner string, now time.Time, lease time.Duration, n int) ([]syndicate.Delivery, error) {
	s.claims.Add(1)
	return s.Store.Claim(ctx, d, owner, now, lease, n)
}

// eventually waits (in real time, only to let goroutines run) until cond
// holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestIdleDestinationCostsNothing: a destination with nothing queued
// makes no store call until its idle check; a job queued by this worker
// wakes it at once.
func TestIdleDestinationCostsNothing(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en", item("a", 1))
	clock := &stepClock{now: t0}
	dc := &destCounter{Store: h.store}
	e, err := syndicate.New(syndicate.Options{Store: dc, Source: h.src, Feeds: h.feeds, Routes: h.routes,
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
		Clock:        clock, Owner: "test", IdleCheck: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	// The poller primes the feed; the sender finds nothing and sleeps.
	eventually(t, "the first poll and claim", func() bool { return h.src.count("en") == 1 && dc.claims.Load() == 1 })
	calls := func() int64 { return dc.claims.Load() + dc.loads.Load() }
	before := calls()
	clock.flow(100*time.Second, time.Second, nil)
	if n := calls() - before; n != 0 {
		t.Errorf("an idle destination made %d store calls in 100 s; want none", n)
	}

	// A new article: the poll at the interval queues it, which wakes the
	// sender at once, long before its idle check.
	h.src.set("en", item("b", 0), item("a", 1))
	posted := func() bool { return len(h.pubs["tg"].titles()) == 1 }
	if took := clock.flow(20*time.Minute, time.Second, posted); !posted() || took > 9*time.Minute {
		t.Fatalf("posted %v after %s; want the article posted at the poll 8m20s on", h.pubs["tg"].titles(), took)
	}
	// Three claims in all: at start, of the post, and one that found
	// nothing before the sender slept again.
	eventually(t, "the sender to look again", func() bool { return dc.claims.Load() == 3 })

	// Idle again: the sender looks at its queue only at the idle check.
	clock.flow(29*time.Minute, 10*time.Second, nil)
	if n := dc.claims.Load() - 3; n != 0 {
		t.Errorf("%d claims before the idle check; want 0", n)
	}
	clock.flow(2*time.Minute, 10*time.Second, nil)
	eventually(t, "the idle check", func() bool { return dc.claims.Load() == 4 })
}
