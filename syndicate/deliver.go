package syndicate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"
)

// deliverLoop delivers the due jobs of one destination until ctx ends,
// one at a time so that posts keep their order.
func (e *Engine) deliverLoop(ctx context.Context, dest string) {
	for ctx.Err() == nil && !e.stopped() {
		worked, err := e.DeliverNext(ctx, dest)
		if err != nil && ctx.Err() == nil {
			e.log.Error("delivery step failed", "destination", dest, "error", err)
		}
		if worked && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-e.stopping:
		case <-e.clock.After(e.tick):
		}
	}
}

func (e *Engine) stopped() bool {
	select {
	case <-e.stopping:
		return true
	default:
		return false
	}
}

// drain delivers the due jobs of one destination until none is due.
func (e *Engine) drain(ctx context.Context, dest string) {
	for ctx.Err() == nil {
		worked, err := e.DeliverNext(ctx, dest)
		if err != nil {
			e.log.Error("delivery step failed", "destination", dest, "error", err)
			return
		}
		if !worked {
			return
		}
	}
}

// DeliverNext claims and performs the oldest due job of a destination. It
// reports whether there was one; the error is only a store failure.
func (e *Engine) DeliverNext(ctx context.Context, dest string) (bool, error) {
	d := e.dests[dest]
	if d == nil {
		return false, fmt.Errorf("unknown destination %q", dest)
	}
	now := e.clock.Now()
	st, err := e.store.LoadDestination(ctx, dest)
	if err != nil {
		return false, fmt.Errorf("load destination %s: %w", dest, err)
	}
	if st.PausedReason != "" || now.Before(st.BlockedUntil) {
		return false, nil
	}
	jobs, err := e.store.Claim(ctx, dest, e.owner, now, e.lease, 1)
	if err != nil || len(jobs) == 0 {
		return false, err
	}
	job := jobs[0]
	log := e.log.With("destination", dest, "item", job.ArticleKey, "kind", job.Kind)
	start := e.clock.Now()
	rec, perr := d.Publisher.Publish(ctx, job)
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
		if err := e.store.Finish(ctx, job); err != nil {
			return true, fmt.Errorf("finish %s: %w", dest, err)
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
	if ctx.Err() != nil && errors.Is(perr, ctx.Err()) {
		// Shutting down: leave the job to its lease, so it is retried.
		return false, nil
	}
	kind, wait := Classify(perr)
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
	if err := e.store.Finish(ctx, job); err != nil {
		return true, fmt.Errorf("finish %s: %w", dest, err)
	}
	e.metrics.Delivered(dest, outcome, now.Sub(start))
	return true, nil
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
