package mastodon

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate/window"
)

// Limiter spaces requests to one account so that a burst of articles is
// spread over time instead of refused. Keys are "<account>/<family>" with
// the families requests, media and statuses. A limiter shared by several
// replicas implements the same interface.
type Limiter interface {
	// Wait returns once one more event under every one of keys is
	// allowed, and counts it under all of them at once (a key given twice
	// counts twice); or a *WaitError, counting nothing, when that would
	// take longer than the limiter waits in place (the caller gives the
	// job back to its scheduler).
	Wait(ctx context.Context, keys ...string) error
	// Start is Wait for a request whose answer the caller waits for: it
	// calls done once the answer came back or the request failed, and the
	// limiter counts the request where the server may have counted it
	// (window.Claim.Settle). done may be called more than once.
	Start(ctx context.Context, keys ...string) (done func(), err error)
	// Block holds every event under key back until the given time (the
	// server said the budget is spent).
	Block(key string, until time.Time)
}

// WaitError says how long to wait before the event is allowed.
type WaitError struct {
	Key   string
	Delay time.Duration
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("rate budget %s spent: retry in %s", e.Key, e.Delay.Round(time.Second))
}

// Budget allows N events in any window of length Per.
type Budget struct {
	N   int
	Per time.Duration
}

// Limit is what a limiter keeps for b: the window lengthened by its
// margin (window.Platform).
func (b Budget) Limit() window.Limit { return window.Platform(b.N, b.Per) }

// DefaultBudgets are Mastodon's documented per-account limits: 300
// requests per 5 minutes, 30 media uploads per 30 minutes
// (config/initializers/rack_attack.rb) and 300 statuses per 3 hours
// (app/lib/rate_limiter.rb). They are used whole: the account is the
// bot's, what another client spends of it shows in the X-RateLimit
// headers, which hold the account back (Account.observeRate), and a 429
// holds it until the reset.
func DefaultBudgets() map[string]Budget {
	return map[string]Budget{
		"requests": {N: 300, Per: 5 * time.Minute},
		"media":    {N: 30, Per: 30 * time.Minute},
		"statuses": {N: 300, Per: 3 * time.Hour},
	}
}

// family is the budget family that ends key ("<account>/<family>").
func family(key string) string { return key[strings.LastIndexByte(key, '/')+1:] }

// LocalLimiterOptions configure an in-process limiter.
type LocalLimiterOptions struct {
	// Budgets by family (default DefaultBudgets).
	Budgets map[string]Budget
	// MaxWait is the longest Wait blocks in place (default 5s; 0 after
	// setting NoWait never blocks).
	MaxWait time.Duration
	NoWait  bool
	Now     func() time.Time
	// Sleep waits for d or until ctx is done (default a timer).
	Sleep func(ctx context.Context, d time.Duration) error
}

// LocalLimiter keeps sliding-window logs in memory: at most N events in
// any window of Per, which also keeps within servers that count in fixed
// windows, as Mastodon does.
type LocalLimiter struct {
	opts LocalLimiterOptions
	logs *window.Logs
}

// withDefaults fills in the budgets, the wait and the clock.
func (o LocalLimiterOptions) withDefaults() LocalLimiterOptions {
	if o.Budgets == nil {
		o.Budgets = DefaultBudgets()
	}
	if o.MaxWait == 0 && !o.NoWait {
		o.MaxWait = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// NewLocalLimiter returns an in-process limiter.
func NewLocalLimiter(o LocalLimiterOptions) *LocalLimiter {
	o = o.withDefaults()
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return &LocalLimiter{opts: o, logs: window.NewLogs(o.Now)}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Claims turns keys into what the sliding-window logs take, with the
// budgets of their families; a family without a budget is only held
// back by blocks.
func Claims(budgets map[string]Budget, keys []string) []window.Claim {
	claims := make([]window.Claim, len(keys))
	for i, k := range keys {
		claims[i] = window.Claim{Key: k}
		if b, ok := budgets[family(k)]; ok && b.N > 0 && b.Per > 0 {
			claims[i].Limits = []window.Limit{b.Limit()}
		}
	}
	return claims
}

// Wait implements Limiter.
func (l *LocalLimiter) Wait(ctx context.Context, keys ...string) error {
	_, err := l.Start(ctx, keys...)
	return err
}

// Start implements Limiter.
func (l *LocalLimiter) Start(ctx context.Context, keys ...string) (func(), error) {
	claims := Claims(l.opts.Budgets, keys)
	for {
		at, delay, key, err := l.logs.TakeAt(claims...)
		if err != nil {
			return nil, err
		}
		if delay <= 0 {
			return sync.OnceFunc(func() { l.logs.Done(claims, at) }), nil
		}
		if delay > l.opts.MaxWait {
			return nil, &WaitError{Key: key, Delay: delay}
		}
		if dl, ok := ctx.Deadline(); ok && l.opts.Now().Add(delay).After(dl) {
			return nil, &WaitError{Key: key, Delay: delay}
		}
		if err := l.opts.Sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// Block implements Limiter.
func (l *LocalLimiter) Block(key string, until time.Time) { l.logs.Block(key, until) }
