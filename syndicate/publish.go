package syndicate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Publisher posts articles to one destination (a Telegram channel, a
// Mastodon account). Implementations live in bots/ and are safe for
// concurrent use.
type Publisher interface {
	// Publish performs the job: a new post, or an edit of the post whose
	// receipt (MessageIDs, Fingerprint) is in job. It returns the receipt
	// of what the platform confirmed. Errors are *DeliveryError, or are
	// treated as ErrTemporary.
	Publish(ctx context.Context, job Delivery) (Receipt, error)
	// Preview renders the item exactly as Publish would send it, for
	// people to read, without contacting the platform.
	Preview(item Item) (string, error)
}

// Receipt is what a platform confirmed for a post.
type Receipt struct {
	// MessageIDs identify the platform messages (Telegram message ids, the
	// Mastodon status id), first the main one.
	MessageIDs []string
	// URL links to the post, when the platform gives one.
	URL string
	// Remember holds destination facts the engine must keep and hand back
	// through Restorer (a Telegram chat that migrated to a new id).
	Remember map[string]string
}

// Restorer is implemented by publishers that keep destination facts in the
// store; the engine calls Restore with the remembered values before the
// first Publish.
type Restorer interface {
	Restore(values map[string]string)
}

// Editor is implemented by publishers that can edit a post; the engine
// queues an edit job when an already-posted article changes within the
// window. A zero window turns edits off.
type Editor interface {
	EditWindow() time.Duration
}

// ErrorKind is what the engine does about a failed delivery. Platform
// adapters classify their errors into these kinds once; nothing else looks
// at platform error texts.
type ErrorKind int

// The kinds of delivery failure.
const (
	// ErrTemporary: retry with backoff (5xx, network, timeouts).
	ErrTemporary ErrorKind = iota
	// ErrRateLimited: the platform asked to wait RetryAfter; the
	// destination is held back and the job retried without counting an attempt.
	ErrRateLimited
	// ErrPermanentItem: this item can never be posted here (after every
	// fallback was tried); the job is parked with the reason.
	ErrPermanentItem
	// ErrPermanentDestination: the destination cannot take posts (bad token,
	// bot removed); the destination is paused and its jobs wait.
	ErrPermanentDestination
	// ErrAmbiguous: the request may have reached the platform (timeout after
	// sending); the destination's policy decides between resend and unknown.
	ErrAmbiguous
)

func (k ErrorKind) String() string {
	switch k {
	case ErrTemporary:
		return "temporary"
	case ErrRateLimited:
		return "rate_limited"
	case ErrPermanentItem:
		return "permanent_item"
	case ErrPermanentDestination:
		return "permanent_destination"
	case ErrAmbiguous:
		return "ambiguous"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// DeliveryError is a classified delivery failure.
type DeliveryError struct {
	Kind ErrorKind
	// RetryAfter is how long to wait, for ErrRateLimited (and optionally
	// ErrTemporary).
	RetryAfter time.Duration
	// Err is the underlying error; it must not contain secrets.
	Err error
}

func (e *DeliveryError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s (retry after %s): %v", e.Kind, e.RetryAfter, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Kind, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Classify returns the kind of err and its retry delay; an unclassified
// error is temporary.
func Classify(err error) (ErrorKind, time.Duration) {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Kind, de.RetryAfter
	}
	return ErrTemporary, 0
}
