package mastodon

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Limiter spaces requests to one account so that a burst of articles is
// spread over time instead of refused. Keys are "<account>/<family>" with
// the families requests, media and statuses. A limiter shared by several
// replicas implements the same interface.
type Limiter interface {
	// Wait returns once one more event under key is allowed, or a
	// *WaitError when that would take longer than the limiter waits
	// in place (the caller gives the job back to its scheduler).
	Wait(ctx context.Context, key string) error
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

// DefaultBudgets are Mastodon's documented per-account limits (300
// requests per 5 minutes, 30 media uploads per 30 minutes, 300 statuses per
// 3 hours) with a margin for other clients of the same account.
func DefaultBudgets() map[string]Budget {
	return map[string]Budget{
		"requests": {N: 285, Per: 5 * time.Minute},
		"media":    {N: 28, Per: 30 * time.Minute},
		"statuses": {N: 285, Per: 3 * time.Hour},
	}
}

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

// LocalLimiter keeps sliding windows in memory: at most N events in any
// window of Per, which also keeps within servers that count in fixed
// windows.
type LocalLimiter struct {
	opts    LocalLimiterOptions
	mu      sync.Mutex
	events  map[string][]time.Time
	blocked map[string]time.Time
}

// NewLocalLimiter returns an in-process limiter.
func NewLocalLimiter(o LocalLimiterOptions) *LocalLimiter {
	if o.Budgets == nil {
		o.Budgets = DefaultBudgets()
	}
	if o.MaxWait == 0 && !o.NoWait {
		o.MaxWait = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return &LocalLimiter{opts: o, events: map[string][]time.Time{}, blocked: map[string]time.Time{}}
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

// Wait implements Limiter.
func (l *LocalLimiter) Wait(ctx context.Context, key string) error {
	for {
		delay := l.reserve(key)
		if delay <= 0 {
			return nil
		}
		if delay > l.opts.MaxWait {
			return &WaitError{Key: key, Delay: delay}
		}
		if dl, ok := ctx.Deadline(); ok && l.opts.Now().Add(delay).After(dl) {
			return &WaitError{Key: key, Delay: delay}
		}
		if err := l.opts.Sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// reserve takes a slot and returns 0, or returns how long until one frees.
func (l *LocalLimiter) reserve(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Now()
	if until, ok := l.blocked[key]; ok {
		if until.After(now) {
			return until.Sub(now)
		}
		delete(l.blocked, key)
	}
	b, ok := l.opts.Budgets[key[strings.LastIndexByte(key, '/')+1:]]
	if !ok || b.N <= 0 {
		return 0
	}
	// The window is closed, like the shared limiter's: an event exactly
	// Per ago still counts.
	ev := l.events[key]
	i := 0
	for i < len(ev) && ev[i].Before(now.Add(-b.Per)) {
		i++
	}
	ev = ev[i:]
	if len(ev) >= b.N {
		l.events[key] = ev
		return ev[len(ev)-b.N].Add(b.Per).Sub(now) + time.Millisecond
	}
	l.events[key] = append(ev, now)
	return 0
}

// Block implements Limiter.
func (l *LocalLimiter) Block(key string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.blocked[key]) {
		l.blocked[key] = until
	}
}
