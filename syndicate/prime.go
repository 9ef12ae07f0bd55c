package syndicate

import (
	"context"
	"fmt"
)

// Primed is what Prime did to one feed.
type Primed struct {
	// Items is how many items the feed holds now; Marked is how many of
	// them had not been seen before and now are.
	Items, Marked int
}

// Prime fetches a feed in full and records every item it holds as seen
// without queueing any, as the first sight of a feed does when no route
// backfills it: an operator primes a feed before routing it, or after a
// long pause, so that only articles published afterwards are posted. It
// runs plan on the feed as if unprimed and keeps only its marks, so it
// records exactly what a first poll would. Jobs queued before are left
// as they are; the feed's next poll time is kept.
func (e *Engine) Prime(ctx context.Context, feedID string) (Primed, error) {
	f, ok := e.feed(feedID)
	if !ok {
		return Primed{}, fmt.Errorf("unknown feed %q", feedID)
	}
	now := e.clock.Now()
	st, leased, err := e.store.BeginPoll(ctx, f.ID, e.owner, now, e.lease)
	if err != nil {
		return Primed{}, fmt.Errorf("lease feed %s: %w", f.ID, err)
	}
	if !leased {
		return Primed{}, fmt.Errorf("feed %s is being polled by another worker; try again in a moment", f.ID)
	}
	// Without validators: a 304 would leave the items unknown.
	unconditional := st
	unconditional.ETag, unconditional.LastModified = "", ""
	res, err := e.source.Fetch(ctx, f.FeedSpec, unconditional)
	if err != nil {
		e.releaseAfterFailure(ctx, f.ID)
		return Primed{}, fmt.Errorf("fetch feed %s: %w", f.ID, err)
	}
	var keys []string
	if res.Normalise != nil {
		for _, en := range res.Entries {
			keys = append(keys, en.Key)
		}
	} else {
		for _, it := range uniqueItems(res.Items) {
			keys = append(keys, it.Key)
		}
	}
	known, err := e.store.SeenFingerprints(ctx, f.ID, keys)
	if err != nil {
		e.releaseAfterFailure(ctx, f.ID)
		return Primed{}, fmt.Errorf("seen %s: %w", f.ID, err)
	}
	first := st
	first.Primed = false
	// The jobs a backfill would queue are dropped: priming posts nothing.
	_, seen, err := e.plan(ctx, f, first, res, now)
	if err != nil {
		e.releaseAfterFailure(ctx, f.ID)
		return Primed{}, err
	}
	if res.MovedTo != "" {
		e.log.Warn("feed moved permanently; update its url in the config", "feed", f.ID, "from", f.URL, "to", res.MovedTo)
	}
	st.Primed = true
	st.ETag, st.LastModified = res.ETag, res.LastModified
	st.Failures, st.LastError = 0, ""
	st.LastAttempt, st.LastSuccess = now, now
	if err := e.store.EndPoll(context.WithoutCancel(ctx), f.ID, e.owner, st, seen, now); err != nil {
		return Primed{}, fmt.Errorf("save feed %s: %w", f.ID, err)
	}
	return Primed{Items: len(keys), Marked: len(keys) - len(known)}, nil
}
