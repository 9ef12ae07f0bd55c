package ratelimit

import (
	"context"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon"
)

// MastodonOptions configure the limiter handed to Mastodon accounts; they
// mirror mastodon.LocalLimiterOptions.
type MastodonOptions struct {
	// Budgets by family (default mastodon.DefaultBudgets()); a family
	// without a budget is only held back by blocks. A budget of N per Per
	// is kept as a sliding-window log of its limit (Budget.Limit): up to N
	// events go at once, and no window of Per holds more than N.
	Budgets map[string]mastodon.Budget
	// MaxWait is the longest Wait blocks in place (default 5s; 0 after
	// setting NoWait never blocks).
	MaxWait time.Duration
	NoWait  bool
}

// mastodonLimiter shares Mastodon's per-account budgets between replicas.
type mastodonLimiter struct {
	l *Limiter
	o MastodonOptions
}

var _ mastodon.Limiter = (*mastodonLimiter)(nil)

// Mastodon returns the limiter in the shape Mastodon accounts ask for
// (AccountOptions.Limiter).
func (l *Limiter) Mastodon(o MastodonOptions) mastodon.Limiter {
	if o.Budgets == nil {
		o.Budgets = mastodon.DefaultBudgets()
	}
	if o.MaxWait == 0 && !o.NoWait {
		o.MaxWait = 5 * time.Second
	}
	return &mastodonLimiter{l: l, o: o}
}

// Wait implements mastodon.Limiter: it waits in place up to MaxWait and
// within ctx's deadline, else returns a *mastodon.WaitError, having
// counted nothing, so that the job goes back to the scheduler.
func (m *mastodonLimiter) Wait(ctx context.Context, keys ...string) error {
	return m.l.wait(ctx, mastodon.Claims(m.o.Budgets, keys), func(key string, d time.Duration) error {
		if d > m.o.MaxWait {
			return &mastodon.WaitError{Key: key, Delay: d}
		}
		if dl, ok := ctx.Deadline(); ok && m.l.now().Add(d).After(dl) {
			return &mastodon.WaitError{Key: key, Delay: d}
		}
		return nil
	})
}

// Block implements mastodon.Limiter.
func (m *mastodonLimiter) Block(key string, until time.Time) { m.l.Block(key, until) }
