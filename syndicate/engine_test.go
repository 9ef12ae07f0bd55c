package syndicate_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
)

// fakeClock is a settable clock; After fires at once so loops never block.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// fakeSource serves items per feed and counts fetches.
type fakeSource struct {
	mu      sync.Mutex
	items   map[string][]syndicate.Item
	fail    map[string]error
	fetches map[string]int
	hubs    map[string][]string
}

func newSource() *fakeSource {
	return &fakeSource{items: map[string][]syndicate.Item{}, fail: map[string]error{}, fetches: map[string]int{}, hubs: map[string][]string{}}
}

// setHubs makes the feed's document name hubs (none: nil).
func (s *fakeSource) setHubs(feed string, hubs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hubs[feed] = hubs
}

func (s *fakeSource) set(feed string, items ...syndicate.Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range items {
		items[i].FeedID = feed
	}
	s.items[feed] = items
}

func (s *fakeSource) Fetch(_ context.Context, spec syndicate.FeedSpec, _ syndicate.FeedState) (syndicate.FetchResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches[spec.ID]++
	if err := s.fail[spec.ID]; err != nil {
		if errors.Is(err, errPanic) {
			panic("parse: nil map entry")
		}
		return syndicate.FetchResult{}, err
	}
	return syndicate.FetchResult{Items: slices.Clone(s.items[spec.ID]), Hubs: slices.Clone(s.hubs[spec.ID])}, nil
}

func (s *fakeSource) count(feed string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[feed]
}

func (s *fakeSource) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.fetches {
		n += c
	}
	return n
}

// recorder is a publisher that records what it posts and fails on demand.
// errPanic in a recorder's errs makes that call panic.
var errPanic = errors.New("panic")

type recorder struct {
	mu     sync.Mutex
	posts  []syndicate.Delivery
	errs   []error // returned by the next calls, in order
	window time.Duration
	n      int
}

func (r *recorder) Publish(_ context.Context, job syndicate.Delivery) (syndicate.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		err := r.errs[0]
		r.errs = r.errs[1:]
		if errors.Is(err, errPanic) {
			panic("render: index out of range [7] with length 3")
		}
		if err != nil {
			return syndicate.Receipt{}, err
		}
	}
	r.posts = append(r.posts, job)
	r.n++
	return syndicate.Receipt{MessageIDs: []string{fmt.Sprint(r.n)}}, nil
}

func (r *recorder) Preview(it syndicate.Item) (string, error) { return it.Title, nil }
func (r *recorder) EditWindow() time.Duration                 { return r.window }

func (r *recorder) titles() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.posts {
		t := p.Item.Title
		if p.Kind == syndicate.JobEdit {
			t = "edit:" + t
		}
		out = append(out, t)
	}
	return out
}

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func item(key string, hoursAgo int, cats ...string) syndicate.Item {
	return syndicate.Item{
		Key: "guid:" + key, Link: "https://example.org/" + key + "/", Title: key,
		Summary: "About " + key, Published: t0.Add(-time.Duration(hoursAgo) * time.Hour), Categories: cats,
	}
}

type harness struct {
	t      *testing.T
	store  syndicate.Store
	path   string
	src    *fakeSource
	clock  *fakeClock
	pubs   map[string]*recorder
	routes []syndicate.Route
	feeds  []syndicate.Feed
	policy syndicate.Policy
	langs  syndicate.LanguageIdentifier
	logger *slog.Logger
	counts *counts
}

// counts records the engine's parked metric events, by destination.
type counts struct {
	mu     sync.Mutex
	parked map[string]int
}

func (c *counts) FeedPolled(string, string, time.Duration) {}
func (c *counts) ItemsDiscovered(string, int)              {}
func (c *counts) Delivered(string, string, time.Duration)  {}
func (c *counts) Parked(dest string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.parked[dest]++
}

func newHarness(t *testing.T, routes ...syndicate.Route) *harness {
	t.Helper()
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "state.db"), src: newSource(),
		clock: &fakeClock{now: t0}, pubs: map[string]*recorder{}, routes: routes, counts: &counts{parked: map[string]int{}},
		policy: syndicate.Policy{MaxAttempts: 3, MaxAge: 24 * time.Hour, ResendAmbiguous: true}}
	feeds := map[string]bool{}
	for _, r := range routes {
		for _, f := range r.Feeds {
			if !feeds[f] {
				feeds[f] = true
				h.feeds = append(h.feeds, syndicate.Feed{FeedSpec: syndicate.FeedSpec{ID: f, PollInterval: 10 * time.Minute}, MaxAge: 72 * time.Hour})
			}
		}
		for _, d := range r.To {
			if h.pubs[d] == nil {
				h.pubs[d] = &recorder{window: 48 * time.Hour}
			}
		}
	}
	h.open()
	return h
}

func (h *harness) open() {
	h.t.Helper()
	st, err := boltstore.Open(h.path, boltstore.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	h.store = st
	h.t.Cleanup(func() { st.Close() })
}

func (h *harness) engine() *syndicate.Engine {
	h.t.Helper()
	var dests []syndicate.Destination
	for _, id := range slices.Sorted(maps.Keys(h.pubs)) {
		dests = append(dests, syndicate.Destination{ID: id, Publisher: h.pubs[id], Policy: h.policy})
	}
	e, err := syndicate.New(syndicate.Options{Store: h.store, Source: h.src, Feeds: h.feeds, Routes: h.routes,
		Destinations: dests, Clock: h.clock, Owner: "test", Languages: h.langs, Logger: h.logger, Metrics: h.counts})
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func (h *harness) once() int {
	h.t.Helper()
	waiting, err := h.engine().Once(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return waiting
}

func (h *harness) records(dest string) []syndicate.Delivery {
	h.t.Helper()
	recs, err := h.store.List(context.Background(), dest, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return recs
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestFirstSightPrimesWithoutPosting(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en", item("c", 1), item("b", 2), item("a", 3))
	h.once()
	equal(t, "posts after first sight", h.pubs["tg"].titles(), nil)

	h.src.set("en", item("d", 0), item("c", 1), item("b", 2), item("a", 3))
	h.once()
	equal(t, "posts after a new item", h.pubs["tg"].titles(), []string{"d"})

	h.once()
	equal(t, "posts after a run with nothing new", h.pubs["tg"].titles(), []string{"d"})
}

func TestBackfillPostsNewestOldestFirst(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}, Backfill: 2})
	h.src.set("en", item("c", 1), item("b", 2), item("a", 3))
	h.once()
	equal(t, "backfilled posts", h.pubs["tg"].titles(), []string{"b", "c"})
}

func TestNewItemsPostedOldestFirst(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en", item("a", 10))
	h.once()
	// Dates, not document order, decide: "x" is older than "y" although listed first.
	h.src.set("en", item("x", 2), item("z", 0), item("y", 1), item("a", 10))
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"x", "y", "z"})
}

// TestUndatedItemsKeepTheirPlace: a feed listing old (5 h ago), an
// undated item and new (1 h ago) is posted in that order, and a backfill
// of one takes the newest, not the oldest.
func TestUndatedItemsKeepTheirPlace(t *testing.T) {
	undated := func(key string) syndicate.Item {
		it := item(key, 0)
		it.Published = time.Time{}
		return it
	}
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en")
	h.once()
	h.src.set("en", item("old", 5), undated("undated"), item("new", 1))
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"old", "undated", "new"})

	b := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}, Backfill: 1})
	b.src.set("en", item("old", 5), undated("undated"), item("new", 1))
	b.once()
	equal(t, "backfill of one", b.pubs["tg"].titles(), []string{"new"})
}

func TestMaxAgeSkipsOldItems(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en", item("a", 1))
	h.once()
	h.src.set("en", item("fresh", 1), item("stale", 100), item("a", 1))
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"fresh"})
}

// TestDatesAheadAndBeforeTheEpoch: an item dated ahead, even past the
// year 9999 (which no store encoding can write), is posted as published
// now, in its place in the feed; an item dated 1970 or before is as old
// as it says and is never posted.
func TestDatesAheadAndBeforeTheEpoch(t *testing.T) {
	dated := func(key string, at time.Time) syndicate.Item {
		it := item(key, 0)
		it.Published, it.Updated = at, at
		return it
	}
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en")
	h.once()
	h.src.set("en",
		dated("year 10000", time.Date(10000, 1, 1, 11, 59, 59, 0, time.UTC)),
		dated("two days ahead", t0.Add(48*time.Hour)),
		item("an hour ago", 1),
		dated("epoch", time.Unix(0, 0)),
		dated("1969", time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)),
		dated("year -1", time.Date(-1, 11, 30, 0, 0, 0, 0, time.UTC)),
	)
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"an hour ago", "two days ahead", "year 10000"})
	for _, p := range h.pubs["tg"].posts {
		if p.Item.Title != "an hour ago" && (!p.Item.Published.Equal(t0) || !p.Item.Updated.Equal(t0)) {
			t.Errorf("%q posted as published %v, updated %v; want now, %v", p.Item.Title, p.Item.Published, p.Item.Updated, t0)
		}
	}
	h.once()
	equal(t, "posts after another run", h.pubs["tg"].titles(), []string{"an hour ago", "two days ahead", "year 10000"})
}

func TestWipedStoreDoesNotRepostBacklog(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en", item("a", 2))
	h.once()
	h.src.set("en", item("b", 1), item("a", 2))
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"b"})

	h.store.Close()
	h.path = filepath.Join(t.TempDir(), "wiped.db")
	h.open()
	h.src.set("en", item("c", 0), item("b", 1), item("a", 2))
	h.once()
	equal(t, "posts after the store was wiped", h.pubs["tg"].titles(), []string{"b"})
}

func TestSameArticleThroughTwoFeedsPostedOnce(t *testing.T) {
	h := newHarness(t,
		syndicate.Route{Feeds: []string{"news", "all"}, To: []string{"tg"}},
		syndicate.Route{Feeds: []string{"all"}, To: []string{"md"}})
	h.src.set("news", item("old", 5))
	h.src.set("all", item("old", 5))
	h.once()
	// Both feeds carry the same article (same link) under different GUIDs.
	a := item("story", 1)
	b := a
	b.Key = "guid:https://example.org/?p=42"
	h.src.set("news", a, item("old", 5))
	h.src.set("all", b, item("old", 5))
	h.once()
	equal(t, "tg posts", h.pubs["tg"].titles(), []string{"story"})
	equal(t, "md posts", h.pubs["md"].titles(), []string{"story"})
}

func TestDuplicateGUIDInFeedPostedOnce(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en")
	h.once()
	h.src.set("en", item("a", 1), item("a", 1))
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"a"})
}

func TestRouteFilters(t *testing.T) {
	h := newHarness(t,
		syndicate.Route{Feeds: []string{"en"}, To: []string{"videos"}, Filter: syndicate.Filter{IncludeCategories: []string{"videos"}}},
		syndicate.Route{Feeds: []string{"en"}, To: []string{"main"}, Filter: syndicate.Filter{ExcludeCategories: []string{"Brief"}}})
	h.src.set("en")
	h.once()
	h.src.set("en", item("clip", 2, "Videos"), item("brief", 1, "Brief"), item("report", 0, "News"))
	h.once()
	equal(t, "videos", h.pubs["videos"].titles(), []string{"clip"})
	equal(t, "main", h.pubs["main"].titles(), []string{"clip", "report"})
}

func TestBrokenFeedDoesNotStopOthers(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"bad", "good"}, To: []string{"tg"}})
	h.src.set("good")
	h.src.fail["bad"] = &syndicate.FetchError{StatusCode: 503, RetryAfter: time.Hour, Err: errors.New("unavailable")}
	h.once()
	h.src.set("good", item("a", 0))
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"a"})
	st, err := h.store.LoadFeed(context.Background(), "bad")
	if err != nil {
		t.Fatal(err)
	}
	if st.Failures != 2 || st.Primed || !strings.Contains(st.LastError, "unavailable") {
		t.Errorf("bad feed state = %+v, want 2 failures, not primed, the error kept", st)
	}
	if want := t0.Add(time.Hour); st.NextPoll.Before(want) {
		t.Errorf("next poll %v is before Retry-After %v", st.NextPoll, want)
	}
}

func TestPollBacksOffAfterFailures(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.fail["en"] = errors.New("connection refused")
	e := h.engine()
	var waits []time.Duration
	for range 3 {
		if err := e.PollFeed(context.Background(), "en", false); err != nil {
			t.Fatal(err)
		}
		st, _ := h.store.LoadFeed(context.Background(), "en")
		waits = append(waits, st.NextPoll.Sub(h.clock.Now()))
		h.clock.Advance(st.NextPoll.Sub(h.clock.Now()))
	}
	if !(waits[0] < waits[1] && waits[1] < waits[2]) {
		t.Errorf("waits after failures = %v, want growing", waits)
	}
	// Not due yet: no fetch.
	before := h.src.fetches["en"]
	if err := e.PollFeed(context.Background(), "en", false); err != nil {
		t.Fatal(err)
	}
	if h.src.fetches["en"] != before+1 {
		t.Errorf("due poll did not fetch")
	}
	if err := e.PollFeed(context.Background(), "en", false); err != nil {
		t.Fatal(err)
	}
	if h.src.fetches["en"] != before+1 {
		t.Errorf("poll before the backoff ended fetched anyway")
	}
}

func TestTemporaryErrorRetriedWithBackoff(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en")
	h.once()
	h.pubs["tg"].errs = []error{&syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: errors.New("502 bad gateway")}}
	h.src.set("en", item("a", 0))
	if waiting := h.once(); waiting != 1 {
		t.Fatalf("waiting after a temporary error = %d, want 1", waiting)
	}
	rec := h.records("tg")[0]
	if rec.Status != syndicate.StatusQueued || rec.Attempts != 1 || !rec.NotBefore.After(h.clock.Now()) {
		t.Fatalf("record after a temporary error = %+v", rec)
	}
	h.clock.Advance(time.Hour)
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"a"})
	if rec := h.records("tg")[0]; rec.Status != syndicate.StatusSent || len(rec.MessageIDs) != 1 {
		t.Errorf("record after retry = %+v", rec)
	}
}

func TestTooManyFailuresPark(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en")
	h.once()
	tmp := &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: errors.New("timeout")}
	h.pubs["tg"].errs = []error{tmp, tmp, tmp}
	h.src.set("en", item("a", 0))
	for range 3 {
		h.once()
		h.clock.Advance(time.Hour)
	}
	rec := h.records("tg")[0]
	if rec.Status != syndicate.StatusParked || !strings.Contains(rec.LastError, "gave up after 3 attempts") {
		t.Errorf("record = %+v, want parked after 3 attempts", rec)
	}
	if n := h.counts.parked["tg"]; n != 1 {
		t.Errorf("parked counted %d times, want 1", n)
	}
}

func TestPermanentItemErrorParksAndNextItemFlows(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en")
	h.once()
	h.pubs["tg"].errs = []error{&syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: errors.New("document too big")}}
	h.src.set("en", item("b", 0), item("a", 1))
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"b"})
	recs := h.records("tg")
	if recs[0].Status != syndicate.StatusParked || recs[0].LastError == "" {
		t.Errorf("first record = %+v, want parked with a reason", recs[0])
	}
	if n := h.counts.parked["tg"]; n != 1 {
		t.Errorf("parked counted %d times, want 1", n)
	}
}

func TestPermanentDestinationErrorPausesOnlyThatDestination(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"kicked", "ok"}})
	h.src.set("en")
	h.once()
	h.pubs["kicked"].errs = []error{&syndicate.DeliveryError{Kind: syndicate.ErrPermanentDestination, Err: errors.New("bot was kicked")}}
	h.src.set("en", item("b", 0), item("a", 1))
	h.once()
	equal(t, "ok posts", h.pubs["ok"].titles(), []string{"a", "b"})
	equal(t, "kicked posts", h.pubs["kicked"].titles(), nil)
	st, _ := h.store.LoadDestination(context.Background(), "kicked")
	if !strings.Contains(st.PausedReason, "kicked") {
		t.Errorf("destination state = %+v, want paused with the reason", st)
	}
	for _, r := range h.records("kicked") {
		if r.Status != syndicate.StatusQueued || r.Attempts != 0 {
			t.Errorf("job on paused destination = %+v, want queued and no attempt counted", r)
		}
	}
	// A restart (after the operator fixed the cause) tries again and delivers in order.
	h.once()
	equal(t, "kicked posts after restart", h.pubs["kicked"].titles(), []string{"a", "b"})
}

func TestRateLimitHoldsDestinationAndKeepsOrder(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg", "md"}})
	h.src.set("en")
	h.once()
	h.pubs["tg"].errs = []error{&syndicate.DeliveryError{Kind: syndicate.ErrRateLimited, RetryAfter: 30 * time.Second, Err: errors.New("429")}}
	h.src.set("en", item("c", 0), item("b", 1), item("a", 2))
	h.once()
	equal(t, "tg posts while limited", h.pubs["tg"].titles(), nil)
	equal(t, "md posts", h.pubs["md"].titles(), []string{"a", "b", "c"})
	h.clock.Advance(31 * time.Second)
	h.once()
	equal(t, "tg posts after the wait", h.pubs["tg"].titles(), []string{"a", "b", "c"})
	if r := h.records("tg")[0]; r.Attempts != 0 {
		t.Errorf("rate limit counted as an attempt: %+v", r)
	}
}

func TestAmbiguousOutcomePolicy(t *testing.T) {
	for _, resend := range []bool{true, false} {
		t.Run(fmt.Sprintf("resend=%v", resend), func(t *testing.T) {
			h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
			h.policy.ResendAmbiguous = resend
			h.src.set("en")
			h.once()
			h.pubs["tg"].errs = []error{&syndicate.DeliveryError{Kind: syndicate.ErrAmbiguous, Err: errors.New("timeout after send")}}
			h.src.set("en", item("a", 0))
			h.once()
			h.clock.Advance(time.Hour)
			h.once()
			rec := h.records("tg")[0]
			if resend {
				equal(t, "posts", h.pubs["tg"].titles(), []string{"a"})
				if rec.Status != syndicate.StatusSent {
					t.Errorf("status = %s, want sent", rec.Status)
				}
			} else {
				equal(t, "posts", h.pubs["tg"].titles(), nil)
				if rec.Status != syndicate.StatusUnknown {
					t.Errorf("status = %s, want unknown", rec.Status)
				}
			}
		})
	}
}

func TestChangedArticleIsEdited(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg", "noedit"}})
	h.pubs["noedit"].window = 0
	h.src.set("en")
	h.once()
	h.src.set("en", item("a", 0))
	h.once()
	changed := item("a", 0)
	changed.Title = "a (updated)"
	h.src.set("en", changed)
	h.clock.Advance(time.Hour)
	h.once()
	equal(t, "tg posts", h.pubs["tg"].titles(), []string{"a", "edit:a (updated)"})
	equal(t, "noedit posts", h.pubs["noedit"].titles(), []string{"a"})
	edit := h.pubs["tg"].posts[1]
	if !slices.Equal(edit.MessageIDs, []string{"1"}) {
		t.Errorf("edit job carries message ids %q, want the post's", edit.MessageIDs)
	}
	// Outside the window nothing is edited.
	again := changed
	again.Title = "a (second update)"
	h.src.set("en", again)
	h.clock.Advance(72 * time.Hour)
	h.once()
	if n := len(h.pubs["tg"].titles()); n != 2 {
		t.Errorf("posts after a change outside the window = %d, want 2", n)
	}
}

func TestRunStopsOnStop(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}, Backfill: 1})
	h.src.set("en", item("a", 0))
	e := h.engine()
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	deadline := time.After(10 * time.Second)
	for len(h.pubs["tg"].titles()) == 0 {
		select {
		case <-deadline:
			t.Fatal("nothing posted by Run")
		case <-time.After(5 * time.Millisecond):
		}
	}
	e.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-deadline:
		t.Fatal("Run did not return after Stop")
	}
}

func TestChangeBeforePostingPostsNewContent(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.pubs["tg"].window = 0
	h.src.set("en")
	h.once()
	h.pubs["tg"].errs = []error{&syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: errors.New("502")}}
	h.src.set("en", item("a", 0))
	h.once()
	fixed := item("a", 0)
	fixed.Title = "a (typo fixed)"
	h.src.set("en", fixed)
	h.clock.Advance(time.Hour)
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"a (typo fixed)"})
}

func TestRetentionForgetsOldState(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en")
	h.once()
	h.src.set("en", item("a", 0))
	h.once()
	if n := len(h.records("tg")); n != 1 {
		t.Fatalf("records = %d, want 1", n)
	}
	// The article left the feed; 91 days later its record is pruned.
	h.src.set("en")
	h.clock.Advance(91 * 24 * time.Hour)
	h.once()
	if n := len(h.records("tg")); n != 0 {
		t.Errorf("records after the retention = %d, want 0", n)
	}
	seen, err := h.store.SeenFingerprints(context.Background(), "en", []string{"guid:a"})
	if err != nil || len(seen) != 0 {
		t.Errorf("seen after the retention = %v, %v; want forgotten", seen, err)
	}
}

// flakyStore fails the next Finish calls, as a store does while it is
// unreachable.
type flakyStore struct {
	syndicate.Store
	mu         sync.Mutex
	failFinish int
}

func (f *flakyStore) Finish(ctx context.Context, d syndicate.Delivery) error {
	f.mu.Lock()
	fail := f.failFinish > 0
	if fail {
		f.failFinish--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("connection refused")
	}
	return f.Store.Finish(ctx, d)
}

func TestPostRecordedAfterStoreOutage(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en")
	h.once()
	flaky := &flakyStore{Store: h.store, failFinish: 3}
	h.store = flaky
	h.src.set("en", item("a", 0))
	h.once()
	h.clock.Advance(time.Hour)
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"a"})
	if rec := h.records("tg")[0]; rec.Status != syndicate.StatusSent {
		t.Errorf("record = %s, want sent", rec.Status)
	}
	if flaky.failFinish != 0 {
		t.Errorf("Finish was not retried: %d failures left", flaky.failFinish)
	}
}

// TestPanicsCostOneItemOrPoll: a publisher that panics on an item parks
// that item with the reason and the next one is posted; a feed whose
// reading panics fails with backoff while the other feeds go on.
func TestPanicsCostOneItemOrPoll(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en", "fa"}, To: []string{"tg"}})
	h.src.set("en")
	h.src.set("fa")
	h.once()
	h.pubs["tg"].errs = []error{errPanic}
	h.src.set("en", item("b", 0), item("a", 1))
	h.once()
	equal(t, "posts", h.pubs["tg"].titles(), []string{"b"})
	recs := h.records("tg")
	if recs[0].Status != syndicate.StatusParked || !strings.Contains(recs[0].LastError, "panic publishing") {
		t.Errorf("record of the item that panicked = %+v; want parked with the panic", recs[0])
	}

	h.src.fail["fa"] = errPanic
	h.clock.Advance(time.Hour)
	h.src.set("en", item("c", 0), item("b", 1), item("a", 2))
	h.once()
	equal(t, "posts after a feed panicked", h.pubs["tg"].titles(), []string{"b", "c"})
	st, err := h.store.LoadFeed(context.Background(), "fa")
	if err != nil {
		t.Fatal(err)
	}
	if st.Failures != 1 || !strings.Contains(st.LastError, "panic fetching feed fa") || !st.NextPoll.After(h.clock.Now()) {
		t.Errorf("state of the feed that panicked = %+v; want one failure with the panic and a later poll", st)
	}
}
