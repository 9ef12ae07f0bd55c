package syndicate

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Waiting is what a destination still has to deliver when a cycle ends,
// so that a run from cron can say what the next run will find.
type Waiting struct {
	Destination string
	// Jobs counts the deliveries queued or being sent.
	Jobs int
	// Next is the earliest time the head of the queue may be attempted:
	// its retry time, the end of a rate-limit hold or of another worker's
	// lease; zero when it is due now.
	Next time.Time
	// Paused is why the destination is paused (its jobs then wait for the
	// next start), or empty.
	Paused string
}

// Cycle polls every feed once and delivers every job that is due; then,
// for as long as some job's retry, a destination's rate-limit hold or a
// lease comes due within wait of the end of that pass, it sleeps until
// that time and delivers again. It returns what is left per destination
// with something queued. A zero wait returns after the first pass.
func (e *Engine) Cycle(ctx context.Context, wait time.Duration) ([]Waiting, error) {
	if err := e.restore(ctx); err != nil {
		return nil, err
	}
	if err := e.PollDue(ctx, true); err != nil {
		return nil, err
	}
	ids := e.topology().order
	eachDestination(ids, func(id string) { e.drain(ctx, id) })
	if wait > 0 {
		until := e.clock.Now().Add(wait)
		eachDestination(ids, func(id string) { e.drainUntil(ctx, id, until) })
	}
	e.prune(ctx)
	left, err := e.waiting(ctx, ids)
	if err != nil {
		return nil, err
	}
	return left, ctx.Err()
}

// eachDestination runs fn for every destination at once, so that one
// destination's waits never hold up another's sends.
func eachDestination(ids []string, fn func(id string)) {
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { fn(id) })
	}
	wg.Wait()
}

// drainUntil sleeps until the destination's next job comes due and
// delivers what is due then, while that time is not after until.
func (e *Engine) drainUntil(ctx context.Context, dest string, until time.Time) {
	idle := false
	for ctx.Err() == nil {
		next, ok, err := e.nextDue(ctx, dest)
		if err != nil {
			e.log.Error("delivery step failed", "destination", dest, "error", err)
			return
		}
		if !ok || next.After(until) {
			return
		}
		sleep := next.Sub(e.clock.Now())
		if idle {
			// Due by the store's times, yet nothing could be claimed (a
			// time rounded by the store): look again a tick later rather
			// than spin.
			sleep = max(sleep, e.tick)
		}
		if sleep > 0 {
			select {
			case <-ctx.Done():
				return
			case <-e.clock.After(sleep):
			}
		}
		idle = !e.drain(ctx, dest)
	}
}

// nextDue is when the head of a destination's queue may next be claimed:
// the later of its own time (retry, or the lease of a job in flight) and
// the destination's hold. It reports false when nothing is queued or the
// destination is paused.
func (e *Engine) nextDue(ctx context.Context, dest string) (time.Time, bool, error) {
	st, err := e.store.LoadDestination(ctx, dest)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("load destination %s: %w", dest, err)
	}
	if st.PausedReason != "" {
		return time.Time{}, false, nil
	}
	head, err := e.store.List(ctx, dest, 1, StatusQueued, StatusSending)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("list %s: %w", dest, err)
	}
	if len(head) == 0 {
		return time.Time{}, false, nil
	}
	return dueAt(head[0], st), true, nil
}

// dueAt is when a queue's head may be claimed, given its destination's state.
func dueAt(head Delivery, st DestinationState) time.Time {
	due := head.NotBefore
	if head.Status == StatusSending {
		due = head.LeaseUntil
	}
	if st.BlockedUntil.After(due) {
		due = st.BlockedUntil
	}
	return due
}

// waiting reports the destinations with deliveries left.
func (e *Engine) waiting(ctx context.Context, ids []string) ([]Waiting, error) {
	var out []Waiting
	now := e.clock.Now()
	for _, id := range ids {
		left, err := e.store.List(ctx, id, 0, StatusQueued, StatusSending)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", id, err)
		}
		if len(left) == 0 {
			continue
		}
		st, err := e.store.LoadDestination(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("load destination %s: %w", id, err)
		}
		w := Waiting{Destination: id, Jobs: len(left), Paused: st.PausedReason}
		if next := dueAt(left[0], st); next.After(now) {
			w.Next = next
		}
		out = append(out, w)
	}
	return out, nil
}
