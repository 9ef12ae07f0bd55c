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

// Wait implements telegram.Limiter with the sliding-window log, the same
// pace as the in-process limiter (telegram.Rate.Window).
func (t telegramLimiter) Wait(ctx context.Context, key string, r telegram.Rate) error {
	events, per := r.Window()
	return t.l.wait(ctx, key, t.l.takeWindow(key, events, per), t.l.beforeDeadline(ctx, key))
}

// Block implements telegram.Limiter.
func (t telegramLimiter) Block(key string, until time.Time) { t.l.Block(key, until) }
