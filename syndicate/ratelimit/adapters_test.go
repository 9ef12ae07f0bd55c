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

// TestTelegramAdapter takes Telegram's limits through the adapter: the
// burst of a chat at once, then a wait for the burst window; a bot whose
// burst is its whole limit; a call refused by its bot, which leaves its
// chat's slot free; and a block.
func TestTelegramAdapter(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	rdb := newClient(t, url)
	var slept []time.Duration
	stop := errors.New("stop")
	l := newLimiter(t, rdb, Options{Prefix: prefix, Sleep: func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return stop
	}})
	var tl telegram.Limiter = l.Telegram()
	ctx := context.Background()
	chat := telegram.Limit{Key: "tg:chat:@news", Rate: telegram.Rate{Events: 20, Per: time.Minute, Burst: 3}}
	for i := range 3 {
		if err := tl.Wait(ctx, chat); err != nil {
			t.Fatalf("call %d of the burst: %v", i+1, err)
		}
	}
	if err := tl.Wait(ctx, chat); !errors.Is(err, stop) {
		t.Fatalf("fourth call: %v, want a wait", err)
	}
	// The burst of 3 may recur once the burst window, 3/20 of a minute, passed.
	if len(slept) != 1 || slept[0] <= 8*time.Second || slept[0] > 9*time.Second+time.Millisecond {
		t.Errorf("fourth call would sleep %v, want just under 9s", slept)
	}

	slept = nil
	bot := telegram.Limit{Key: "tg:bot:slow", Rate: telegram.Rate{Events: 3, Per: time.Second, Burst: 5}}
	for i := range 3 {
		if err := tl.Wait(ctx, bot); err != nil {
			t.Fatalf("call %d at 3 a second: %v", i+1, err)
		}
	}
	if err := tl.Wait(ctx, bot); !errors.Is(err, stop) {
		t.Fatalf("fourth call at 3 a second: %v, want a wait", err)
	}
	if len(slept) != 1 || slept[0] <= time.Second || slept[0] > 1025*time.Millisecond+time.Millisecond {
		t.Errorf("fourth call at 3 a second would sleep %v, want just under the window of 1.025s", slept)
	}

	slept = nil
	other := telegram.Limit{Key: "tg:chat:@other", Rate: chat.Rate}
	if err := tl.Wait(ctx, other, bot); !errors.Is(err, stop) {
		t.Fatalf("a chat of the full bot: %v, want a wait", err)
	}
	if n := rdb.ZCard(ctx, l.logKey(other.Key)).Val(); n != 0 {
		t.Errorf("the refused call left %d admissions in its chat's log, want none", n)
	}

	slept = nil
	main := telegram.Limit{Key: "tg:bot:main", Rate: telegram.Rate{Events: 30, Per: time.Second, Burst: 5}}
	tl.Block(main.Key, time.Now().Add(time.Hour))
	if err := tl.Wait(ctx, main); !errors.Is(err, stop) {
		t.Fatalf("blocked bot: %v, want a wait", err)
	}
	if len(slept) != 1 || slept[0] <= 59*time.Minute {
		t.Errorf("blocked bot would sleep %v, want about an hour", slept)
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
		// Both at once, then the window of 10 minutes and its margin from
		// the first.
		w := budgets["media"].Limit().Per
		if err := ml.Wait(ctx, "a/media"); !errors.As(err, &we) || we.Key != "a/media" || we.Delay <= 10*time.Minute || we.Delay > w+time.Millisecond {
			t.Errorf("third upload: %v, want a WaitError of just under %s", err, w)
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
