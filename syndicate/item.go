package syndicate

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Item is one article from a feed, normalised so that renderers never see
// feed-format details or raw HTML.
type Item struct {
	// FeedID is the id of the feed (from the config) the item came from.
	FeedID string `json:"feed_id"`
	// Key identifies the item within its feed: "guid:…", "link:…" or
	// "hash:…". GUIDs are only unique within one feed, so Key is never
	// compared across feeds.
	Key string `json:"key"`
	// GUID is the feed's own identifier, if it gave one.
	GUID string `json:"guid,omitempty"`
	// Link is the canonical article URL: absolute, tracking parameters removed.
	Link string `json:"link,omitempty"`
	// Title is plain text on one line.
	Title string `json:"title"`
	// Summary is plain text; paragraphs are separated by a blank line.
	Summary string `json:"summary,omitempty"`
	// Author is the display name of the author, if known.
	Author string `json:"author,omitempty"`
	// Published is when the article was published (zero if unknown).
	Published time.Time `json:"published,omitzero"`
	// Updated is when the article was last changed (zero if unknown).
	Updated time.Time `json:"updated,omitzero"`
	// Categories are the article's categories as the site names them.
	Categories []string `json:"categories,omitempty"`
	// Language is a BCP 47 tag; LanguageFrom says where it came from.
	Language     string       `json:"language,omitempty"`
	LanguageFrom LanguageFrom `json:"language_from,omitempty"`
	// Image is the lead image, if one was found.
	Image *Image `json:"image,omitempty"`
	// LeadAlternates are the feed's other lead image candidates (media,
	// then enclosures), best first, for when Image does not load; the
	// engine consumes them when it checks the images before queueing.
	LeadAlternates []Image `json:"lead_alternates,omitempty"`
	// Images are further meaningful images from the content, after Image.
	Images []Image `json:"images,omitempty"`
	// Attachments are documents such as PDF newsletters.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Videos are embedded videos, as watch-page URLs.
	Videos []Video `json:"videos,omitempty"`
}

// LanguageFrom says where an item's language came from. The order of
// precedence is: the item's own declaration, the operator's (route, then
// feed), the feed's channel-level declaration, the configured default. A
// language that contradicts the script of the text is replaced by one
// identified from the text, unless the operator gave it.
type LanguageFrom string

// Where a language can come from.
const (
	LanguageFromItem     LanguageFrom = "item"
	LanguageFromOperator LanguageFrom = "operator"
	LanguageFromFeed     LanguageFrom = "feed"
	LanguageFromDefault  LanguageFrom = "default"
	LanguageFromText     LanguageFrom = "text"
)

// Image is a picture that belongs to an article.
type Image struct {
	URL    string `json:"url"`
	Alt    string `json:"alt,omitempty"`
	Type   string `json:"type,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	// Source says where the image was found: "media", "enclosure",
	// "content" or "page".
	Source string `json:"source,omitempty"`
	// Checked says the URL answered as an image when the engine checked it,
	// so that platforms may hand the URL on; Type is then the type it
	// answered with and Bytes its size (0 when the server did not say).
	Checked bool  `json:"checked,omitempty"`
	Bytes   int64 `json:"bytes,omitempty"`
	// Sniffed says the server did not name an image type and Type was read
	// from the first bytes, which platforms fetching by URL may not do.
	Sniffed bool `json:"sniffed,omitempty"`
}

// Attachment is a document linked from or enclosed with an article.
type Attachment struct {
	URL    string `json:"url"`
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Length int64  `json:"length,omitempty"`
}

// Video is a video embedded in an article.
type Video struct {
	// URL is the page where the video can be watched.
	URL string `json:"url"`
	// Provider is e.g. "youtube"; empty when unknown.
	Provider string `json:"provider,omitempty"`
	// ID is the provider's video id, when known.
	ID string `json:"id,omitempty"`
}

// ArticleKey identifies the article across feeds: the canonical link when
// there is one, so that one article reaching a destination through two
// feeds is posted there once; otherwise the feed-scoped key.
func (it Item) ArticleKey() string {
	if it.Link != "" {
		return "url:" + it.Link
	}
	return "item:" + it.FeedID + ":" + it.Key
}

// Fingerprint summarises what a post shows (title, summary, image,
// categories, attachments), so a later change of the article can be
// detected and the post edited.
func (it Item) Fingerprint() string {
	h := sha256.New()
	write := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	write(it.Title)
	write(it.Summary)
	if it.Image != nil {
		write(it.Image.URL)
	} else {
		write("")
	}
	write(strings.Join(it.Categories, "\x1f"))
	for _, a := range it.Attachments {
		write(a.URL)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Date returns the best known date of the item: published, else updated.
func (it Item) Date() time.Time {
	if !it.Published.IsZero() {
		return it.Published
	}
	return it.Updated
}
