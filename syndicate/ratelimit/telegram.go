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

// telegramLimit turns a Rate into a Limit that allows no more, with the
// events, window and burst the in-process limiter uses too (Rate.Window):
// the burst is at most a quarter of the events, so that the pace after it,
// Events − Burst + 1 per 1.01·Per, stays close to the rate.
func telegramLimit(r telegram.Rate) Limit {
	events, per, burst := r.Window()
	return Limit{Events: events, Per: per, Burst: burst}
}
