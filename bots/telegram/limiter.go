package telegram

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Clock is the time source of the limiter and the publisher, so tests can
// run a flood of posts without waiting.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Rate is a limit: at most Events in any window of length Per, of which up
// to Burst may go at once.
type Rate struct {
	Events float64
	Per    time.Duration
	Burst  int
}

// Limiter paces calls so that Telegram never has to refuse them. Keys name
// what is limited ("tg:chat:<chat>", "tg:bot:<bot id>"); implementations
// may share the limits between replicas.
type Limiter interface {
	// Wait blocks until a call under key may go at rate r, or ctx is done.
	Wait(ctx context.Context, key string, r Rate) error
	// Block holds every call under key back until the given time (after
	// Telegram answered 429).
	Block(key string, until time.Time)
}

// LocalLimiter is an in-process Limiter built on token buckets.
type LocalLimiter struct {
	clock   Clock
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	rates   map[string]Rate
	blocked map[string]time.Time
}

// NewLocalLimiter returns a limiter that follows clock (nil: the system clock).
func NewLocalLimiter(clock Clock) *LocalLimiter {
	if clock == nil {
		clock = SystemClock{}
	}
	return &LocalLimiter{clock: clock, buckets: map[string]*rate.Limiter{}, rates: map[string]Rate{}, blocked: map[string]time.Time{}}
}

// tokenBucket converts a window limit into a bucket that never lets more
// than r.Events through in any window of r.Per: the burst is spent at
// once, the rest refills evenly (with a 1% margin against rounding).
func tokenBucket(r Rate) (rate.Limit, int) {
	burst := max(1, r.Burst)
	if float64(burst) > r.Events {
		burst = max(1, int(r.Events))
	}
	refill := r.Events - float64(burst)
	if refill <= 0 {
		refill = r.Events
	}
	if r.Per <= 0 || refill <= 0 {
		return rate.Inf, burst
	}
	return rate.Limit(refill / (r.Per.Seconds() * 1.01)), burst
}

// Wait blocks until a call under key may go.
func (l *LocalLimiter) Wait(ctx context.Context, key string, r Rate) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := l.clock.Now()
		l.mu.Lock()
		if until, ok := l.blocked[key]; ok && until.After(now) {
			l.mu.Unlock()
			if err := l.clock.Sleep(ctx, until.Sub(now)); err != nil {
				return err
			}
			continue
		}
		b, ok := l.buckets[key]
		limit, burst := tokenBucket(r)
		if !ok {
			b = rate.NewLimiter(limit, burst)
			l.buckets[key] = b
		} else if l.rates[key] != r {
			b.SetLimitAt(now, limit)
			b.SetBurstAt(now, burst)
		}
		l.rates[key] = r
		res := b.ReserveN(now, 1)
		l.mu.Unlock()
		if !res.OK() {
			return fmt.Errorf("rate limit %s: cannot take a call", key)
		}
		d := res.DelayFrom(now)
		if d <= 0 {
			return nil
		}
		if err := l.clock.Sleep(ctx, d); err != nil {
			res.CancelAt(now)
			return err
		}
		return nil
	}
}

// Block holds calls under key back until the given time.
func (l *LocalLimiter) Block(key string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.blocked[key]) {
		l.blocked[key] = until
	}
}
