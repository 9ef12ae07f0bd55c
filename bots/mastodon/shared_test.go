package mastodon

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate/ratelimit"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
)

// sleepLog is a clock that moves only when slept on, remembering the sleeps.
type sleepLog struct {
	*fakeClock
	slept []time.Duration
}

func (s *sleepLog) Sleep(ctx context.Context, d time.Duration) error {
	s.slept = append(s.slept, d)
	return s.fakeClock.Sleep(ctx, d)
}

// TestSharedLimiter takes Mastodon's budgets through the limiter replicas
// share in Redis: a budget spent hands the job back, short blocks are
// waited and long ones handed back, and a deadline is never slept towards.
func TestSharedLimiter(t *testing.T) {
	opt, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	budgets := map[string]Budget{"media": {N: 2, Per: 10 * time.Minute}}
	var we *WaitError
	shared := func(t *testing.T, c *sleepLog, o LocalLimiterOptions) Limiter {
		t.Helper()
		ro := ratelimit.Options{Prefix: redistest.Prefix(t), Sleep: c.Sleep}
		if o.Now != nil {
			ro.Now = o.Now
		}
		l, err := ratelimit.New(rdb, ro)
		if err != nil {
			t.Fatal(err)
		}
		return SharedLimiter(l, o)
	}

	t.Run("budget spent", func(t *testing.T) {
		c := &sleepLog{fakeClock: newClock()}
		ml := shared(t, c, LocalLimiterOptions{Budgets: budgets, Now: c.Now})
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
		if len(c.slept) != 0 {
			t.Errorf("slept %v, want none", c.slept)
		}
	})

	t.Run("short block waited, long block handed back", func(t *testing.T) {
		c := &sleepLog{fakeClock: newClock()}
		ml := shared(t, c, LocalLimiterOptions{Budgets: budgets, MaxWait: 10 * time.Second, Now: c.Now})
		ml.Block("a/requests", c.Now().Add(5*time.Second))
		if err := ml.Wait(ctx, "a/requests"); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.slept, []time.Duration{5 * time.Second}) {
			t.Errorf("short block: slept %v, want 5s", c.slept)
		}
		ml.Block("a/requests", c.Now().Add(time.Hour))
		if err := ml.Wait(ctx, "a/requests"); !errors.As(err, &we) || we.Delay != time.Hour {
			t.Errorf("long block: %v, want a WaitError of 1h", err)
		}
	})

	t.Run("no wait", func(t *testing.T) {
		c := &sleepLog{fakeClock: newClock()}
		ml := shared(t, c, LocalLimiterOptions{NoWait: true, Now: c.Now})
		ml.Block("a/statuses", c.Now().Add(time.Second))
		if err := ml.Wait(ctx, "a/statuses"); !errors.As(err, &we) || we.Delay != time.Second {
			t.Errorf("NoWait: %v, want a WaitError of 1s", err)
		}
	})

	t.Run("deadline before the block ends", func(t *testing.T) {
		c := &sleepLog{fakeClock: newClock()}
		ml := shared(t, c, LocalLimiterOptions{MaxWait: time.Hour})
		ml.Block("a/requests", time.Now().Add(time.Minute))
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := ml.Wait(dctx, "a/requests"); !errors.As(err, &we) || we.Delay <= 50*time.Second {
			t.Errorf("deadline: %v, want a WaitError of about a minute", err)
		}
		if len(c.slept) != 0 {
			t.Errorf("slept %v towards a deadline it cannot make", c.slept)
		}
	})
}
