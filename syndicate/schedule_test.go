package syndicate_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// countingStore counts the feed-state calls a poll makes.
type countingStore struct {
	syndicate.Store
	begins, ends, loads, releases atomic.Int64
}

func (s *countingStore) BeginPoll(ctx context.Context, feedID, owner string, now time.Time, ttl time.Duration) (syndicate.FeedState, bool, error) {
	s.begins.Add(1)
	return s.Store.BeginPoll(ctx, feedID, owner, now, ttl)
}

func (s *countingStore) EndPoll(ctx context.Context, feedID, owner string, st syndicate.FeedState, seen map[string]string, now time.Time) error {
	s.ends.Add(1)
	return s.Store.EndPoll(ctx, feedID, owner, st, seen, now)
}

func (s *countingStore) LoadFeed(ctx context.Context, feedID string) (syndicate.FeedState, error) {
	s.loads.Add(1)
	return s.Store.LoadFeed(ctx, feedID)
}

func (s *countingStore) ReleaseFeed(ctx context.Context, feedID, owner string) error {
	s.releases.Add(1)
	return s.Store.ReleaseFeed(ctx, feedID, owner)
}

// TestFeedNotDueCostsNothing: the first poll reads each feed's stored
// state once to fill the schedule; between polls, a tick that finds no
// feed due touches neither the store nor the source; when the interval has
// passed each feed costs one BeginPoll and one EndPoll; forcing polls
// every feed.
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
	type cost struct{ begins, ends, loads, fetches int64 }
	poll := func(force bool) cost {
		t.Helper()
		b0, e0, l0 := cs.begins.Load(), cs.ends.Load(), cs.loads.Load()
		f0 := int64(h.src.count("a") + h.src.count("b"))
		if err := e.PollDue(ctx, force); err != nil {
			t.Fatal(err)
		}
		return cost{cs.begins.Load() - b0, cs.ends.Load() - e0, cs.loads.Load() - l0, int64(h.src.count("a")+h.src.count("b")) - f0}
	}
	if c := poll(false); c != (cost{2, 2, 2, 2}) {
		t.Errorf("first tick: %+v; want 2 of each (the loads fill the schedule)", c)
	}
	for range 5 {
		h.clock.Advance(time.Minute)
		if c := poll(false); c != (cost{}) {
			t.Errorf("tick before the interval: %+v; want nothing", c)
		}
	}
	h.clock.Advance(5 * time.Minute)
	if c := poll(false); c != (cost{2, 2, 0, 2}) {
		t.Errorf("tick after the interval: %+v; want 2 begins, 2 ends, 2 fetches", c)
	}
	if c := poll(true); c != (cost{2, 2, 0, 2}) {
		t.Errorf("forced poll: %+v; want 2 begins, 2 ends, 2 fetches", c)
	}
}

// TestAnotherReplicasPollIsSeen: when another worker polled a feed
// meanwhile, this worker's BeginPoll finds it not due, releases the lease
// and waits for the new time without touching the store again.
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
	fetches := h.src.count("a")
	b0, r0 := cs.begins.Load(), cs.releases.Load()
	if err := one.PollDue(ctx, false); err != nil { // one thinks it is due: begins, finds it is not
		t.Fatal(err)
	}
	if b, r := cs.begins.Load()-b0, cs.releases.Load()-r0; b != 1 || r != 1 {
		t.Errorf("one found two's poll with %d begins and %d releases; want 1 and 1", b, r)
	}
	b0 = cs.begins.Load()
	h.clock.Advance(time.Minute)
	if err := one.PollDue(ctx, false); err != nil {
		t.Fatal(err)
	}
	if h.src.count("a") != fetches || cs.begins.Load() != b0 {
		t.Errorf("after seeing two's poll, one fetched %d more times and began %d more polls; want 0 and 0",
			h.src.count("a")-fetches, cs.begins.Load()-b0)
	}
}

// spreadHarness is a harness of n feeds on the given hosts, each routed
// to one destination.
func spreadHarness(t *testing.T, n int, hosts ...string) *harness {
	t.Helper()
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("f%03d", i))
	}
	h := newHarness(t, syndicate.Route{Feeds: ids, To: []string{"tg"}})
	for i := range h.feeds {
		h.feeds[i].URL = fmt.Sprintf("https://%s/feed/%d", hosts[i%len(hosts)], i)
		h.src.set(h.feeds[i].ID, item(h.feeds[i].ID+"-1", 1))
	}
	return h
}

// TestStartSpreadsFeeds: feeds due at start are spread over StartSpread,
// each at a point fixed by its id, instead of all being fetched at once;
// with Spread they then move to their points in the interval and keep to
// them poll after poll; a restart keeps each feed at its stored next poll.
func TestStartSpreadsFeeds(t *testing.T) {
	h := spreadHarness(t, 200, "example.org")
	mk := func() *syndicate.Engine {
		e, err := syndicate.New(syndicate.Options{Store: h.store, Source: h.src, Feeds: h.feeds, Routes: h.routes,
			Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
			Clock:        h.clock, Owner: "test", Spread: true, StartSpread: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := mk()
	ctx := context.Background()
	var perMinute []int
	total := 0
	for range 11 {
		if err := e.PollDue(ctx, false); err != nil {
			t.Fatal(err)
		}
		n := h.src.total() - total
		total += n
		perMinute = append(perMinute, n)
		h.clock.Advance(time.Minute)
	}
	if total != 200 {
		t.Fatalf("polled %d feeds in the first 10 minutes; want all 200 (per minute: %v)", total, perMinute)
	}
	for i, n := range perMinute[1:] {
		// The tick at the end of each minute polls the feeds placed in
		// it: 20 on average; an even hash keeps every minute well away
		// from a burst.
		if n < 5 || n > 40 {
			t.Errorf("minute %d polled %d feeds; want about 20 (per minute: %v)", i, n, perMinute)
		}
	}
	// The second round keeps to the same points: no burst either.
	perMinute = perMinute[:0]
	for range 10 {
		if err := e.PollDue(ctx, false); err != nil {
			t.Fatal(err)
		}
		n := h.src.total() - total
		total += n
		perMinute = append(perMinute, n)
		h.clock.Advance(time.Minute)
	}
	if total != 400 {
		t.Errorf("polled %d feeds in two intervals; want 400 (second round per minute: %v)", total, perMinute)
	}
	for i, n := range perMinute {
		if n < 5 || n > 40 {
			t.Errorf("second round, minute %d polled %d feeds; want about 20 (per minute: %v)", i, n, perMinute)
		}
	}
	// A new worker on the same store polls nothing before the stored times.
	e2 := mk()
	before := h.src.total()
	if err := e2.PollDue(ctx, false); err != nil {
		t.Fatal(err)
	}
	if n := h.src.total() - before; n > 40 {
		t.Errorf("restart polled %d feeds at once; want only those due", n)
	}
}

// TestJitterSpreadsNextPolls: with Jitter, the next poll of feeds polled
// together lands within ±Jitter/2 of the interval, not all at one time.
func TestJitterSpreadsNextPolls(t *testing.T) {
	h := spreadHarness(t, 50, "example.org")
	e, err := syndicate.New(syndicate.Options{Store: h.store, Source: h.src, Feeds: h.feeds, Routes: h.routes,
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
		Clock:        h.clock, Owner: "test", Jitter: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.PollDue(ctx, false); err != nil {
		t.Fatal(err)
	}
	distinct := map[time.Time]bool{}
	for _, f := range h.feeds {
		st, err := h.store.LoadFeed(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		d := st.NextPoll.Sub(t0)
		if d < 9*time.Minute || d > 11*time.Minute {
			t.Errorf("feed %s next poll in %s; want 10m ± 1m", f.ID, d)
		}
		distinct[st.NextPoll] = true
	}
	if len(distinct) < 10 {
		t.Errorf("50 feeds share %d next poll times; want them spread", len(distinct))
	}
}

// blockingSource counts fetches in flight per host and holds each fetch
// until released, so a test can see how many run at once.
type blockingSource struct {
	*fakeSource
	mu      sync.Mutex
	now     map[string]int
	peak    map[string]int
	all     int
	allPeak int
	hold    time.Duration
}

func (s *blockingSource) Fetch(ctx context.Context, spec syndicate.FeedSpec, st syndicate.FeedState) (syndicate.FetchResult, error) {
	host := spec.URL[len("https://"):]
	host = host[:len(host)-len(host[indexByte(host, '/'):])]
	s.mu.Lock()
	s.now[host]++
	s.all++
	s.peak[host] = max(s.peak[host], s.now[host])
	s.allPeak = max(s.allPeak, s.all)
	s.mu.Unlock()
	time.Sleep(s.hold)
	s.mu.Lock()
	s.now[host]--
	s.all--
	s.mu.Unlock()
	return s.fakeSource.Fetch(ctx, spec, st)
}

func indexByte(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return len(s)
}

// TestPerHostCap: no more than PerHost fetches run at once against one
// host, while feeds of other hosts use the rest of the concurrency.
func TestPerHostCap(t *testing.T) {
	h := spreadHarness(t, 30, "a.example", "b.example", "c.example")
	src := &blockingSource{fakeSource: h.src, now: map[string]int{}, peak: map[string]int{}, hold: 20 * time.Millisecond}
	e, err := syndicate.New(syndicate.Options{Store: h.store, Source: src, Feeds: h.feeds, Routes: h.routes,
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
		Clock:        h.clock, Owner: "test", FeedConcurrency: 8, PerHost: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.PollDue(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if got := h.src.total(); got != 30 {
		t.Fatalf("polled %d feeds; want 30", got)
	}
	for host, peak := range src.peak {
		if peak > 2 {
			t.Errorf("%s had %d fetches at once; want at most 2", host, peak)
		}
	}
	if src.allPeak < 4 {
		t.Errorf("at most %d fetches ran at once over three hosts; want the hosts polled side by side", src.allPeak)
	}
}
