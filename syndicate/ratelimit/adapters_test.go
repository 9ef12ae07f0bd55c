package ratelimit

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon"
	"github.com/syndicate-bot/syndicate/bots/telegram"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
)

// TestTelegramAdapter: the shared limiter paces Telegram as the
// in-process one does, with a sliding-window log on the Redis server's
// clock: a window's events go at once, the next call waits until the
// first leaves the widened window; a block holds every call.
func TestTelegramAdapter(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	var slept []time.Duration
	stop := errors.New("stop")
	l := newLimiter(t, newClient(t, url), Options{Prefix: prefix, Sleep: func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return stop
	}})
	var tl telegram.Limiter = l.Telegram()
	ctx := context.Background()
	for _, tc := range []struct {
		key  string
		rate telegram.Rate
	}{
		{"tg:chat:@news", telegram.Rate{Events: 20, Per: time.Minute}},
		{"tg:bot:slow", telegram.Rate{Events: 3, Per: time.Second}},
	} {
		events, per := tc.rate.Window()
		for i := range events {
			if err := tl.Wait(ctx, tc.key, tc.rate); err != nil {
				t.Fatalf("%s: call %d of %d: %v", tc.key, i+1, events, err)
			}
		}
		slept = nil
		if err := tl.Wait(ctx, tc.key, tc.rate); !errors.Is(err, stop) {
			t.Fatalf("%s: call %d: %v, want a wait", tc.key, events+1, err)
		}
		// Until the first call leaves the window: a little less than the
		// widened window, since the calls took some time.
		if len(slept) != 1 || slept[0] > per+time.Millisecond || slept[0] < per-time.Second/2 {
			t.Errorf("%s: call %d would sleep %v, want about %s", tc.key, events+1, slept, per)
		}
	}
	tl.Block("tg:bot:main", time.Now().Add(time.Hour))
	slept = nil
	if err := tl.Wait(ctx, "tg:bot:main", telegram.Rate{Events: 30, Per: time.Second}); !errors.Is(err, stop) {
		t.Fatalf("blocked bot: %v, want a wait", err)
	}
	if len(slept) != 1 || slept[0] <= 59*time.Minute {
		t.Errorf("blocked bot would sleep %v, want about an hour", slept)
	}
}

func TestMastodonBudget(t *testing.T) {
	m := &mastodonLimiter{o: MastodonOptions{Budgets: mastodon.DefaultBudgets()}}
	tests := []struct {
		key  string
		want mastodon.Budget
	}{
		{"acct/requests", mastodon.Budget{N: 285, Per: 5 * time.Minute}},
		{"acct/media", mastodon.Budget{N: 28, Per: 30 * time.Minute}},
		{"acct/statuses", mastodon.Budget{N: 285, Per: 3 * time.Hour}},
		{"a/b/media", mastodon.Budget{N: 28, Per: 30 * time.Minute}},
		{"acct/other", mastodon.Budget{}},
	}
	for _, tt := range tests {
		if got := m.budget(tt.key); got != tt.want {
			t.Errorf("budget(%q) = %+v, want %+v", tt.key, got, tt.want)
		}
	}
}

func TestMastodonAdapter(t *testing.T) {
	url := redistest.URL(t)
	ctx := context.Background()
	budgets := map[string]mastodon.Budget{"media": {N: 2, Per: 10 * time.Minute}}
	var we *mastodon.WaitError

	t.Run("budget spent", func(t *testing.T) {
		clock := newFakeClock()
		l := newLimiter(t, newClient(t, url), Options{Prefix: redistest.Prefix(t), Now: clock.Now, Sleep: clock.Sleep})
		var ml mastodon.Limiter = l.Mastodon(MastodonOptions{Budgets: budgets})
		for range 2 {
			if err := ml.Wait(ctx, "a/media"); err != nil {
				t.Fatal(err)
			}
		}
		// Both at once, then the window of 10 minutes from the first.
		if err := ml.Wait(ctx, "a/media"); !errors.As(err, &we) || we.Key != "a/media" || we.Delay <= 9*time.Minute || we.Delay > 10*time.Minute+time.Millisecond {
			t.Errorf("third upload: %v, want a WaitError of just under 10m", err)
		}
		if err := ml.Wait(ctx, "b/media"); err != nil {
			t.Errorf("accounts share a budget: %v", err)
		}
		if err := ml.Wait(ctx, "a/other"); err != nil {
			t.Errorf("family without budget: %v", err)
		}
		if s := clock.Slept(); len(s) != 0 {
			t.Errorf("slept %v, want none", s)
		}
	})

	t.Run("short block waited, long block handed back", func(t *testing.T) {
		clock := newFakeClock()
		l := newLimiter(t, newClient(t, url), Options{Prefix: redistest.Prefix(t), Now: clock.Now, Sleep: clock.Sleep})
		ml := l.Mastodon(MastodonOptions{Budgets: budgets, MaxWait: 10 * time.Second})
		ml.Block("a/requests", clock.Now().Add(5*time.Second))
		if err := ml.Wait(ctx, "a/requests"); err != nil {
			t.Fatal(err)
		}
		if s := clock.Slept(); !slices.Equal(s, []time.Duration{5 * time.Second}) {
			t.Errorf("short block: slept %v, want 5s", s)
		}
		ml.Block("a/requests", clock.Now().Add(time.Hour))
		if err := ml.Wait(ctx, "a/requests"); !errors.As(err, &we) || we.Delay != time.Hour {
			t.Errorf("long block: %v, want a WaitError of 1h", err)
		}
	})

	t.Run("no wait", func(t *testing.T) {
		clock := newFakeClock()
		l := newLimiter(t, newClient(t, url), Options{Prefix: redistest.Prefix(t), Now: clock.Now, Sleep: clock.Sleep})
		ml := l.Mastodon(MastodonOptions{NoWait: true})
		ml.Block("a/statuses", clock.Now().Add(time.Second))
		if err := ml.Wait(ctx, "a/statuses"); !errors.As(err, &we) || we.Delay != time.Second {
			t.Errorf("NoWait: %v, want a WaitError of 1s", err)
		}
	})

	t.Run("deadline before the block ends", func(t *testing.T) {
		clock := newFakeClock()
		l := newLimiter(t, newClient(t, url), Options{Prefix: redistest.Prefix(t), Sleep: clock.Sleep})
		ml := l.Mastodon(MastodonOptions{MaxWait: time.Hour})
		ml.Block("a/requests", time.Now().Add(time.Minute))
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := ml.Wait(dctx, "a/requests"); !errors.As(err, &we) || we.Delay <= 50*time.Second {
			t.Errorf("deadline: %v, want a WaitError of about a minute", err)
		}
		if s := clock.Slept(); len(s) != 0 {
			t.Errorf("slept %v towards a deadline it cannot make", s)
		}
	})
}
