package syndicate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"
)

// deliverLoop delivers the due jobs of one destination until ctx ends,
// one at a time so that posts keep their order. With nothing to do it
// sleeps until a job is queued for the destination, a job it held back
// or a block comes due, or the idle check; an idle destination costs
// no store access in between.
func (e *Engine) deliverLoop(ctx context.Context, dest string, quit <-chan struct{}) {
	failures := 0
	wake := e.topology().wakes[dest]
	for ctx.Err() == nil && !e.stopped() && !closed(quit) {
		if e.dest(dest) == nil {
			// Removed by Reconfigure, which is stopping this loop.
			return
		}
		worked, err := e.DeliverNext(ctx, dest)
		var wait time.Duration
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			wait = storeBackoff(e.tick, failures)
			e.log.Error("delivery step failed; the store may be down", "destination", dest, "error", err, "retry_in", wait)
		case err == nil:
			failures = 0
			if worked {
				continue
			}
			wait = e.idleWait(dest)
		}
		select {
		case <-ctx.Done():
		case <-e.stopping:
		case <-quit:
		case <-wake:
		case <-e.clock.After(wait):
		}
	}
}

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// idleWait is how long a destination with nothing due may sleep: until
// the earliest time this worker knows a job of it becomes due, at most
// the idle check.
func (e *Engine) idleWait(dest string) time.Duration {
	now := e.clock.Now()
	wait := e.idleCheck
	e.retryMu.Lock()
	at, ok := e.retryAt[dest]
	e.retryMu.Unlock()
	if ok {
		wait = min(wait, at.Sub(now))
	}
	return max(wait, time.Millisecond)
}

// holdUntil records that a job of the destination becomes due at t, so
// that its sender wakes then; times already past are dropped.
func (e *Engine) holdUntil(dest string, t time.Time) {
	e.retryMu.Lock()
	defer e.retryMu.Unlock()
	now := e.clock.Now()
	if at, ok := e.retryAt[dest]; ok && at.After(now) && !t.Before(at) {
		return
	}
	e.retryAt[dest] = t
}

func (e *Engine) stopped() bool {
	select {
	case <-e.stopping:
		return true
	default:
		return false
	}
}

// drain delivers the due jobs of one destination until none is due; it
// reports whether it attempted any.
func (e *Engine) drain(ctx context.Context, dest string) bool {
	attempted := false
	for ctx.Err() == nil {
		worked, err := e.DeliverNext(ctx, dest)
		if err != nil {
			e.log.Error("delivery step failed", "destination", dest, "error", err)
			return attempted
		}
		if !worked {
			return attempted
		}
		attempted = true
	}
	return attempted
}

// DeliverNext claims and performs the oldest due job of a destination. It
// reports whether there was one; the error is only a store failure.
func (e *Engine) DeliverNext(ctx context.Context, dest string) (bool, error) {
	d := e.dest(dest)
	if d == nil {
		return false, fmt.Errorf("unknown destination %q", dest)
	}
	now := e.clock.Now()
	st, err := e.store.LoadDestination(ctx, dest)
	if err != nil {
		return false, fmt.Errorf("load destination %s: %w", dest, err)
	}
	if st.PausedReason != "" {
		return false, nil
	}
	if now.Before(st.BlockedUntil) {
		e.holdUntil(dest, st.BlockedUntil)
		return false, nil
	}
	jobs, err := e.store.Claim(ctx, dest, e.owner, now, e.lease, 1)
	if err != nil || len(jobs) == 0 {
		return false, err
	}
	job := jobs[0]
	log := e.log.With("destination", dest, "item", job.ArticleKey, "kind", job.Kind)
	start := e.clock.Now()
	hb := e.heartbeat(ctx, job)
	var rec Receipt
	perr := safely("publishing "+job.ArticleKey+" to "+dest, func() (err error) {
		rec, err = d.Publisher.Publish(ctx, job)
		return err
	})
	if pe := (*PanicError)(nil); errors.As(perr, &pe) {
		// Rendering or sending this item trips a bug: park it with the
		// reason rather than crash the worker or retry it forever.
		log.Error("publishing panicked; the item is parked", "error", perr, "stack", string(pe.Stack))
		perr = &DeliveryError{Kind: ErrPermanentItem, Err: perr}
	}
	leaseUntil := hb.stop()
	now = e.clock.Now()
	if perr == nil {
		job.Status = StatusSent
		if len(rec.MessageIDs) > 0 {
			job.MessageIDs = rec.MessageIDs
		}
		job.SentAt, job.FinishedAt = now, now
		job.Fingerprint = job.Item.Fingerprint()
		job.LastError = ""
		job.LeaseUntil = time.Time{}
		if err := e.finish(ctx, job, leaseUntil); err != nil {
			// The post is out but not recorded: once the lease expires the
			// job is sent again (the ambiguous window of the package doc).
			return true, fmt.Errorf("record post on %s: %w", dest, err)
		}
		if len(rec.Remember) > 0 {
			if st.Values == nil {
				st.Values = map[string]string{}
			}
			maps.Copy(st.Values, rec.Remember)
			if err := e.store.SaveDestination(ctx, dest, st); err != nil {
				return true, fmt.Errorf("save destination %s: %w", dest, err)
			}
		}
		e.metrics.Delivered(dest, "sent", now.Sub(start))
		log.Info("posted", "title", job.Item.Title, "message_ids", job.MessageIDs, "url", rec.URL)
		return true, nil
	}
	kind, wait := Classify(perr)
	if ctx.Err() != nil && kind != ErrAmbiguous {
		// Shutting down: the attempt was cut short; queue the job again
		// without counting it.
		job.Status, job.LeaseUntil, job.LastError = StatusQueued, time.Time{}, perr.Error()
		return false, e.finish(ctx, job, leaseUntil)
	}
	job.LastError = perr.Error()
	job.LeaseUntil = time.Time{}
	outcome := kind.String()
	switch kind {
	case ErrRateLimited:
		wait = max(wait, time.Second)
		st.BlockedUntil = now.Add(wait)
		if err := e.store.SaveDestination(ctx, dest, st); err != nil {
			return true, fmt.Errorf("save destination %s: %w", dest, err)
		}
		job.Status = StatusQueued
		job.NotBefore = now.Add(wait)
		log.Warn("rate limited; holding the destination back", "retry_after", wait)
	case ErrPermanentDestination:
		st.PausedReason = perr.Error()
		st.PausedAt = now
		if err := e.store.SaveDestination(ctx, dest, st); err != nil {
			return true, fmt.Errorf("save destination %s: %w", dest, err)
		}
		job.Status = StatusQueued
		log.Error("destination paused: fix the cause and restart", "error", perr)
	case ErrPermanentItem:
		e.park(&job, now)
		log.Error("item parked", "error", perr)
	case ErrAmbiguous:
		if !d.Policy.ResendAmbiguous {
			job.Status = StatusUnknown
			job.FinishedAt = now
			log.Error("outcome unknown; not resending (at-most-once policy)", "error", perr)
			break
		}
		log.Warn("outcome unknown; resending (at-least-once policy)", "error", perr)
		e.retry(&job, d.Policy, wait, now)
	default:
		log.Warn("delivery failed; will retry", "error", perr, "attempts", job.Attempts+1)
		e.retry(&job, d.Policy, wait, now)
	}
	if err := e.finish(ctx, job, leaseUntil); err != nil {
		return true, fmt.Errorf("finish %s: %w", dest, err)
	}
	if job.Status == StatusQueued {
		due := job.NotBefore
		if st.BlockedUntil.After(due) {
			due = st.BlockedUntil
		}
		e.holdUntil(dest, due)
	}
	e.metrics.Delivered(dest, outcome, now.Sub(start))
	if job.Status == StatusParked {
		e.metrics.Parked(dest)
	}
	return true, nil
}

// heartbeat renews the claim on a job while it is being published, so a
// send slowed by rate limits or uploads is not taken over by another
// replica; a worker that dies stops renewing and its job is taken over
// once the lease runs out.
type heartbeat struct {
	cancel context.CancelFunc
	done   chan time.Time
}

func (e *Engine) heartbeat(ctx context.Context, job Delivery) heartbeat {
	hctx, cancel := context.WithCancel(ctx)
	hb := heartbeat{cancel: cancel, done: make(chan time.Time, 1)}
	go func() {
		until := job.LeaseUntil
		defer func() { hb.done <- until }()
		for {
			select {
			case <-hctx.Done():
				return
			case <-e.clock.After(e.lease / 3):
			}
			now := e.clock.Now()
			if err := e.store.Extend(hctx, job.Destination, job.ArticleKey, e.owner, now, e.lease); err != nil {
				if hctx.Err() == nil {
					e.log.Warn("renewing a delivery lease failed", "destination", job.Destination, "item", job.ArticleKey, "error", err)
				}
				continue
			}
			until = now.Add(e.lease)
		}
	}()
	return hb
}

// stop ends the heartbeat and returns until when the lease is held.
func (h heartbeat) stop() time.Time {
	h.cancel()
	return <-h.done
}

// finish records the outcome of a job, retrying while the store fails and
// the lease lasts: a post that went out but was not recorded would be sent
// again by whoever takes the job over.
func (e *Engine) finish(ctx context.Context, job Delivery, leaseUntil time.Time) error {
	// Recording is attempted even when shutdown has cancelled ctx (the
	// post is out, and forgetting that would send it again), and for as
	// long as the lease holds: while the store is unreachable nobody else
	// can take the job, and once it is back this worker must record the
	// post before the lease lets another worker resend it.
	rctx := context.WithoutCancel(ctx)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(rctx, 5*time.Second)
		err := e.store.Finish(actx, job)
		cancel()
		if err == nil || errors.Is(err, ErrNotClaimed) {
			return err
		}
		wait := min(storeBackoff(e.tick, attempt), 2*time.Second)
		if !e.clock.Now().Add(wait).Before(leaseUntil) {
			return err
		}
		e.log.Warn("recording a delivery failed; retrying", "destination", job.Destination, "item", job.ArticleKey, "error", err)
		<-e.clock.After(wait)
	}
}

// retry counts a failed attempt and requeues the job with backoff, or
// parks it when the policy's attempts or age are used up.
func (e *Engine) retry(job *Delivery, p Policy, wait time.Duration, now time.Time) {
	job.Attempts++
	if job.Attempts >= p.MaxAttempts || now.Sub(job.EnqueuedAt) > p.MaxAge {
		job.LastError = fmt.Sprintf("gave up after %d attempts: %s", job.Attempts, job.LastError)
		e.park(job, now)
		e.log.Error("item parked", "destination", job.Destination, "item", job.ArticleKey, "error", job.LastError)
		return
	}
	job.Status = StatusQueued
	job.NotBefore = now.Add(max(wait, retryBackoff(job.Attempts)))
}

// park ends a job that cannot be delivered. A failed edit leaves the
// earlier post in place, so its record stays sent.
func (e *Engine) park(job *Delivery, now time.Time) {
	job.FinishedAt = now
	if job.Kind == JobEdit && len(job.MessageIDs) > 0 {
		job.Status = StatusSent
		// Record the new content as handled so the edit is not queued again.
		job.Fingerprint = job.Item.Fingerprint()
		return
	}
	job.Status = StatusParked
}
