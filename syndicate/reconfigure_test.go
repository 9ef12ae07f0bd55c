package syndicate_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// TestReconfigureWhileRunning adds a feed and a destination and removes
// another while the engine runs: the new feed is primed and its backfill
// posted at the new destination, the removed destination's queued job
// stays in the store untouched and goes out when it comes back, and an
// invalid configuration changes nothing.
func TestReconfigureWhileRunning(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg", "old"}, Backfill: 1})
	h.src.set("en", item("a", 1))
	// The old destination is rate limited for a day: its job waits.
	h.pubs["old"].errs = []error{&syndicate.DeliveryError{Kind: syndicate.ErrRateLimited, RetryAfter: 24 * time.Hour, Err: errors.New("429")}}
	clock := &stepClock{now: t0}
	dest := func(id string) syndicate.Destination {
		if h.pubs[id] == nil {
			h.pubs[id] = &recorder{}
		}
		return syndicate.Destination{ID: id, Publisher: h.pubs[id], Policy: h.policy}
	}
	feed := func(id string) syndicate.Feed {
		return syndicate.Feed{FeedSpec: syndicate.FeedSpec{ID: id, PollInterval: 10 * time.Minute}, MaxAge: 72 * time.Hour}
	}
	e, err := syndicate.New(syndicate.Options{Store: h.store, Source: h.src, Feeds: h.feeds, Routes: h.routes,
		Destinations: []syndicate.Destination{dest("tg"), dest("old")}, Clock: clock, Owner: "test"})
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	queued := func(dest string) []string {
		recs, err := h.store.List(ctx, dest, 0, syndicate.StatusQueued)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, r := range recs {
			keys = append(keys, r.Item.Title)
		}
		return keys
	}
	eventually(t, "the backfill on tg and the refusal on old", func() bool {
		return len(h.pubs["tg"].titles()) == 1 && slices.Equal(queued("old"), []string{"a"})
	})

	// The new feed fr goes to the new destination; old leaves.
	h.src.set("fr", item("un", 1), item("deux", 2))
	next := syndicate.Config{
		Feeds: []syndicate.Feed{feed("en"), feed("fr")},
		Routes: []syndicate.Route{
			{Feeds: []string{"en"}, To: []string{"tg"}},
			{Feeds: []string{"fr"}, To: []string{"new"}, Backfill: 1},
		},
		Destinations: []syndicate.Destination{dest("tg"), dest("new")},
	}
	ch, err := e.Reconfigure(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	want := syndicate.Changes{FeedsAdded: []string{"fr"}, DestinationsAdded: []string{"new"}, DestinationsRemoved: []string{"old"}}
	if !slices.Equal(ch.FeedsAdded, want.FeedsAdded) || len(ch.FeedsRemoved) != 0 ||
		!slices.Equal(ch.DestinationsAdded, want.DestinationsAdded) || !slices.Equal(ch.DestinationsRemoved, want.DestinationsRemoved) {
		t.Errorf("changes = %+v, want %+v", ch, want)
	}
	// fr is polled within the start window: primed, its newest item posted.
	clock.flow(2*time.Minute, time.Second, func() bool { return len(h.pubs["new"].titles()) == 1 })
	eventually(t, "the new feed's backfill on the new destination", func() bool { return len(h.pubs["new"].titles()) == 1 })
	equal(t, "posts on new", h.pubs["new"].titles(), []string{"un"})

	// A new article on en reaches tg only; old's job stays queued, its
	// publisher untouched even after its hold ended.
	h.src.set("en", item("b", 0), item("a", 1))
	clock.flow(25*time.Hour, time.Minute, nil)
	eventually(t, "the new article on tg", func() bool { return len(h.pubs["tg"].titles()) == 2 })
	equal(t, "posts on tg", h.pubs["tg"].titles(), []string{"a", "b"})
	equal(t, "posts on old while removed", h.pubs["old"].titles(), nil)
	equal(t, "queued on old while removed", queued("old"), []string{"a"})

	// An invalid configuration is refused and changes nothing.
	bad := next
	bad.Routes = append(slices.Clone(next.Routes), syndicate.Route{Feeds: []string{"en"}, To: []string{"nowhere"}})
	if _, err := e.Reconfigure(ctx, bad); err == nil {
		t.Fatal("a route to an unknown destination was accepted")
	}
	h.src.set("en", item("c", 0), item("b", 0), item("a", 1))
	clock.flow(11*time.Minute, 10*time.Second, nil)
	eventually(t, "the next article on tg", func() bool { return len(h.pubs["tg"].titles()) == 3 })

	// old comes back: its queued job goes out; en's newer articles, seen
	// while it was away, are not backfilled to it.
	back := next
	back.Routes = append(slices.Clone(next.Routes), syndicate.Route{Feeds: []string{"en"}, To: []string{"old"}})
	back.Destinations = append(slices.Clone(next.Destinations), dest("old"))
	if _, err := e.Reconfigure(ctx, back); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the queued job on old", func() bool { return len(h.pubs["old"].titles()) == 1 })
	equal(t, "posts on old after it came back", h.pubs["old"].titles(), []string{"a"})

	// Removing the feed takes it out of the schedule.
	fetches := h.src.count("fr")
	if _, err := e.Reconfigure(ctx, syndicate.Config{Feeds: []syndicate.Feed{feed("en")},
		Routes: []syndicate.Route{{Feeds: []string{"en"}, To: []string{"tg"}}}, Destinations: []syndicate.Destination{dest("tg")}}); err != nil {
		t.Fatal(err)
	}
	clock.flow(time.Hour, time.Minute, nil)
	if n := h.src.count("fr") - fetches; n != 0 {
		t.Errorf("a removed feed was fetched %d times", n)
	}
}

// unsubscribingPusher is a fakePusher that records unsubscriptions.
type unsubscribingPusher struct {
	*fakePusher
	unsubscribed []string
}

func (p *unsubscribingPusher) Unsubscribe(_ context.Context, feedID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unsubscribed = append(p.unsubscribed, feedID)
	return nil
}

// TestReconfigureEndsPushOfRemovedFeeds: a feed that leaves the
// configuration is unsubscribed at its hub; the feeds that stay are not.
func TestReconfigureEndsPushOfRemovedFeeds(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en", "fa"}, To: []string{"tg"}})
	p := &unsubscribingPusher{fakePusher: &fakePusher{calls: map[string]int{}, hubs: map[string][]string{}, notified: make(chan string)}}
	e, err := syndicate.New(syndicate.Options{Store: h.store, Source: h.src, Feeds: h.feeds, Routes: h.routes, Push: p,
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}}, Clock: h.clock, Owner: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := e.Reconfigure(context.Background(), syndicate.Config{
		Feeds:        h.feeds[:1],
		Routes:       []syndicate.Route{{Feeds: []string{"en"}, To: []string{"tg"}}},
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
	})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "feeds removed", ch.FeedsRemoved, []string{"fa"})
	p.mu.Lock()
	defer p.mu.Unlock()
	equal(t, "unsubscribed", p.unsubscribed, []string{"fa"})
}
