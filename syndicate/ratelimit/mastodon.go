package ratelimit

import (
	"context"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon"
)

// MastodonOptions configure the limiter handed to Mastodon accounts; they
// mirror mastodon.LocalLimiterOptions.
type MastodonOptions struct {
	// Budgets by family (default mastodon.DefaultBudgets()); a family
	// without a budget is only held back by blocks.
	Budgets map[string]mastodon.Budget
	// Bursts by family: how many of a budget may go at once (default a
	// quarter of N, rounded up). After the burst the pace is N−burst+1
	// per 1.01·Per (the default requests budget: 72 at once, then 214
	// per 5m3s), so a larger burst means a slower pace after it.
	Bursts map[string]int
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
// within ctx's deadline, else returns a *mastodon.WaitError so that the
// job goes back to the scheduler.
func (m *mastodonLimiter) Wait(ctx context.Context, key string) error {
	return m.l.wait(ctx, key, m.limit(key), func(d time.Duration) error {
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

// limit is the Limit of the family that ends key ("<account>/<family>").
func (m *mastodonLimiter) limit(key string) Limit {
	family := key[strings.LastIndexByte(key, '/')+1:]
	b, ok := m.o.Budgets[family]
	if !ok || b.N <= 0 || b.Per <= 0 {
		return Limit{}
	}
	burst, ok := m.o.Bursts[family]
	if !ok || burst <= 0 {
		burst = (b.N + 3) / 4
	}
	return Limit{Events: b.N, Per: b.Per, Burst: burst}
}
