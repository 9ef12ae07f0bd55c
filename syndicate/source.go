package syndicate

import (
	"context"
	"fmt"
	"time"
)

// FeedSpec is one feed to poll, as the operator configured it.
type FeedSpec struct {
	ID  string
	URL string
	// Language is the operator's language for the feed's items: it
	// overrides the feed's own channel-level declaration, not an item's.
	Language string
	// DefaultLanguage is used when nothing else gives a language.
	DefaultLanguage string
	// PollInterval is the time between two polls of the feed.
	PollInterval time.Duration
	// PageImage allows fetching the article page to find its og:image when
	// the feed gives no image.
	PageImage bool
}

// FetchResult is the outcome of one successful poll.
type FetchResult struct {
	// NotModified is true on a 304: Items is empty and the validators are
	// unchanged.
	NotModified bool
	// Items are the feed's items in document order, for a source that
	// normalises every item; a source that can normalise on demand fills
	// Entries and Normalise instead.
	Items []Item
	// Entries are the feed's items before normalisation, in document
	// order, with unique keys: the engine asks the store which it has seen
	// and has only the new or changed ones normalised.
	Entries []Entry
	// Normalise returns the items of the entries at the given indices, in
	// the order given, leaving out those with nothing to post.
	Normalise func(idx []int) []Item
	// Heads, when set, returns the heads of the entries at the given
	// indices, one per index in the order given: the items with only the
	// fields that need no HTML scanning (key, GUID, link, title, author,
	// dates, categories, language), which is what a route's filter reads
	// unless it matches words or languages. The engine normalises whole
	// only the items a route takes, so an item none takes costs no more.
	Heads func(idx []int) []Item
	// ETag and LastModified are the new validators.
	ETag         string
	LastModified string
	// MovedTo is set when the feed answered with a permanent redirect.
	MovedTo string
	// Title is the feed's own title, for logs and previews.
	Title string
	// Hubs are the WebSub hubs the feed names (Link headers, then
	// <link rel="hub"> in the document), and Self the URL it names itself
	// by (rel="self"), the topic to subscribe to; both empty on a 304.
	Hubs []string
	Self string
	// Salvaged is set when the document did not parse and Entries are
	// the complete items a lenient reading recovered from it; nil when
	// the document parsed.
	Salvaged *Salvage
}

// Salvage says what a lenient reading recovered from a feed document that
// did not parse (a truncated download, a broken prologue), so that the
// complete items before the damage are posted rather than none.
type Salvage struct {
	// Items is how many complete items were recovered.
	Items int
	// Dropped reports that the damage ended the reading before the end of
	// the document: the item it hit and everything after it were left
	// out. It is false when only the prologue was broken.
	Dropped bool
	// Err is why the document as a whole did not parse.
	Err error
}

// AllItems returns every item of the feed, normalising all entries when
// the source left that to the caller.
func (r FetchResult) AllItems() []Item {
	if r.Normalise == nil {
		return r.Items
	}
	idx := make([]int, len(r.Entries))
	for i := range idx {
		idx[i] = i
	}
	return r.Normalise(idx)
}

// Entry is a feed item as fetched, before normalisation.
type Entry struct {
	// Key is the key the normalised item will have (Item.Key).
	Key string
	// Hash summarises the entry's raw fields and what else its
	// normalisation depends on: an entry seen with the same hash needs no
	// normalising, as nothing it would show can have changed.
	Hash string
	// Date is when the entry says it was published, else updated (zero
	// when it says neither), for max_age and backfill.
	Date time.Time
}

// Pusher keeps feeds subscribed at their WebSub hubs, so that new
// articles arrive within seconds instead of at the next poll.
type Pusher interface {
	// Subscribe makes sure the feed is subscribed for topic at one of
	// hubs (nil: those it was subscribed at before), renewing a
	// subscription near its expiry. It reports whether notifications are
	// expected now and when it must be called again at the latest.
	Subscribe(ctx context.Context, feedID, topic string, hubs []string) (active bool, callBy time.Time, err error)
	// Unsubscribe ends the feed's subscription, if it has one: the feed
	// no longer names a hub, or it was removed from the configuration.
	Unsubscribe(ctx context.Context, feedID string) error
	// Notified delivers the id of each feed a hub said has changed, or
	// whose subscription the hub ended (a denial): the engine polls it and
	// asks Subscribe again.
	Notified() <-chan string
}

// Source fetches and normalises feeds. Fetching one feed is callable on
// demand (not only from the polling timer), so push notifications can
// trigger it.
type Source interface {
	// Fetch polls the feed with a conditional GET based on st.
	Fetch(ctx context.Context, spec FeedSpec, st FeedState) (FetchResult, error)
}

// FetchError is a failed poll. RetryAfter is set when the server said when
// to come back (429, 503 with Retry-After).
type FetchError struct {
	StatusCode int
	RetryAfter time.Duration
	Err        error
}

func (e *FetchError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("http %d: %v", e.StatusCode, e.Err)
	}
	return e.Err.Error()
}

func (e *FetchError) Unwrap() error { return e.Err }

// PageImager finds the lead image of an article from its web page (the
// og:image), for items whose feed entry has none. The engine calls it only
// for items it is about to post, never for the whole feed.
type PageImager interface {
	PageImage(ctx context.Context, pageURL string) (*Image, error)
}

// ImageInfo is what a check of an image URL learnt.
type ImageInfo struct {
	// Type is the image's media type, such as "image/jpeg".
	Type string
	// Bytes is the image's size; 0 when the server did not say.
	Bytes int64
	// Sniffed says the server named no image type and Type was read from
	// the first bytes.
	Sniffed bool
}

// ImageChecker tells whether an image URL loads as an image, so that no
// platform is handed a deleted upload or a web page as a photo. The engine
// checks only the images of items it is about to queue; implementations
// are safe for concurrent use and may cache their answers.
type ImageChecker interface {
	// CheckImage returns what url serves when it is an image within the
	// checker's limits, else an error saying why not.
	CheckImage(ctx context.Context, url string) (ImageInfo, error)
}
