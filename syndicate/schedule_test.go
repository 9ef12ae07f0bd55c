package syndicate_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// countingStore counts the feed-state calls a poll makes.
type countingStore struct {
	syndicate.Store
	leases, loads atomic.Int64
}

func (s *countingStore) LeaseFeed(ctx context.Context, feedID, owner string, now time.Time, ttl time.Duration) (bool, error) {
	s.leases.Add(1)
	return s.Store.LeaseFeed(ctx, feedID, owner, now, ttl)
}

func (s *countingStore) LoadFeed(ctx context.Context, feedID string) (syndicate.FeedState, error) {
	s.loads.Add(1)
	return s.Store.LoadFeed(ctx, feedID)
}

// TestFeedNotDueCostsNothing: between polls, a tick that finds no feed due
// neither takes a lease nor reads the store; when the interval has passed
// each feed is polled once; forcing polls every feed.
func TestFeedNotDueCostsNothing(t *testing.T) {
	h := newHarness(t,
		syndicate.Route{Feeds: []string{"a"}, To: []string{"tg"}},
		syndicate.Route{Feeds: []string{"b"}, To: []string{"tg"}})
	h.src.set("a", item("a1", 1))
	h.src.set("b", item("b1", 1))
	cs := &countingStore{Store: h.store}
	e, err := syndicate.New(syndicate.Options{Store: cs, Source: h.src, Feeds: h.feeds, Routes: h.routes,
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}}, Clock: h.clock, Owner: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	poll := func(force bool) (leases, loads, fetches int64) {
		t.Helper()
		l0, r0 := cs.leases.Load(), cs.loads.Load()
		f0 := int64(h.src.fetches["a"] + h.src.fetches["b"])
		if err := e.PollDue(ctx, force); err != nil {
			t.Fatal(err)
		}
		return cs.leases.Load() - l0, cs.loads.Load() - r0, int64(h.src.fetches["a"]+h.src.fetches["b"]) - f0
	}
	if l, r, f := poll(false); l != 2 || r != 2 || f != 2 {
		t.Errorf("first tick: %d leases, %d loads, %d fetches; want 2 of each", l, r, f)
	}
	for range 5 {
		h.clock.Advance(time.Minute)
		if l, r, f := poll(false); l != 0 || r != 0 || f != 0 {
			t.Errorf("tick before the interval: %d leases, %d loads, %d fetches; want none", l, r, f)
		}
	}
	h.clock.Advance(5 * time.Minute)
	if l, r, f := poll(false); l != 2 || r != 2 || f != 2 {
		t.Errorf("tick after the interval: %d leases, %d loads, %d fetches; want 2 of each", l, r, f)
	}
	if l, _, f := poll(true); l != 2 || f != 2 {
		t.Errorf("forced poll: %d leases, %d fetches; want 2 of each", l, f)
	}
}

// TestAnotherReplicasPollIsSeen: when another worker polled a feed
// meanwhile, this worker's lease and store read find it not due and it
// waits for the new time without reading the store again.
func TestAnotherReplicasPollIsSeen(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"a"}, To: []string{"tg"}})
	h.src.set("a", item("a1", 1))
	cs := &countingStore{Store: h.store}
	mk := func(owner string) *syndicate.Engine {
		e, err := syndicate.New(syndicate.Options{Store: cs, Source: h.src, Feeds: h.feeds, Routes: h.routes,
			Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}}, Clock: h.clock, Owner: owner})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	ctx := context.Background()
	one, two := mk("one"), mk("two")
	if err := one.PollDue(ctx, false); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(11 * time.Minute)
	if err := two.PollDue(ctx, false); err != nil { // two has seen nothing: polls
		t.Fatal(err)
	}
	fetches := h.src.fetches["a"]
	if err := one.PollDue(ctx, false); err != nil { // one thinks it is due: reads, finds it is not
		t.Fatal(err)
	}
	loads := cs.loads.Load()
	h.clock.Advance(time.Minute)
	if err := one.PollDue(ctx, false); err != nil {
		t.Fatal(err)
	}
	if h.src.fetches["a"] != fetches || cs.loads.Load() != loads {
		t.Errorf("after seeing two's poll, one fetched %d more times and read the store %d more times; want 0 and 0",
			h.src.fetches["a"]-fetches, cs.loads.Load()-loads)
	}
}
