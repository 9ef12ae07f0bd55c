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

func TestTelegramLimit(t *testing.T) {
	tests := []struct {
		rate telegram.Rate
		want Limit
	}{
		{telegram.Rate{Events: 20, Per: time.Minute, Burst: 3}, Limit{Events: 20, Per: time.Minute, Burst: 3}},
		{telegram.Rate{Events: 30.7, Per: time.Second, Burst: 5}, Limit{Events: 30, Per: time.Second, Burst: 5}},
		{telegram.Rate{Events: 0.5, Per: time.Second, Burst: 3}, Limit{Events: 1, Per: 2 * time.Second, Burst: 1}},
		{telegram.Rate{Events: 0, Per: time.Second, Burst: 3}, Limit{}},
		{telegram.Rate{Events: 5, Per: 0, Burst: 3}, Limit{}},
	}
	for _, tt := range tests {
		if got := telegramLimit(tt.rate); got != tt.want {
			t.Errorf("telegramLimit(%+v) = %+v, want %+v", tt.rate, got, tt.want)
		}
	}
}

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
	chat := telegram.Rate{Events: 20, Per: time.Minute, Burst: 3}
	for i := range 3 {
		if err := tl.Wait(ctx, "tg:chat:@news", chat); err != nil {
			t.Fatalf("call %d of the burst: %v", i+1, err)
		}
	}
	if err := tl.Wait(ctx, "tg:chat:@news", chat); !errors.Is(err, stop) {
		t.Fatalf("fourth call: %v, want a wait", err)
	}
	// After the burst, one call per 60.6s/18.
	interval := (time.Minute + 600*time.Millisecond) / 18
	if len(slept) != 1 || slept[0] <= 0 || slept[0] > interval {
		t.Errorf("fourth call would sleep %v, want at most %s", slept, interval)
	}
	tl.Block("tg:bot:main", time.Now().Add(time.Hour))
	slept = nil
	if err := tl.Wait(ctx, "tg:bot:main", telegram.Rate{Events: 30, Per: time.Second, Burst: 5}); !errors.Is(err, stop) {
		t.Fatalf("blocked bot: %v, want a wait", err)
	}
	if len(slept) != 1 || slept[0] <= 59*time.Minute {
		t.Errorf("blocked bot would sleep %v, want about an hour", slept)
	}
}

func TestMastodonLimit(t *testing.T) {
	m := &mastodonLimiter{o: MastodonOptions{Budgets: mastodon.DefaultBudgets(), Bursts: map[string]int{"statuses": 10}}}
	tests := []struct {
		key  string
		want Limit
	}{
		{"acct/requests", Limit{Events: 285, Per: 5 * time.Minute, Burst: 72}},
		{"acct/media", Limit{Events: 28, Per: 30 * time.Minute, Burst: 7}},
		{"acct/statuses", Limit{Events: 285, Per: 3 * time.Hour, Burst: 10}},
		{"a/b/media", Limit{Events: 28, Per: 30 * time.Minute, Burst: 7}},
		{"acct/other", Limit{}},
	}
	for _, tt := range tests {
		if got := m.limit(tt.key); got != tt.want {
			t.Errorf("limit(%q) = %+v, want %+v", tt.key, got, tt.want)
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
		var ml mastodon.Limiter = l.Mastodon(MastodonOptions{Budgets: budgets, Bursts: map[string]int{"media": 2}})
		for range 2 {
			if err := ml.Wait(ctx, "a/media"); err != nil {
				t.Fatal(err)
			}
		}
		// Burst 2 of 2, then one per 10.1 minutes.
		if err := ml.Wait(ctx, "a/media"); !errors.As(err, &we) || we.Key != "a/media" || we.Delay <= 9*time.Minute || we.Delay > 10*time.Minute+6*time.Second {
			t.Errorf("third upload: %v, want a WaitError of just under 10m6s", err)
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
