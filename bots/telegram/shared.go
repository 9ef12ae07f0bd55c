package telegram

import (
	"context"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate/window"
)

// Windows is a limiter that knows no platform: sliding-window logs under
// claims, possibly shared between replicas (syndicate/ratelimit).
type Windows interface {
	Wait(ctx context.Context, claims ...window.Claim) error
	// Start is Wait for a call whose answer the caller waits for (see
	// Limiter.Start).
	Start(ctx context.Context, claims ...window.Claim) (done func(), err error)
	Block(key string, until time.Time)
}

// SharedLimiter keeps a bot's chat and bot limits in w, so that the
// replicas sharing w share them; the keys and windows stay Telegram's.
func SharedLimiter(w Windows) Limiter { return sharedLimiter{w} }

type sharedLimiter struct{ w Windows }

// Wait implements Limiter with the windows the in-process limiter keeps
// (Rate.Limits).
func (s sharedLimiter) Wait(ctx context.Context, limits ...Limit) error {
	return s.w.Wait(ctx, Claims(limits)...)
}

// Start implements Limiter like Wait.
func (s sharedLimiter) Start(ctx context.Context, limits ...Limit) (func(), error) {
	return s.w.Start(ctx, Claims(limits)...)
}

// Block implements Limiter.
func (s sharedLimiter) Block(key string, until time.Time) { s.w.Block(key, until) }
