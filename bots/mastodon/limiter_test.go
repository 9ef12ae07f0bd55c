package mastodon

import (
	"context"
	"errors"
	"net/http"
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
// ago still counts, so no closed window of the limiter's window (Per and
// its margin) holds more than N.
func TestLocalLimiterClosedWindow(t *testing.T) {
	c := newClock()
	b := Budget{N: 2, Per: time.Minute}
	l := NewLocalLimiter(LocalLimiterOptions{Now: c.Now, NoWait: true, Budgets: map[string]Budget{"statuses": b}})
	ctx := context.Background()
	for range 2 {
		if err := l.Wait(ctx, "a/statuses"); err != nil {
			t.Fatal(err)
		}
	}
	if w := b.Limit().Per; w <= time.Minute || w > time.Minute+2*time.Second {
		t.Fatalf("the limiter's window is %s, want a minute and a margin of a few percent", w)
	}
	c.Advance(b.Limit().Per)
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

// TestLocalLimiterAllOrNone asks for a status when the statuses budget is
// spent: the refusal names the statuses and spends none of the requests.
func TestLocalLimiterAllOrNone(t *testing.T) {
	c := newClock()
	l := NewLocalLimiter(LocalLimiterOptions{Now: c.Now, NoWait: true, Budgets: map[string]Budget{
		"statuses": {N: 1, Per: time.Hour}, "requests": {N: 3, Per: time.Minute},
	}})
	ctx := context.Background()
	if err := l.Wait(ctx, "a/statuses", "a/requests"); err != nil {
		t.Fatal(err)
	}
	var we *WaitError
	for range 5 {
		if err := l.Wait(ctx, "a/statuses", "a/requests"); !errors.As(err, &we) || we.Key != "a/statuses" {
			t.Fatalf("status with the statuses spent: %v, want a WaitError for a/statuses", err)
		}
	}
	if err := l.Wait(ctx, "a/requests", "a/requests"); err != nil {
		t.Errorf("the two requests left: %v; the refused statuses spent some", err)
	}
	if err := l.Wait(ctx, "a/requests"); !errors.As(err, &we) || we.Key != "a/requests" {
		t.Errorf("a fourth request: %v, want a WaitError", err)
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

// TestObserveRateHoldsWhatIsSpent feeds the account the rate headers of
// answers: a budget with some left holds nothing back, a spent one holds
// the family of the request it answered until the reset, and a 429 holds
// every request.
func TestObserveRateHoldsWhatIsSpent(t *testing.T) {
	e := newEnv(t, mastodonfakeDefaults(), AccountOptions{})
	now := e.clock.Now()
	ctx := context.Background()
	req := func(method, path string) *http.Request {
		r, err := http.NewRequest(method, "https://social.example"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var we *WaitError
	e.acct.observeRate(req(http.MethodPost, "/api/v1/statuses"), rateState{Limit: 300, Remaining: 1, Reset: now.Add(time.Minute)}, false)
	if _, err := e.acct.wait(ctx, "statuses", "requests"); err != nil {
		t.Errorf("one status left but held back: %v", err)
	}
	e.acct.observeRate(req(http.MethodPost, "/api/v2/media"), rateState{Limit: 30, Remaining: 0, Reset: now.Add(10 * time.Minute)}, false)
	if _, err := e.acct.wait(ctx, "media", "requests"); !errors.As(err, &we) || we.Key != "masto/media" || we.Delay != 10*time.Minute {
		t.Errorf("upload after the media budget was spent: %v, want a WaitError of 10m for the media", err)
	}
	if _, err := e.acct.wait(ctx, "statuses", "requests"); err != nil {
		t.Errorf("a status held back by the spent media budget: %v", err)
	}
	e.acct.observeRate(req(http.MethodGet, "/api/v1/accounts/verify_credentials"), rateState{Limit: 300, Remaining: 5, Reset: now.Add(4 * time.Minute)}, true)
	if _, err := e.acct.wait(ctx, "statuses", "requests"); !errors.As(err, &we) || we.Delay != 4*time.Minute {
		t.Errorf("a status after a 429: %v, want a WaitError until the reset", err)
	}
}

func mastodonfakeDefaults() mastodonfake.Options { return mastodonfake.Options{} }
