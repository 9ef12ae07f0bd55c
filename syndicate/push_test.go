package syndicate_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// fakePusher says every feed is subscribed until callBy and lets the test
// deliver notifications.
type fakePusher struct {
	mu       sync.Mutex
	active   bool
	callBy   time.Time
	calls    map[string]int
	hubs     map[string][]string
	notified chan string
	// ended counts Unsubscribe calls by feed.
	ended map[string]int
}

func (p *fakePusher) Subscribe(_ context.Context, feedID, topic string, hubs []string) (bool, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[feedID]++
	p.hubs[feedID] = hubs
	return p.active, p.callBy, nil
}

func (p *fakePusher) Unsubscribe(_ context.Context, feedID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended[feedID]++
	return nil
}

func (p *fakePusher) Notified() <-chan string { return p.notified }

func (p *fakePusher) unsubscribed(feedID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended[feedID]
}

func newFakePusher(callBy time.Time) *fakePusher {
	return &fakePusher{active: true, callBy: callBy, calls: map[string]int{}, hubs: map[string][]string{},
		notified: make(chan string, 1), ended: map[string]int{}}
}

func (p *fakePusher) count(feedID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[feedID]
}

// TestPushNotificationPollsAtOnce: a hub's notification polls the feed at
// once and its new article is posted without waiting for the interval;
// while the subscription is active the feed is polled only at the safety
// net interval, and the pusher is asked again when the time it gave
// comes.
func TestPushNotificationPollsAtOnce(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en", item("a", 1))
	h.src.setHubs("en", "https://hub.example/")
	clock := &stepClock{now: t0}
	push := newFakePusher(t0.Add(3 * time.Hour))
	e, err := syndicate.New(syndicate.Options{Store: h.store, Source: h.src, Feeds: h.feeds, Routes: h.routes,
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
		Clock:        clock, Owner: "test", Push: push, PushPollInterval: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	ctx := context.Background()
	eventually(t, "the first poll", func() bool { return h.src.count("en") == 1 })
	nextPoll := func() syndicate.FeedState {
		st, err := h.store.LoadFeed(ctx, "en")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	eventually(t, "the first poll recorded", func() bool { return nextPoll().Primed })
	if n := push.count("en"); n != 1 {
		t.Errorf("pusher asked %d times after the first poll; want 1", n)
	}
	if got := nextPoll().NextPoll.Sub(t0); got != 2*time.Hour {
		t.Errorf("next poll with an active subscription in %s; want the 2h safety net", got)
	}

	h.src.set("en", item("b", 0), item("a", 1))
	push.notified <- "en"
	eventually(t, "the pushed article posted", func() bool { return len(h.pubs["tg"].titles()) == 1 })
	// A notification may also be the hub ending the subscription: the
	// pusher is asked once more.
	eventually(t, "the pusher asked after the pushed poll", func() bool { return push.count("en") == 2 })

	// The safety-net poll at 2h ends with the next poll at the pusher's
	// time, 3h.
	// Quickly to just before 2h, then by the second.
	clock.flow(119*time.Minute, time.Minute, nil)
	clock.flow(time.Hour, time.Second, func() bool { return h.src.count("en") == 3 })
	eventually(t, "the safety-net poll recorded", func() bool { return nextPoll().LastSuccess.After(t0) })
	if at := nextPoll().LastSuccess.Sub(t0); at < 2*time.Hour || at > 2*time.Hour+time.Minute {
		t.Fatalf("the safety-net poll came %s after the start; want 2h", at)
	}
	renew := t0.Add(3 * time.Hour)
	eventually(t, "the safety-net poll recorded", func() bool { return nextPoll().NextPoll.Equal(renew) })
	push.mu.Lock()
	push.callBy = t0.Add(30 * time.Hour)
	push.mu.Unlock()
	clock.flow(renew.Add(-time.Minute).Sub(clock.Now()), time.Minute, nil)
	if clock.flow(time.Hour, time.Second, func() bool { return push.count("en") == 3 }); clock.Now().After(renew.Add(time.Minute)) {
		t.Errorf("the pusher was asked again at %s; want at its time, %s", clock.Now(), renew)
	}
	eventually(t, "the renewal poll recorded", func() bool {
		st := nextPoll()
		return st.NextPoll.Equal(st.LastSuccess.Add(2 * time.Hour))
	})
}

// TestFeedThatStopsNamingAHub: once the feed's document names no hub, its
// subscription is ended and the feed is polled at its own interval again.
func TestFeedThatStopsNamingAHub(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en", item("a", 1))
	h.src.setHubs("en", "https://hub.example/")
	push := newFakePusher(t0.Add(24 * time.Hour))
	e, err := syndicate.New(syndicate.Options{Store: h.store, Source: h.src, Feeds: h.feeds, Routes: h.routes,
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
		Clock:        h.clock, Owner: "test", Push: push, PushPollInterval: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	next := func() time.Duration {
		t.Helper()
		st, err := h.store.LoadFeed(ctx, "en")
		if err != nil {
			t.Fatal(err)
		}
		return st.NextPoll.Sub(st.LastSuccess)
	}
	if err := e.PollFeed(ctx, "en", true); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != 2*time.Hour {
		t.Fatalf("next poll with a hub in %s; want the 2h safety net", got)
	}
	h.src.setHubs("en")
	h.clock.Advance(time.Minute)
	if err := e.PollFeed(ctx, "en", true); err != nil {
		t.Fatal(err)
	}
	if n := push.unsubscribed("en"); n != 1 {
		t.Errorf("Unsubscribe called %d times once the hub was gone; want 1", n)
	}
	if got := next(); got != 10*time.Minute {
		t.Errorf("next poll without a hub in %s; want the feed's 10m", got)
	}
	h.clock.Advance(time.Minute)
	if err := e.PollFeed(ctx, "en", true); err != nil {
		t.Fatal(err)
	}
	if n := push.unsubscribed("en"); n != 1 {
		t.Errorf("Unsubscribe called %d times after another poll without a hub; want still 1", n)
	}
}
