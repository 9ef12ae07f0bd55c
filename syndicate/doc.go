// Package syndicate is the pipeline that carries articles from feeds to
// destinations: schedule → fetch → dedupe → enqueue → render → deliver →
// record. It owns the interfaces it consumes (Source, Store, Publisher) and
// depends on no adapter; cmd/syndicate wires the implementations.
//
// # Flow
//
// A poll of a feed (PollFeed) takes the feed's poll lease, fetches with a
// conditional GET, and plans jobs: items not seen before that pass a
// route's filter and are younger than the feed's max age become one job
// per destination of the route (a date ahead counts as now, one before
// 1970 as 1970: see clampDate). At first sight of a feed (not primed: new,
// or the store was wiped) only the route's backfill newest items are
// queued; the rest are only recorded as seen, so a channel is never
// flooded with a backlog. An article already posted to a destination
// through another feed (same canonical link) is not queued there again.
// Items that changed after posting are queued as edits within the
// publisher's edit window.
//
// A damaged document (a truncated download, a broken prologue) that the
// source salvaged is no failed poll: its complete items are planned like
// any others and a warning is logged. A salvage that dropped the rest of
// the document does not prime a feed, though: the items after the damage
// would be taken for new ones at the next whole download, so the feed
// waits for that download to be primed by, unless the damage lasts for
// primeAfterPartialPolls polls in a row.
//
// Before the jobs are queued their images are settled (prepareImages), for
// those items only: with an ImageChecker the lead becomes the first image
// that loads, tried in this order: the feed's lead, its alternates, the
// content images; content images that do not load are dropped, and an item
// left without an image gets its page's og:image where the feed allows it.
// Each URL is checked once per poll, so platforms are handed only images
// that loaded.
//
// The poll is recorded in three steps, in this order: enqueue the jobs,
// mark the items seen, save the feed state with its new validators (ETag,
// Last-Modified). Enqueue is idempotent per (destination, article), so a
// crash between the steps makes the next poll see the same items again and
// skip the jobs that exist: nothing is lost and nothing doubles.
//
// Delivery (DeliverNext) claims the job at the head of a destination's
// queue with a lease, publishes it, and records the outcome. The order is
// strict, across replicas and retries too: the store gives out the head
// only, and nothing while the head is in flight under a live lease or
// waiting for its retry, so jobs of one destination go out one at a time,
// oldest first. A job whose lease expired (its worker died) is claimed
// again by any worker; a parked job leaves the queue.
//
// # States and retries
//
// A delivery is queued → sending → sent | parked | unknown. Publishers
// classify failures once, into kinds the engine acts on:
//   - rate limited: the destination is held back until the platform's
//     retry time; the job keeps its place and no attempt is counted;
//   - temporary: retried with exponential backoff and jitter, the jobs
//     behind it waiting (platform failures are rarely about one item);
//     after the policy's attempts or age the job is parked with the reason
//     and the queue moves on;
//   - permanent for the item: parked with the reason;
//   - permanent for the destination: the destination is paused (its jobs
//     wait) until a restart; other destinations go on;
//   - ambiguous (the request may have reached the platform): resent under
//     the at-least-once policy (the default) or marked unknown under the
//     at-most-once policy.
//
// # Guarantees
//
// A job is recorded as sent only after the platform confirmed it, so no
// article is lost: every failure ends in a retry, a paused destination
// whose jobs wait, or a parked job with its reason.
//
// Duplicates can happen only in the window between the platform accepting
// a post and the store recording it (a crash, a lost connection, the store
// being unreachable for longer than the job's lease). Mastodon closes that
// window: every status carries an Idempotency-Key derived from the
// destination, the article and its content, which the server honours for
// an hour. Telegram has no such key: the window is open there, and the
// destination's policy chooses between resending (at-least-once, possible
// duplicate) and marking the job unknown (at-most-once, possible loss,
// visible to the operator).
//
// Several replicas may share one store: feed polls are serialised by the
// poll lease, jobs by their claim, and the embedded store gives the same
// guarantees to a single process. A claim whose owner is known to be gone
// is released rather than left to run out (ReleaseClaims: the embedded
// store on open, since its file lock proves the last process ended; a
// worker restarting under its own name at start); the job stays sending
// and is taken over as after an expired lease, so the duplicate window
// above is the same.
//
// # Running
//
// Run polls and delivers until stopped; Cycle does one round for a run
// from cron, waiting a bounded time for retries that come due soon;
// Reconfigure swaps feeds, routes and destinations while Run runs,
// keeping every queued job in the store.
package syndicate
