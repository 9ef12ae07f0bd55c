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
	// Windows are widened by the time a call may take to reach Telegram.
	const transit = 500 * time.Millisecond
	tests := []struct {
		rate telegram.Rate
		want Limit
	}{
		{telegram.Rate{Events: 20, Per: time.Minute, Burst: 3}, Limit{Events: 20, Per: time.Minute + transit, Burst: 3}},
		{telegram.Rate{Events: 30, Per: time.Second, Burst: 5}, Limit{Events: 30, Per: time.Second + transit, Burst: 5}},
		{telegram.Rate{Events: 30.7, Per: time.Second, Burst: 5}, Limit{Events: 30, Per: time.Second + transit, Burst: 5}},
		// The burst is at most a quarter of the events, else the pace
		// after it, Events − Burst + 1 per 1.01·Per, crawls.
		{telegram.Rate{Events: 10, Per: time.Second, Burst: 5}, Limit{Events: 10, Per: time.Second + transit, Burst: 2}},
		{telegram.Rate{Events: 5, Per: time.Second, Burst: 5}, Limit{Events: 5, Per: time.Second + transit, Burst: 1}},
		{telegram.Rate{Events: 3, Per: time.Second, Burst: 5}, Limit{Events: 3, Per: time.Second + transit, Burst: 1}},
		{telegram.Rate{Events: 20, Per: time.Minute, Burst: 0}, Limit{Events: 20, Per: time.Minute + transit, Burst: 1}},
		{telegram.Rate{Events: 0.5, Per: time.Second, Burst: 3}, Limit{Events: 1, Per: 2*time.Second + transit, Burst: 1}},
		{telegram.Rate{Events: 0, Per: time.Second, Burst: 3}, Limit{}},
		{telegram.Rate{Events: 5, Per: 0, Burst: 3}, Limit{}},
	}
	for _, tt := range tests {
		if got := telegramLimit(tt.rate); got != tt.want {
			t.Errorf("telegramLimit(%+v) = %+v, want %+v", tt.rate, got, tt.want)
		}
	}
}

// TestTelegramPace runs the GCRA of each Telegram rate as its definition
// states, with a caller that takes every slot the moment it frees: no
// window of Per holds more than the events, and ten windows hold at least
// 7.4 windows' worth (a burst of 5 on 3 a second used to leave one a
// second).
func TestTelegramPace(t *testing.T) {
	rates := []telegram.Rate{
		{Events: 3, Per: time.Second, Burst: 5},
		{Events: 5, Per: time.Second, Burst: 5},
		{Events: 8, Per: time.Second, Burst: 5},
		{Events: 10, Per: time.Second, Burst: 5},
		{Events: 30, Per: time.Second, Burst: 5},
		{Events: 20, Per: time.Minute, Burst: 3},
		{Events: 1, Per: time.Minute, Burst: 3},
	}
	for _, r := range rates {
		limit := telegramLimit(r)
		times := simulateGCRA(limit, 12*limit.Events+limit.Burst)
		if worst := worstWindow(times, limit.Per); worst > limit.Events {
			t.Errorf("%+v as %+v: %d calls in the worst closed window of %s", r, limit, worst, limit.Per)
		}
		n := 0
		for _, at := range times {
			if at < 10*limit.Per {
				n++
			}
		}
		if want := int(7.4 * float64(limit.Events)); n < want {
			t.Errorf("%+v as %+v: %d calls in %s, want at least %d", r, limit, n, 10*limit.Per, want)
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
	// After the burst, one call per 1.01·(60s + 500ms)/18.
	interval := (time.Minute + 500*time.Millisecond) * 101 / 100 / 18
	if len(slept) != 1 || slept[0] <= 0 || slept[0] > interval {
		t.Errorf("fourth call would sleep %v, want at most %s", slept, interval)
	}
	// A bot at 3 a second with the bot burst of 5: one at once, then one
	// per 1.01·1.5s/3 (a burst of 3 used to leave one a second).
	slept = nil
	bot := telegram.Rate{Events: 3, Per: time.Second, Burst: 5}
	if err := tl.Wait(ctx, "tg:bot:slow", bot); err != nil {
		t.Fatal(err)
	}
	if err := tl.Wait(ctx, "tg:bot:slow", bot); !errors.Is(err, stop) {
		t.Fatalf("second call at 3 a second: %v, want a wait", err)
	}
	if interval := 1500 * time.Millisecond * 101 / 100 / 3; len(slept) != 1 || slept[0] <= 0 || slept[0] > interval {
		t.Errorf("second call at 3 a second would sleep %v, want at most %s", slept, interval)
	}
	slept = nil
	tl.Block("tg:bot:main", time.Now().Add(time.Hour))
	slept = nil
	if err := tl.Wait(ctx, "tg:bot:main", telegram.Rate{Events: 30, Per: time.Second, Burst: 5}); !errors.Is(err, stop) {
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
