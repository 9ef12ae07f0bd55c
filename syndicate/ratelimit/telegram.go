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

// Wait implements telegram.Limiter, with the windows the in-process
// limiter keeps too (telegram.Rate.Limits).
func (t telegramLimiter) Wait(ctx context.Context, limits ...telegram.Limit) error {
	return t.l.Wait(ctx, telegram.Claims(limits)...)
}

// Block implements telegram.Limiter.
func (t telegramLimiter) Block(key string, until time.Time) { t.l.Block(key, until) }
