package mastodon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
)

func TestLocalLimiterSlidingWindow(t *testing.T) {
	c := newClock()
	l := NewLocalLimiter(LocalLimiterOptions{Now: c.Now, NoWait: true, Budgets: map[string]Budget{"media": {N: 2, Per: 10 * time.Minute}}})
	ctx := context.Background()
	for range 2 {
		if err := l.Wait(ctx, "a/media"); err != nil {
			t.Fatal(err)
		}
	}
	var we *WaitError
	if err := l.Wait(ctx, "a/media"); !errors.As(err, &we) || we.Delay < 9*time.Minute {
		t.Fatalf("third event: %v", err)
	}
	if err := l.Wait(ctx, "b/media"); err != nil {
		t.Errorf("accounts share a budget: %v", err)
	}
	c.Advance(we.Delay)
	if err := l.Wait(ctx, "a/media"); err != nil {
		t.Errorf("after the window: %v", err)
	}
	if err := l.Wait(ctx, "a/other"); err != nil {
		t.Errorf("family without budget: %v", err)
	}
}

// TestLocalLimiterClosedWindow checks the edge: an event exactly a window
// ago still counts, so no closed window of Per holds more than N.
func TestLocalLimiterClosedWindow(t *testing.T) {
	c := newClock()
	l := NewLocalLimiter(LocalLimiterOptions{Now: c.Now, NoWait: true, Budgets: map[string]Budget{"statuses": {N: 2, Per: time.Minute}}})
	ctx := context.Background()
	for range 2 {
		if err := l.Wait(ctx, "a/statuses"); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Minute)
	var we *WaitError
	if err := l.Wait(ctx, "a/statuses"); !errors.As(err, &we) || we.Delay <= 0 || we.Delay > time.Millisecond {
		t.Errorf("a window after the burst: %v, want a WaitError of a moment", err)
	}
	c.Advance(time.Nanosecond)
	for range 2 {
		if err := l.Wait(ctx, "a/statuses"); err != nil {
			t.Errorf("just past the window: %v", err)
		}
	}
}

func TestLocalLimiterBlockAndShortWaits(t *testing.T) {
	c := newClock()
	l := NewLocalLimiter(LocalLimiterOptions{Now: c.Now, Sleep: c.Sleep, MaxWait: 10 * time.Second})
	ctx := context.Background()
	l.Block("a/requests", c.Now().Add(5*time.Second))
	start := c.Now()
	if err := l.Wait(ctx, "a/requests"); err != nil {
		t.Fatal(err)
	}
	if c.Now().Sub(start) != 5*time.Second {
		t.Errorf("short block not waited in place: %s", c.Now().Sub(start))
	}
	l.Block("a/requests", c.Now().Add(time.Hour))
	var we *WaitError
	if err := l.Wait(ctx, "a/requests"); !errors.As(err, &we) || we.Delay != time.Hour {
		t.Errorf("long block: %v", err)
	}
}

func TestObserveRateSlowsDown(t *testing.T) {
	e := newEnv(t, mastodonfakeDefaults(), AccountOptions{})
	now := e.clock.Now()
	e.acct.observeRate(rateState{Limit: 300, Remaining: 200, Reset: now.Add(time.Minute)})
	if err := e.acct.wait(context.Background(), "requests"); err != nil {
		t.Errorf("plenty left but held back: %v", err)
	}
	e.acct.observeRate(rateState{Limit: 300, Remaining: 9, Reset: now.Add(100 * time.Second)})
	var we *WaitError
	if err := e.acct.wait(context.Background(), "requests"); !errors.As(err, &we) || we.Delay != 10*time.Second {
		t.Errorf("low budget not spread: %v", err)
	}
	e.acct.observeRate(rateState{Limit: 300, Remaining: 0, Reset: now.Add(4 * time.Minute)})
	if err := e.acct.wait(context.Background(), "requests"); !errors.As(err, &we) || we.Delay != 4*time.Minute {
		t.Errorf("spent budget not blocked until reset: %v", err)
	}
}

func mastodonfakeDefaults() mastodonfake.Options { return mastodonfake.Options{} }
