package telegram

import (
	"context"
	"sync"
	"time"
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

// Rate is a limit: at most Events in any window of length Per, as
// Telegram counts its flood limits (a sliding window: PLATFORMS.md §1.10).
type Rate struct {
	Events float64
	Per    time.Duration
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

// LocalLimiter is an in-process Limiter: a sliding-window log per key.
type LocalLimiter struct {
	clock   Clock
	mu      sync.Mutex
	logs    map[string][]time.Time
	blocked map[string]time.Time
}

// NewLocalLimiter returns a limiter that follows clock (nil: the system clock).
func NewLocalLimiter(clock Clock) *LocalLimiter {
	if clock == nil {
		clock = SystemClock{}
	}
	return &LocalLimiter{clock: clock, logs: map[string][]time.Time{}, blocked: map[string]time.Time{}}
}

// Window returns r as a whole number of events per window, the window
// widened by a margin, so that the in-process and the shared limiters
// pace alike. A fraction of an event is dropped, and fewer than one event
// per Per becomes one per a window that much longer. Events of 0 mean no
// limit.
//
// A limiter admits a call while fewer than the events were admitted in
// the window that ends now, so the steady pace is events per widened
// window: with the margin of 1/32 (3.1%), 97% of Telegram's limits (19.4
// posts a minute to a chat, 29.1 calls a second for a bot), so that the
// pipeline's own delays still leave more than 95%. The margin is what
// calls admitted in turn may gain on each other on their way to Telegram
// (several replicas, a busy machine) without crowding into one window
// there: 31 ms of a second, 1.9 s of a minute.
func (r Rate) Window() (events int, per time.Duration) {
	switch {
	case r.Events <= 0 || r.Per <= 0:
		return 0, 0
	case r.Events < 1:
		per = time.Duration(float64(r.Per) / r.Events)
		return 1, per + per/marginDivisor
	}
	return int(r.Events), r.Per + r.Per/marginDivisor
}

// marginDivisor sets the margin of Window: a 32nd of the window.
const marginDivisor = 32

// Wait blocks until a call under key may go.
func (l *LocalLimiter) Wait(ctx context.Context, key string, r Rate) error {
	events, per := r.Window()
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
		if events == 0 {
			l.mu.Unlock()
			return nil
		}
		log := l.logs[key]
		i := 0
		for i < len(log) && !log[i].After(now.Add(-per)) {
			i++
		}
		log = log[i:]
		if len(log) < events {
			l.logs[key] = append(log, now)
			l.mu.Unlock()
			return nil
		}
		// The admission that blocks this one leaves the window then.
		wait := log[len(log)-events].Add(per).Sub(now) + time.Nanosecond
		l.logs[key] = log
		l.mu.Unlock()
		if err := l.clock.Sleep(ctx, wait); err != nil {
			return err
		}
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
