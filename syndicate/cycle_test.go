package syndicate_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// sleeperClock is a clock whose After returns at once with the time moved
// on by the wait, as if the caller had slept, and counts those sleeps.
// Waits of an hour or more never fire: only the lease heartbeat asks for
// those here (the tests set a day's lease), and it must not move time.
type sleeperClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *sleeperClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *sleeperClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	if d >= time.Hour {
		return ch
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(max(d, 0))
	ch <- c.now
	return ch
}

func (c *sleeperClock) slept() (time.Duration, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var total time.Duration
	for _, d := range c.sleeps {
		total += d
	}
	return total, len(c.sleeps)
}

func TestCycleWaitsForRetriesDueWithinWait(t *testing.T) {
	rateLimited := &syndicate.DeliveryError{Kind: syndicate.ErrRateLimited, RetryAfter: 3 * time.Second, Err: errors.New("429")}
	serverError := &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: errors.New("http 500")}
	paused := &syndicate.DeliveryError{Kind: syndicate.ErrPermanentDestination, Err: errors.New("bot was kicked")}
	tests := []struct {
		name string
		errs []error
		wait time.Duration
		// posts is how many of the two articles go out; left is how many
		// wait at the end, the next attempt no earlier than nextAfter
		// after the start (zero: none) and the destination paused or not.
		posts     int
		left      int
		nextAfter time.Duration
		paused    bool
		// slept bounds the time spent waiting.
		sleptMin, sleptMax time.Duration
	}{
		{name: "rate limit within the wait", errs: []error{rateLimited}, wait: 2 * time.Minute,
			posts: 2, sleptMin: 3 * time.Second, sleptMax: 4 * time.Second},
		// The first retry after a temporary error waits 10s plus up to 20%.
		{name: "server error within the wait", errs: []error{serverError}, wait: 2 * time.Minute,
			posts: 2, sleptMin: 10 * time.Second, sleptMax: 13 * time.Second},
		{name: "both, one after the other", errs: []error{rateLimited, serverError}, wait: 2 * time.Minute,
			posts: 2, sleptMin: 13 * time.Second, sleptMax: 17 * time.Second},
		{name: "no wait keeps the retry for the next run", errs: []error{rateLimited}, wait: 0,
			posts: 0, left: 2, nextAfter: 3 * time.Second},
		{name: "retry later than the wait", errs: []error{serverError}, wait: 5 * time.Second,
			posts: 0, left: 2, nextAfter: 10 * time.Second},
		{name: "paused destination is not waited for", errs: []error{paused}, wait: 2 * time.Minute,
			posts: 0, left: 2, paused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}, Backfill: 2})
			h.src.set("en", item("b", 1), item("a", 2))
			h.pubs["tg"].errs = tt.errs
			clock := &sleeperClock{now: t0}
			e, err := syndicate.New(syndicate.Options{Store: h.store, Source: h.src, Feeds: h.feeds, Routes: h.routes,
				Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
				Clock:        clock, Owner: "test", Lease: 24 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			left, err := e.Cycle(context.Background(), tt.wait)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(h.pubs["tg"].titles()); got != tt.posts {
				t.Errorf("posts = %d %q, want %d", got, h.pubs["tg"].titles(), tt.posts)
			}
			if tt.posts == 2 {
				equal(t, "order", h.pubs["tg"].titles(), []string{"a", "b"})
			}
			switch {
			case tt.left == 0 && len(left) != 0:
				t.Errorf("left waiting: %+v, want nothing", left)
			case tt.left > 0 && len(left) != 1:
				t.Errorf("left waiting: %+v, want one destination", left)
			case tt.left > 0:
				w := left[0]
				if w.Destination != "tg" || w.Jobs != tt.left || (w.Paused != "") != tt.paused {
					t.Errorf("left waiting: %+v, want tg with %d jobs, paused %v", w, tt.left, tt.paused)
				}
				if tt.nextAfter > 0 && w.Next.Before(t0.Add(tt.nextAfter)) {
					t.Errorf("next attempt at %v, want no earlier than %v", w.Next, t0.Add(tt.nextAfter))
				}
				if !tt.paused && w.Next.Before(clock.Now()) {
					t.Errorf("next attempt at %v is in the past (now %v)", w.Next, clock.Now())
				}
			}
			slept, sleeps := clock.slept()
			if slept < tt.sleptMin || slept > tt.sleptMax {
				t.Errorf("slept %s in all, want between %s and %s", slept, tt.sleptMin, tt.sleptMax)
			}
			// One sleep per retry: the loop sleeps until the next due
			// time instead of polling for it.
			if sleeps > len(tt.errs) {
				t.Errorf("slept %d times for %d retries", sleeps, len(tt.errs))
			}
		})
	}
}
