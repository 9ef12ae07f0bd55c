package syndicate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// FeedState is what the store remembers about one feed between polls.
type FeedState struct {
	// ETag and LastModified are the validators of the last 200 response,
	// sent back as If-None-Match / If-Modified-Since.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// LastAttempt and LastSuccess are when the feed was last fetched and
	// last fetched without error (a 304 is a success).
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Failures counts consecutive failed polls; it drives the backoff.
	Failures  int    `json:"failures,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// NextPoll is the earliest time the feed may be polled again
	// (poll interval, Retry-After or backoff).
	NextPoll time.Time `json:"next_poll,omitzero"`
	// Primed is set once the feed's existing items have been recorded, so
	// that first sight of a feed never floods its destinations.
	Primed bool `json:"primed,omitempty"`
	// PartialPolls counts the consecutive polls of a feed not yet primed
	// that read only a part of its document (see FetchResult.Salvaged).
	PartialPolls int `json:"partial_polls,omitempty"`
}

// PushState is a feed's WebSub subscription as the store keeps it, so
// that any replica can answer the hub's verification and check a
// notification's signature, and renewal survives restarts.
type PushState struct {
	// Hub and Topic are the hub subscribed at and the feed URL (the
	// topic) the hub knows the feed by.
	Hub   string `json:"hub,omitempty"`
	Topic string `json:"topic,omitempty"`
	// Callback is the URL the hub delivers to.
	Callback string `json:"callback,omitempty"`
	// Secret signs the hub's notifications (X-Hub-Signature) for the
	// verified subscription; it is made per subscription and never logged.
	Secret string `json:"secret,omitempty"`
	// PendingSecret is the secret of the latest request, kept apart until
	// the hub verifies it, so that a renewal never breaks the subscription
	// it renews.
	PendingSecret string `json:"pending_secret,omitempty"`
	// State is "pending" while the hub has yet to verify a request,
	// "active" once verified, "denied" or "failed" when the hub refused or
	// could not be reached, "unsubscribing" and "unsubscribed" when the
	// feed left the configuration, and "" when it was never subscribed.
	State string `json:"state,omitempty"`
	// Requested is when the latest subscription request was sent;
	// Expires is when the hub's lease on the subscription lapses.
	Requested time.Time `json:"requested,omitzero"`
	Expires   time.Time `json:"expires,omitzero"`
	// Failures counts consecutive failed requests; LastError says why the
	// latest failed.
	Failures  int    `json:"failures,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// LastNotified is when the hub last delivered a valid notification.
	LastNotified time.Time `json:"last_notified,omitzero"`
}

// Status is the state of one article on one destination.
type Status string

// The states of a delivery. A delivery starts queued, is sending while a
// worker holds its lease, and ends sent or parked. Unknown means a send
// may or may not have reached the platform and the destination's policy
// says not to resend.
const (
	StatusQueued  Status = "queued"
	StatusSending Status = "sending"
	StatusSent    Status = "sent"
	StatusParked  Status = "parked"
	StatusUnknown Status = "unknown"
)

// Final reports whether a delivery in this state will not be attempted again
// without an operator's retry.
func (s Status) Final() bool {
	return s == StatusSent || s == StatusParked || s == StatusUnknown
}

// JobKind says what a delivery job does on the platform.
type JobKind string

// Job kinds: a new post, or an edit of a post already made.
const (
	JobPost JobKind = "post"
	JobEdit JobKind = "edit"
)

// Delivery is the record of one article on one destination: the queued job
// while it waits, and the receipt once it was posted.
type Delivery struct {
	// Destination is the destination id from the config.
	Destination string `json:"destination"`
	// ArticleKey is Item.ArticleKey(): unique per destination.
	ArticleKey string `json:"article_key"`
	// Kind is what the job does; an edit job reuses the record of the post.
	Kind JobKind `json:"kind"`
	// Item is the snapshot to post, so that delivery never needs the feed.
	Item Item `json:"item"`
	// Seq orders the jobs of a destination: lower is older. Assigned by the
	// store on Enqueue.
	Seq    int64  `json:"seq"`
	Status Status `json:"status"`
	// Attempts counts send attempts that failed.
	Attempts int `json:"attempts,omitempty"`
	// EnqueuedAt is when the job was first queued.
	EnqueuedAt time.Time `json:"enqueued_at"`
	// NotBefore holds a job back until then (retry backoff).
	NotBefore time.Time `json:"not_before,omitzero"`
	// LeaseUntil is when a claim by a worker expires; after it another
	// worker may take the job over.
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// Owner names the worker holding the lease.
	Owner     string `json:"owner,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// SentAt, MessageIDs and Fingerprint form the receipt: when and as
	// which platform messages the article was posted, and what it showed.
	SentAt      time.Time `json:"sent_at,omitzero"`
	MessageIDs  []string  `json:"message_ids,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	// FinishedAt is when the record reached a final state; retention
	// counts from it.
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// DestinationState is what the store remembers about one destination.
type DestinationState struct {
	// PausedReason is set when a permanent error (bad token, bot removed)
	// stopped deliveries to this destination.
	PausedReason string    `json:"paused_reason,omitempty"`
	PausedAt     time.Time `json:"paused_at,omitzero"`
	// BlockedUntil holds all sends back (a platform's rate-limit answer).
	BlockedUntil time.Time `json:"blocked_until,omitzero"`
	// Values holds platform-specific facts to remember, such as a chat id
	// that a Telegram group migrated to.
	Values map[string]string `json:"values,omitempty"`
}

// ValidateJob reports a job that Enqueue must refuse.
func (d Delivery) ValidateJob() error {
	switch {
	case d.Destination == "":
		return errors.New("job without destination")
	case d.ArticleKey == "":
		return fmt.Errorf("job for %s without article key", d.Destination)
	case d.Kind != JobPost && d.Kind != JobEdit:
		return fmt.Errorf("job %s %s: unknown kind %q", d.Destination, d.ArticleKey, d.Kind)
	}
	return nil
}

// ValidateOutcome reports a record that Finish must refuse: neither
// queued again nor a final state with its finishing time.
func (d Delivery) ValidateOutcome() error {
	switch {
	case d.Status == StatusQueued:
		return nil
	case !d.Status.Final():
		return fmt.Errorf("status %q is neither queued nor final", d.Status)
	case d.FinishedAt.IsZero():
		return fmt.Errorf("final status %s without FinishedAt", d.Status)
	}
	return nil
}

// ValidateLease reports a claim renewal that Extend must refuse.
func ValidateLease(owner string, lease time.Duration) error {
	switch {
	case owner == "":
		return errors.New("empty owner")
	case lease <= 0:
		return fmt.Errorf("lease %s is not positive", lease)
	}
	return nil
}

// ErrNotClaimed is returned by Store.Finish when the caller no longer holds
// the lease on the job (it expired and another worker took it).
var ErrNotClaimed = errors.New("delivery not claimed by this worker")

// Store is the state behind the pipeline. Implementations must be safe for
// concurrent use, durable once a call returns, and must honour the contract
// that storetest checks.
//
// A poll is recorded in three steps, in this order: Enqueue the new jobs,
// MarkSeen the items, SaveFeed with the new validators. A crash between the
// steps makes the next poll see the same items again; Enqueue then skips
// the jobs that already exist, so nothing is lost and nothing doubles.
type Store interface {
	// LoadFeed returns the state of a feed; a feed never saved has the zero state.
	LoadFeed(ctx context.Context, feedID string) (FeedState, error)
	// SaveFeed replaces the state of a feed.
	SaveFeed(ctx context.Context, feedID string, st FeedState) error

	// SeenFingerprints returns, for those of keys already seen in the feed,
	// the fingerprint recorded with them.
	SeenFingerprints(ctx context.Context, feedID string, keys []string) (map[string]string, error)
	// MarkSeen records items of a feed as seen with their fingerprints.
	MarkSeen(ctx context.Context, feedID string, seen map[string]string, now time.Time) error

	// Enqueue adds delivery jobs, in the order given, as StatusQueued. A
	// JobPost whose (Destination, ArticleKey) already has a record is
	// skipped. A JobEdit replaces the item of a record that is sent and
	// queues it again (receipt kept); for a record still queued it only
	// replaces the item, so the post goes out with the new content; it is
	// skipped otherwise. It returns the jobs it added, with Seq set.
	Enqueue(ctx context.Context, jobs []Delivery, now time.Time) ([]Delivery, error)
	// Claim leases up to n jobs from the head of a destination's queue
	// (lowest Seq first) while they are due: queued with NotBefore <= now,
	// or sending with an expired lease. Claimed jobs become StatusSending
	// with Owner and LeaseUntil set. The order is strict: a head that is
	// not due, because it is in flight under a live lease (whoever holds
	// it, owner included) or held back by NotBefore (a retry), keeps the
	// whole destination waiting, so that neither replicas nor retries can
	// publish a destination's posts out of order. Parking a job removes it
	// from the head.
	Claim(ctx context.Context, destination, owner string, now time.Time, lease time.Duration, n int) ([]Delivery, error)
	// Extend renews owner's claim on a job until now+lease, so a slow send
	// (rate-limit waits, uploads) keeps its job. It returns ErrNotClaimed
	// when owner no longer holds the job.
	Extend(ctx context.Context, destination, articleKey, owner string, now time.Time, lease time.Duration) error
	// Finish stores the outcome of a claimed job: d.Status is the new state
	// (queued again for a retry, or a final state). It returns ErrNotClaimed
	// when d.Owner no longer holds the lease.
	Finish(ctx context.Context, d Delivery) error
	// ReleaseClaims ends the leases of the jobs owner holds, for a worker
	// restarted under the same name: the process that claimed them is
	// gone, so its successor need not wait for the leases to run out.
	// Released jobs stay sending with their owner and no lease, and are
	// taken over as after an expired lease; queued jobs and the claims of
	// other owners are untouched. It returns how many claims it released.
	ReleaseClaims(ctx context.Context, owner string) (int, error)
	// Get returns the record of an article on a destination.
	Get(ctx context.Context, destination, articleKey string) (Delivery, bool, error)
	// List returns the records of a destination in the given states (all
	// states when none are given), oldest first, at most limit (0: no limit).
	List(ctx context.Context, destination string, limit int, states ...Status) ([]Delivery, error)

	// Requeue puts a parked or unknown record back in the queue with its
	// attempts reset and a new Seq, for an operator's retry. It reports
	// false when the record is missing or in another state.
	Requeue(ctx context.Context, destination, articleKey string, now time.Time) (bool, error)

	// LeaseFeed takes, renews or refuses the poll lease of a feed: it
	// reports true when owner now holds it until now+ttl, false when
	// another owner holds an unexpired lease. Replicas sharing a store
	// thereby poll each feed one at a time.
	LeaseFeed(ctx context.Context, feedID, owner string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseFeed gives up owner's lease on a feed; it does nothing when
	// owner does not hold it.
	ReleaseFeed(ctx context.Context, feedID, owner string) error

	// BeginPoll is LeaseFeed and, when the lease is taken, LoadFeed, as one
	// round trip to the store: a feed's poll costs two (BeginPoll, EndPoll)
	// when nothing changed. It reports false (and the zero state) when
	// another owner holds an unexpired lease.
	BeginPoll(ctx context.Context, feedID, owner string, now time.Time, ttl time.Duration) (FeedState, bool, error)
	// EndPoll ends a poll begun with BeginPoll as one round trip (one
	// commit): it records seen (as MarkSeen, nothing when empty), replaces
	// the feed's state with st (as SaveFeed) and releases owner's lease
	// (as ReleaseFeed). It saves even when the lease was lost meanwhile,
	// like SaveFeed, since the jobs a poll queues are idempotent. An empty
	// owner is an error, and then nothing is written.
	EndPoll(ctx context.Context, feedID, owner string, st FeedState, seen map[string]string, now time.Time) error

	// LoadPush and SavePush keep a feed's push (WebSub) subscription; a
	// feed never subscribed has the zero state.
	LoadPush(ctx context.Context, feedID string) (PushState, error)
	SavePush(ctx context.Context, feedID string, st PushState) error

	// LoadDestination and SaveDestination keep a destination's state.
	LoadDestination(ctx context.Context, destination string) (DestinationState, error)
	SaveDestination(ctx context.Context, destination string, st DestinationState) error

	// Prune forgets seen keys and final delivery records older than
	// before, so that the store stays bounded. Leases expiring at or after
	// before are kept.
	Prune(ctx context.Context, before time.Time) error
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}
