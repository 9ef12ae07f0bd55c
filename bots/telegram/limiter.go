package telegram

import (
	"context"
	"sync"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate/window"
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
// to Burst may go at once (0: all of them).
type Rate struct {
	Events float64
	Per    time.Duration
	Burst  int
}

// Limits returns what a limiter keeps for r, so that the in-process and
// the shared limiters pace alike: Telegram's window lengthened by its
// margin (window.Platform), and, when the burst is smaller than the
// events, at most Burst calls in any Burst/Events of Per, which spreads a
// backlog over the window, as Telegram asks of a chat (about one message
// a second) and as keeps a bot's calls from crowding its connections,
// while allowing the events per window on its own. A fraction of an event is dropped, fewer than
// one event per Per becomes one per a window that much longer, and Events
// of 0 mean no limit.
func (r Rate) Limits() []window.Limit {
	switch {
	case r.Events <= 0 || r.Per <= 0:
		return nil
	case r.Events < 1:
		return []window.Limit{window.Platform(1, time.Duration(float64(r.Per)/r.Events))}
	}
	n := int(r.Events)
	limits := []window.Limit{window.Platform(n, r.Per)}
	if r.Burst >= 1 && r.Burst < n {
		limits = append(limits, window.Limit{N: r.Burst, Per: r.Per * time.Duration(r.Burst) / time.Duration(n)})
	}
	return limits
}

// Limit is one limit a call counts under.
type Limit struct {
	// Key names what is limited: "tg:chat:<chat>" or "tg:bot:<bot id>".
	Key  string
	Rate Rate
}

// Limiter paces calls so that Telegram never has to refuse them;
// implementations may share the limits between replicas.
type Limiter interface {
	// Wait blocks until a call may go under every one of limits and
	// counts it under all of them at once, or returns an error when ctx
	// is done first. The limit most often full should come first.
	Wait(ctx context.Context, limits ...Limit) error
	// Start is Wait for a call whose answer the caller waits for: it
	// calls done once the answer came back or the call failed, and the
	// limiter counts the call where Telegram may have counted it
	// (window.Claim.Settle), so that a call slow to arrive does not let
	// the next one in early. done may be called more than once.
	Start(ctx context.Context, limits ...Limit) (done func(), err error)
	// Block holds every call under key back until the given time (after
	// Telegram answered 429).
	Block(key string, until time.Time)
}

// Claims turns limits into what the sliding-window logs take, for the
// in-process and the shared limiter alike.
func Claims(limits []Limit) []window.Claim {
	claims := make([]window.Claim, len(limits))
	for i, l := range limits {
		claims[i] = window.Claim{Key: l.Key, Limits: l.Rate.Limits()}
	}
	return claims
}

// LocalLimiter is an in-process Limiter on sliding-window logs.
type LocalLimiter struct {
	clock Clock
	logs  *window.Logs
}

// NewLocalLimiter returns a limiter that follows clock (nil: the system clock).
func NewLocalLimiter(clock Clock) *LocalLimiter {
	if clock == nil {
		clock = SystemClock{}
	}
	return &LocalLimiter{clock: clock, logs: window.NewLogs(clock.Now)}
}

// Wait blocks until a call may go under every one of limits, and counts
// it at its admission.
func (l *LocalLimiter) Wait(ctx context.Context, limits ...Limit) error {
	_, err := l.Start(ctx, limits...)
	return err
}

// Start blocks until a call may go under every one of limits; done
// settles it (see Limiter).
func (l *LocalLimiter) Start(ctx context.Context, limits ...Limit) (func(), error) {
	claims := Claims(limits)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		at, d, _, err := l.logs.TakeAt(claims...)
		if err != nil {
			return nil, err
		}
		if d <= 0 {
			return sync.OnceFunc(func() { l.logs.Done(claims, at) }), nil
		}
		if err := l.clock.Sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// Block holds calls under key back until the given time.
func (l *LocalLimiter) Block(key string, until time.Time) { l.logs.Block(key, until) }
