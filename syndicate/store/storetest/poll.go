package storetest

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// pollOp is one call of a poll-lease scenario.
type pollOp int

const (
	opBegin   pollOp = iota // BeginPoll; want says whether it is taken
	opLease                 // LeaseFeed; want says whether it is taken
	opRelease               // ReleaseFeed
	opEnd                   // EndPoll saving the step's state
)

func beginPoll(t *testing.T, s syndicate.Store, feed, owner string, now time.Time, ttl time.Duration) (syndicate.FeedState, bool) {
	t.Helper()
	st, ok, err := s.BeginPoll(context.Background(), feed, owner, now, ttl)
	if err != nil {
		t.Fatalf("BeginPoll(%s, %s): %v", feed, owner, err)
	}
	return st, ok
}

func endPoll(t *testing.T, s syndicate.Store, feed, owner string, st syndicate.FeedState, seen map[string]string, now time.Time) {
	t.Helper()
	if err := s.EndPoll(context.Background(), feed, owner, st, seen, now); err != nil {
		t.Fatalf("EndPoll(%s, %s): %v", feed, owner, err)
	}
}

func loadFeed(t *testing.T, s syndicate.Store, feed string) syndicate.FeedState {
	t.Helper()
	st, err := s.LoadFeed(context.Background(), feed)
	if err != nil {
		t.Fatalf("LoadFeed(%s): %v", feed, err)
	}
	return st
}

func seenOf(t *testing.T, s syndicate.Store, feed string, keys ...string) map[string]string {
	t.Helper()
	got, err := s.SeenFingerprints(context.Background(), feed, keys)
	if err != nil {
		t.Fatalf("SeenFingerprints(%s): %v", feed, err)
	}
	return got
}

// testBeginPoll walks one feed's lease through BeginPoll, LeaseFeed,
// ReleaseFeed and EndPoll, which all judge the same lease: BeginPoll
// takes it as LeaseFeed does and then returns the state last saved, or
// refuses with the zero state.
func testBeginPoll(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	saved := syndicate.FeedState{ETag: `"v1"`, LastSuccess: t0.Add(-time.Hour), NextPoll: t0, Primed: true}
	if err := s.SaveFeed(ctx, "news", saved); err != nil {
		t.Fatalf("SaveFeed: %v", err)
	}
	ended := syndicate.FeedState{ETag: `"v2"`, LastAttempt: t0.Add(3 * time.Minute), NextPoll: t0.Add(13 * time.Minute), Primed: true}
	steps := []struct {
		name  string
		op    pollOp
		feed  string
		owner string
		at    time.Duration // after t0
		want  bool
		state syndicate.FeedState // BeginPoll's state when taken; EndPoll's to save
	}{
		{"free lease taken with the saved state", opBegin, "news", "a", 0, true, saved},
		{"held lease refused", opBegin, "news", "b", 30 * time.Second, false, syndicate.FeedState{}},
		{"refused just before expiry", opBegin, "news", "b", time.Minute - time.Millisecond, false, syndicate.FeedState{}},
		{"LeaseFeed refused too", opLease, "news", "b", 30 * time.Second, false, syndicate.FeedState{}},
		{"feed never saved taken with the zero state", opBegin, "sport", "b", 30 * time.Second, true, syndicate.FeedState{}},
		{"odd feed id independent", opBegin, "a}b{c", "b", 30 * time.Second, true, syndicate.FeedState{}},
		{"holder renews", opBegin, "news", "a", 50 * time.Second, true, saved},
		{"renewal extended the lease", opBegin, "news", "b", 90 * time.Second, false, syndicate.FeedState{}},
		{"expired lease taken over", opBegin, "news", "b", 111 * time.Second, true, saved},
		{"old holder refused", opBegin, "news", "a", 112 * time.Second, false, syndicate.FeedState{}},
		{"release by a non-holder ignored", opRelease, "news", "a", 113 * time.Second, false, syndicate.FeedState{}},
		{"still held after the stray release", opBegin, "news", "a", 114 * time.Second, false, syndicate.FeedState{}},
		{"holder releases", opRelease, "news", "b", 115 * time.Second, false, syndicate.FeedState{}},
		{"released lease taken", opBegin, "news", "a", 116 * time.Second, true, saved},
		{"holder ends the poll", opEnd, "news", "a", 3 * time.Minute, false, ended},
		{"ended lease taken with the state saved by EndPoll", opBegin, "news", "b", 3 * time.Minute, true, ended},
		{"lease taken by LeaseFeed refuses BeginPoll", opLease, "other", "a", 3 * time.Minute, true, syndicate.FeedState{}},
		{"refused by LeaseFeed's lease", opBegin, "other", "b", 3 * time.Minute, false, syndicate.FeedState{}},
		{"other feeds kept their leases", opBegin, "sport", "a", 60 * time.Second, false, syndicate.FeedState{}},
	}
	for _, st := range steps {
		now := t0.Add(st.at)
		switch st.op {
		case opBegin:
			got, ok := beginPoll(t, s, st.feed, st.owner, now, time.Minute)
			if ok != st.want {
				t.Errorf("%s: BeginPoll(%s, %s, t0+%s) taken = %v, want %v", st.name, st.feed, st.owner, st.at, ok, st.want)
			}
			if d := diff(st.state, got); d != "" {
				t.Errorf("%s: BeginPoll(%s, %s, t0+%s) state (-want +got):\n%s", st.name, st.feed, st.owner, st.at, d)
			}
		case opLease:
			if got := lease(t, s, st.feed, st.owner, now, time.Minute); got != st.want {
				t.Errorf("%s: LeaseFeed(%s, %s, t0+%s) = %v, want %v", st.name, st.feed, st.owner, st.at, got, st.want)
			}
		case opRelease:
			release(t, s, st.feed, st.owner)
		case opEnd:
			endPoll(t, s, st.feed, st.owner, st.state, nil, now)
		}
	}
}

// testEndPoll checks what one EndPoll leaves behind: the state and seen
// keys always, and the lease free only when the caller held it.
func testEndPoll(t *testing.T, f Factory) {
	before := syndicate.FeedState{ETag: `"old"`, Primed: true}
	after := syndicate.FeedState{
		ETag:         `W/"new"`,
		LastModified: "Sun, 01 Mar 2026 12:00:00 GMT",
		LastAttempt:  t0.Add(time.Minute),
		LastSuccess:  t0.Add(time.Minute),
		NextPoll:     t0.Add(11 * time.Minute),
		Primed:       true,
	}
	tests := []struct {
		name string
		// holder takes the lease at t0 for holdFor, taker (if any) at
		// t0+2m for an hour; ender then ends the poll at t0+2m.
		holder, taker, ender string
		holdFor              time.Duration
		seen                 map[string]string
		// free says whether a newcomer can then begin a poll.
		free bool
	}{
		{name: "holder ends with new items", holder: "a", holdFor: time.Hour, ender: "a", seen: map[string]string{"k1": "f1", "k2": "f2", "empty": ""}, free: true},
		{name: "holder ends with nothing new", holder: "a", holdFor: time.Hour, ender: "a", free: true},
		{name: "holder ends with an empty seen map", holder: "a", holdFor: time.Hour, ender: "a", seen: map[string]string{}, free: true},
		{name: "other holder's live lease kept, state saved", holder: "b", holdFor: time.Hour, ender: "a", seen: map[string]string{"k1": "f1"}, free: false},
		{name: "lease lost: state saved, new holder kept", holder: "a", holdFor: time.Minute, taker: "b", ender: "a", seen: map[string]string{"k1": "f1"}, free: false},
		{name: "never leased: state saved", ender: "a", seen: map[string]string{"k1": "f1"}, free: true},
		{name: "expired own lease: state saved", holder: "a", holdFor: time.Minute, ender: "a", free: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := f.Open(t)
			if err := s.SaveFeed(ctx, "news", before); err != nil {
				t.Fatalf("SaveFeed: %v", err)
			}
			if err := s.MarkSeen(ctx, "news", map[string]string{"k1": "f0", "kept": "fk"}, t0); err != nil {
				t.Fatalf("MarkSeen: %v", err)
			}
			if tt.holder != "" {
				if got, ok := beginPoll(t, s, "news", tt.holder, t0, tt.holdFor); !ok || diff(before, got) != "" {
					t.Fatalf("BeginPoll(%s) = %+v, %v", tt.holder, got, ok)
				}
			}
			end := t0.Add(2 * time.Minute)
			if tt.taker != "" {
				if _, ok := beginPoll(t, s, "news", tt.taker, end, time.Hour); !ok {
					t.Fatalf("BeginPoll(%s) after expiry refused", tt.taker)
				}
			}
			endPoll(t, s, "news", tt.ender, after, tt.seen, end)

			if d := diff(after, loadFeed(t, s, "news")); d != "" {
				t.Errorf("state after EndPoll (-want +got):\n%s", d)
			}
			want := map[string]string{"k1": "f0", "kept": "fk"}
			for k, fp := range tt.seen {
				want[k] = fp
			}
			if d := diff(want, seenOf(t, s, "news", "k1", "k2", "empty", "kept", "never")); d != "" {
				t.Errorf("seen after EndPoll (-want +got):\n%s", d)
			}
			got, ok := beginPoll(t, s, "news", "newcomer", end.Add(time.Second), time.Minute)
			if ok != tt.free {
				t.Errorf("newcomer's BeginPoll after EndPoll taken = %v, want %v", ok, tt.free)
			}
			if ok && diff(after, got) != "" {
				t.Errorf("newcomer's BeginPoll state (-want +got):\n%s", diff(after, got))
			}
			if keeper := cmp.Or(tt.taker, tt.holder); !ok && !lease(t, s, "news", keeper, end.Add(time.Second), time.Hour) {
				t.Errorf("the holder %s lost its lease to EndPoll by %s", keeper, tt.ender)
			}
		})
	}
}

// testEndPollSeenReplaced checks that EndPoll records fingerprints as
// MarkSeen does: a later one replaces an earlier one, per feed.
func testEndPollSeenReplaced(t *testing.T, f Factory) {
	s := f.Open(t)
	endPoll(t, s, "news", "a", syndicate.FeedState{Primed: true}, map[string]string{"a": "fa", "b": "fb"}, t0)
	endPoll(t, s, "news", "a", syndicate.FeedState{Primed: true}, map[string]string{"a": "fa2"}, t0.Add(time.Hour))
	endPoll(t, s, "other", "a", syndicate.FeedState{}, map[string]string{"b": "other"}, t0)
	if d := diff(map[string]string{"a": "fa2", "b": "fb"}, seenOf(t, s, "news", "a", "b")); d != "" {
		t.Errorf("seen of news (-want +got):\n%s", d)
	}
	if d := diff(map[string]string{"b": "other"}, seenOf(t, s, "other", "a", "b")); d != "" {
		t.Errorf("seen of other (-want +got):\n%s", d)
	}
}

func testPollRejectsBadArgs(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	for _, tt := range []struct {
		owner string
		ttl   time.Duration
	}{
		{"", time.Minute},
		{"a", 0},
		{"a", -time.Second},
	} {
		st, ok, err := s.BeginPoll(ctx, "news", tt.owner, t0, tt.ttl)
		if err == nil || ok || diff(syndicate.FeedState{}, st) != "" {
			t.Errorf("BeginPoll(owner %q, ttl %s) = %+v, %v, %v; want an error", tt.owner, tt.ttl, st, ok, err)
		}
	}
	if err := s.EndPoll(ctx, "news", "", syndicate.FeedState{ETag: "x"}, map[string]string{"k": "f"}, t0); err == nil {
		t.Errorf("EndPoll(empty owner): no error")
	}
	// The rejected calls took and wrote nothing.
	if _, ok := beginPoll(t, s, "news", "b", t0, time.Minute); !ok {
		t.Errorf("a rejected BeginPoll left a lease behind")
	}
	if st := loadFeed(t, s, "news"); st.ETag != "" {
		t.Errorf("a rejected EndPoll saved the state %+v", st)
	}
	if got := seenOf(t, s, "news", "k"); len(got) != 0 {
		t.Errorf("a rejected EndPoll marked %v seen", got)
	}
}

func testConcurrentBeginPoll(t *testing.T, f Factory) {
	const owners = 8
	s := f.Open(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	won := make([]bool, owners)
	errs := make([]error, owners)
	for i := range owners {
		wg.Go(func() {
			<-start
			_, won[i], errs[i] = s.BeginPoll(context.Background(), "news", fmt.Sprintf("replica-%d", i), t0, time.Minute)
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for i := range owners {
		if errs[i] != nil {
			t.Errorf("replica-%d: %v", i, errs[i])
		}
		if won[i] {
			winners++
		}
	}
	if winners != 1 {
		t.Errorf("%d replicas began the poll, want 1", winners)
	}
}

// testConcurrentPolls runs many whole polls at once, as the engine's
// workers do, and checks that each one's state and seen keys are kept
// whole: a store that shares commits between callers must not mix them up.
func testConcurrentPolls(t *testing.T, f Factory) {
	const feeds = 32
	ctx := context.Background()
	s := f.Open(t)
	var wg sync.WaitGroup
	errs := make([]error, feeds)
	for i := range feeds {
		wg.Go(func() {
			feed, owner := fmt.Sprintf("feed-%d", i), fmt.Sprintf("worker-%d", i)
			for round := range 3 {
				now := t0.Add(time.Duration(round) * time.Minute)
				st, ok, err := s.BeginPoll(ctx, feed, owner, now, time.Minute)
				if err != nil || !ok {
					errs[i] = fmt.Errorf("round %d: BeginPoll = %v, %v", round, ok, err)
					return
				}
				if st.Failures != round {
					errs[i] = fmt.Errorf("round %d: BeginPoll loaded Failures %d, want the %d saved", round, st.Failures, round)
					return
				}
				st.Failures++
				st.ETag = fmt.Sprintf(`"%s-%d"`, feed, round)
				seen := map[string]string{fmt.Sprintf("%s-item-%d", feed, round): fmt.Sprintf("fp-%d", round)}
				if err := s.EndPoll(ctx, feed, owner, st, seen, now); err != nil {
					errs[i] = fmt.Errorf("round %d: EndPoll: %w", round, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("feed-%d: %v", i, err)
		}
	}
	for i := range feeds {
		feed := fmt.Sprintf("feed-%d", i)
		want := syndicate.FeedState{ETag: fmt.Sprintf(`"%s-2"`, feed), Failures: 3}
		if d := diff(want, loadFeed(t, s, feed)); d != "" {
			t.Errorf("%s state (-want +got):\n%s", feed, d)
		}
		keys := []string{feed + "-item-0", feed + "-item-1", feed + "-item-2", fmt.Sprintf("feed-%d-item-0", (i+1)%feeds)}
		wantSeen := map[string]string{keys[0]: "fp-0", keys[1]: "fp-1", keys[2]: "fp-2"}
		if d := diff(wantSeen, seenOf(t, s, feed, keys...)); d != "" {
			t.Errorf("%s seen (-want +got):\n%s", feed, d)
		}
		if _, ok := beginPoll(t, s, feed, "newcomer", t0.Add(2*time.Minute), time.Minute); !ok {
			t.Errorf("%s: lease not released by the last EndPoll", feed)
		}
	}
}

// fullPush sets every field of PushState, so that a round trip that drops
// one shows; checkEveryFieldSet keeps it so as the type grows.
func fullPush(n int) syndicate.PushState {
	return syndicate.PushState{
		Hub:           fmt.Sprintf("https://hub.example.org/%d", n),
		Topic:         fmt.Sprintf("https://news.example.org/feed/%d", n),
		Callback:      fmt.Sprintf("https://bot.example.org/websub/%d", n),
		Secret:        fmt.Sprintf("s3cr3t-%d", n),
		PendingSecret: fmt.Sprintf("n3xt-%d", n),
		State:         "active",
		Requested:     t0.Add(time.Duration(n) * time.Second),
		Expires:       t0.Add(10*24*time.Hour + time.Nanosecond),
		Failures:      2 + n,
		LastError:     "hub answered 503",
		LastNotified:  t0.Add(time.Hour),
	}
}

// checkEveryFieldSet fails when a field of v is zero.
func checkEveryFieldSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("%s.%s is not set by the test value: a round trip could drop it unnoticed", rv.Type().Name(), rv.Type().Field(i).Name)
		}
	}
}

func testPushState(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	got, err := s.LoadPush(ctx, "news")
	if err != nil {
		t.Fatalf("LoadPush(unknown): %v", err)
	}
	if d := diff(syndicate.PushState{}, got); d != "" {
		t.Errorf("never subscribed feed is not the zero state (-want +got):\n%s", d)
	}
	st := fullPush(1)
	checkEveryFieldSet(t, st)
	feed := syndicate.FeedState{ETag: `"f"`, Primed: true}
	if err := s.SaveFeed(ctx, "news", feed); err != nil {
		t.Fatal(err)
	}
	odd := "a}b{c:d/e f"
	steps := []struct {
		name string
		feed string
		save syndicate.PushState
	}{
		{"every field", "news", st},
		{"odd feed id", odd, fullPush(2)},
		{"replaced whole", "news", syndicate.PushState{Hub: "https://hub2.example.org/", State: "pending", Requested: t0}},
		{"back to zero", odd, syndicate.PushState{}},
	}
	want := map[string]syndicate.PushState{}
	for _, step := range steps {
		if err := s.SavePush(ctx, step.feed, step.save); err != nil {
			t.Fatalf("%s: SavePush: %v", step.name, err)
		}
		want[step.feed] = step.save
		for id, w := range want {
			got, err := s.LoadPush(ctx, id)
			if err != nil {
				t.Fatalf("%s: LoadPush(%s): %v", step.name, id, err)
			}
			if d := diff(w, got); d != "" {
				t.Errorf("%s: push state of %q (-want +got):\n%s", step.name, id, d)
			}
		}
	}
	// Push state and feed state are kept apart.
	if d := diff(feed, loadFeed(t, s, "news")); d != "" {
		t.Errorf("SavePush changed the feed state (-want +got):\n%s", d)
	}
	endPoll(t, s, "news", "a", syndicate.FeedState{ETag: `"g"`}, nil, t0)
	if got, _ := s.LoadPush(ctx, "news"); diff(want["news"], got) != "" {
		t.Errorf("EndPoll changed the push state (-want +got):\n%s", diff(want["news"], got))
	}
}

// testPruneKeepsState checks that Prune forgets only seen keys (recorded
// by EndPoll as by MarkSeen), never a feed's state or push subscription.
func testPruneKeepsState(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	feed := syndicate.FeedState{ETag: `"v"`, NextPoll: t0.Add(time.Hour), Primed: true}
	push := fullPush(3)
	endPoll(t, s, "news", "a", feed, map[string]string{"old": "1"}, t0)
	endPoll(t, s, "sport", "a", feed, map[string]string{"new": "2"}, t0.Add(48*time.Hour))
	if err := s.SavePush(ctx, "news", push); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePush(ctx, "quiet", push); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(ctx, t0.Add(24*time.Hour)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if got := seenOf(t, s, "news", "old"); len(got) != 0 {
		t.Errorf("Prune kept a key EndPoll recorded before the cut: %v", got)
	}
	if d := diff(map[string]string{"new": "2"}, seenOf(t, s, "sport", "new")); d != "" {
		t.Errorf("Prune dropped a key EndPoll recorded after the cut (-want +got):\n%s", d)
	}
	if err := s.Prune(ctx, t0.Add(1000*time.Hour)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	for _, id := range []string{"news", "sport"} {
		if d := diff(feed, loadFeed(t, s, id)); d != "" {
			t.Errorf("Prune changed the state of %s (-want +got):\n%s", id, d)
		}
	}
	for _, id := range []string{"news", "quiet"} {
		got, err := s.LoadPush(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(push, got); d != "" {
			t.Errorf("Prune changed the push state of %s (-want +got):\n%s", id, d)
		}
	}
}
