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
// to Burst (but no more than a quarter of Events, see Window) may go at
// once.
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

// Window returns r as a whole number of events per window and the burst a
// limiter should allow, so that the in-process and the shared limiters
// pace alike. A fraction of an event is dropped, fewer than one event per
// Per becomes one per a window that much longer, and the burst is at most
// a quarter of the events (at least one): a limiter that must keep every
// window of Per within the events can only pace E − B + 1 per Per after
// spending a burst of B, so a burst close to the events would slow the
// steady pace to a crawl. Events of 0 mean no limit. The window is widened
// by transit, so that calls admitted in turn but delayed differently on
// their way (several replicas, a busy machine) never crowd into one window
// at Telegram.
func (r Rate) Window() (events int, per time.Duration, burst int) {
	switch {
	case r.Events <= 0 || r.Per <= 0:
		return 0, 0, 0
	case r.Events < 1:
		return 1, time.Duration(float64(r.Per)/r.Events) + transit, 1
	}
	events = int(r.Events)
	return events, r.Per + transit, min(max(r.Burst, 1), max(1, events/4))
}

// transit bounds the time from a call's admission to its arrival at
// Telegram that the limits allow for.
const transit = 500 * time.Millisecond

// tokenBucket converts a window limit into a bucket that never lets more
// than E events through in any window of Per: a bucket of B tokens
// refilled at a rate admits at most B + rate·s calls in a span s, and at
// (E − B + 1) per 1.01·Per that is fewer than E + 1 whenever s ≤ Per, with
// 1% of Per to spare for the time a call takes to reach Telegram.
func tokenBucket(r Rate) (rate.Limit, int) {
	events, per, burst := r.Window()
	if events == 0 {
		return rate.Inf, 1
	}
	return rate.Limit(float64(events-burst+1) / (per.Seconds() * 1.01)), burst
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
