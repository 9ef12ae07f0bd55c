package mastodon

import (
	"context"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate/window"
)

// Windows is a limiter that knows no platform: sliding-window logs under
// claims, possibly shared between replicas (syndicate/ratelimit).
// WaitOr asks giveUp, before every sleep, whether to wait d for key.
type Windows interface {
	WaitOr(ctx context.Context, claims []window.Claim, giveUp func(key string, d time.Duration) error) error
	// StartOr is WaitOr for a request whose answer the caller waits for
	// (see Limiter.Start).
	StartOr(ctx context.Context, claims []window.Claim, giveUp func(key string, d time.Duration) error) (done func(), err error)
	Block(key string, until time.Time)
}

// SharedLimiter keeps an account's budgets in w, so that the replicas
// sharing w share them. Of o only Budgets, MaxWait, NoWait and Now are
// used; Wait gives the job back (a *WaitError) instead of waiting longer
// than MaxWait or past ctx's deadline, as LocalLimiter does.
func SharedLimiter(w Windows, o LocalLimiterOptions) Limiter {
	return &sharedLimiter{w: w, o: o.withDefaults()}
}

type sharedLimiter struct {
	w Windows
	o LocalLimiterOptions
}

// Wait implements Limiter.
func (s *sharedLimiter) Wait(ctx context.Context, keys ...string) error {
	_, err := s.Start(ctx, keys...)
	return err
}

// Start implements Limiter.
func (s *sharedLimiter) Start(ctx context.Context, keys ...string) (func(), error) {
	return s.w.StartOr(ctx, Claims(s.o.Budgets, keys), func(key string, d time.Duration) error {
		if d > s.o.MaxWait {
			return &WaitError{Key: key, Delay: d}
		}
		if dl, ok := ctx.Deadline(); ok && s.o.Now().Add(d).After(dl) {
			return &WaitError{Key: key, Delay: d}
		}
		return nil
	})
}

// Block implements Limiter.
func (s *sharedLimiter) Block(key string, until time.Time) { s.w.Block(key, until) }
