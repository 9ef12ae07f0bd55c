package ratelimit

import (
	"context"
	"time"

	"github.com/syndicate-bot/syndicate/bots/telegram"
)

// telegramLimiter shares the Telegram publisher's chat and bot limits
// between replicas.
type telegramLimiter struct{ l *Limiter }

var _ telegram.Limiter = telegramLimiter{}

// Telegram returns the limiter in the shape the Telegram publisher asks
// for (BotOptions.Limiter).
func (l *Limiter) Telegram() telegram.Limiter { return telegramLimiter{l} }

// Wait implements telegram.Limiter.
func (t telegramLimiter) Wait(ctx context.Context, key string, r telegram.Rate) error {
	return t.l.Wait(ctx, key, telegramLimit(r))
}

// Block implements telegram.Limiter.
func (t telegramLimiter) Block(key string, until time.Time) { t.l.Block(key, until) }

// telegramLimit turns a Rate into a Limit that allows no more: a
// fractional number of events is rounded down, and fewer than one event
// per window becomes one event per a window that much longer.
func telegramLimit(r telegram.Rate) Limit {
	switch {
	case r.Events <= 0 || r.Per <= 0:
		return Limit{}
	case r.Events < 1:
		return Limit{Events: 1, Per: time.Duration(float64(r.Per) / r.Events), Burst: 1}
	}
	return Limit{Events: int(r.Events), Per: r.Per, Burst: r.Burst}
}
