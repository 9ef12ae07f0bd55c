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

// pending is the number of timers not yet fired.
func (c *stepClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// timersAt is the number of timers set to fire at t.
func (c *stepClock) timersAt(t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, tm := range c.timers {
		if tm.at.Equal(t) {
			n++
		}
	}
	return n
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	asleep := func() bool { return clock.pending() == 2 }
	// Both loops asleep: the poller after priming the feed, the sender
	// after finding nothing to do.
	eventually(t, "both loops to sleep", func() bool { return h.src.count("en") == 1 && asleep() })
	calls := func() int64 { return dc.claims.Load() + dc.loads.Load() }
	before := calls()
	for range 100 {
		clock.Advance(time.Second)
		eventually(t, "the loops to sleep again", asleep)
	}
	if n := calls() - before; n != 0 {
		t.Errorf("an idle destination made %d store calls in 100 s; want none", n)
	}

	// A new article: the poll at the interval queues it, which wakes the
	// sender at once, long before its idle check.
	h.src.set("en", item("b", 0), item("a", 1))
	clock.Advance(10 * time.Minute)
	eventually(t, "the new article posted", func() bool { return len(h.pubs["tg"].titles()) == 1 })
	// Asleep again after three claims in all (at start, of the post, and
	// one that found nothing): the poller's
	// timer, the sender's, and two left set (the sender's from before it
	// was woken, the heartbeat's of the post).
	eventually(t, "the loops to sleep again", func() bool { return dc.claims.Load() == 3 && clock.pending() == 4 })

	// Idle again: the sender looks at its queue only at the idle check.
	before = dc.claims.Load()
	clock.Advance(29 * time.Minute)
	eventually(t, "the loops to sleep again", asleep)
	if n := dc.claims.Load() - before; n != 0 {
		t.Errorf("%d claims before the idle check; want 0", n)
	}
	clock.Advance(2 * time.Minute)
	eventually(t, "the idle check", func() bool { return dc.claims.Load() == before+1 && asleep() })
}
