package mastodon

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/syndicate-bot/syndicate/syndicate/script"
)

// Servers speaking the Mastodon client API count a status each their own
// way, and a status counted one way may be refused by a server counting
// another, so the renderer fits every status with the count of the server
// it goes to:
//
//   - Mastodon (and its forks) counts the grapheme clusters of text plus
//     spoiler_text, each http(s) URL as characters_reserved_per_url (23)
//     and a mention @user@domain as @user (app/validators/
//     status_length_validator.rb);
//   - GoToSocial counts the code points of status plus spoiler_text, URLs
//     and mentions in full (internal/processing/status/common.go,
//     validateStatusContent);
//   - Pleroma and Akkoma count the grapheme clusters of the trimmed text
//     followed by the spoiler, trimmed again, URLs and mentions in full
//     (lib/pleroma/web/common_api/activity_draft.ex, full_payload);
//   - a server we do not recognise is counted strictly (CountStrict).
//
// Where the server decides how far a URL reaches (twitter-text rules with
// Unicode tables we cannot reproduce exactly), this package counts an upper
// bound instead, so a status it thinks fits is never refused as too long.

// Count is a way of counting the length of a status.
type Count int

const (
	// CountStrict bounds every other count from above, for a server whose
	// rule is unknown. It counts code points, which are never fewer than
	// grapheme clusters; mentions in full, never shorter than Mastodon's
	// @user; and each URL the renderer placed as the larger of its length
	// and the reserved length: that is its full length for the URLs longer
	// than the reserved length (what GoToSocial, Pleroma and Akkoma count,
	// more than Mastodon's reserved length) and the reserved length for
	// shorter ones (Mastodon's count, more than their full length). Any
	// other URL-like run costs its full length plus the reserved length for
	// every scheme in it, which bounds Mastodon's count however it splits
	// the run. Trimming (Pleroma) only shortens, and code points add up
	// over spoiler and text where grapheme clusters may merge across the
	// join, so counting the two apart never counts less. It is the zero
	// value, so that limits nobody identified count strictly.
	CountStrict Count = iota
	// CountMastodon is Mastodon's count: grapheme clusters, each URL as
	// CharactersReservedPerURL, mentions counted literally (an upper bound
	// of Mastodon's @user).
	CountMastodon
	// CountGraphemes is Pleroma's and Akkoma's: grapheme clusters with URLs
	// and mentions in full.
	CountGraphemes
	// CountCodePoints is GoToSocial's: code points with URLs and mentions
	// in full.
	CountCodePoints
)

func (c Count) String() string {
	switch c {
	case CountMastodon:
		return "mastodon"
	case CountGraphemes:
		return "graphemes"
	case CountCodePoints:
		return "code_points"
	}
	return "strict"
}

// Length returns the length of a status as this package budgets it under
// lim.Count: exact for the URLs in trusted (the links the renderer placed,
// each standing alone between white space), and an upper bound for
// everything else.
func Length(spoiler, text string, lim Limits, trusted ...string) int {
	c := newCounter(lim, trusted)
	return c.count(spoiler) + c.count(text)
}

type counter struct {
	mode     Count
	reserved int
	trusted  map[string]bool
}

func newCounter(lim Limits, trusted []string) counter {
	c := counter{mode: lim.Count, reserved: lim.CharactersReservedPerURL}
	if c.reserved <= 0 {
		c.reserved = DefaultLimits().CharactersReservedPerURL
	}
	c.trusted = make(map[string]bool, len(trusted))
	for _, u := range trusted {
		if u != "" {
			c.trusted[u] = true
		}
	}
	return c
}

// count returns the budgeted length of s.
func (c counter) count(s string) int {
	switch {
	case s == "":
		return 0
	case c.mode == CountCodePoints:
		return utf8.RuneCountInString(s)
	case c.mode == CountGraphemes:
		return uniseg.GraphemeClusterCount(s)
	}
	units := uniseg.GraphemeClusterCount
	if c.mode == CountStrict {
		units = utf8.RuneCountInString
	}
	var rest strings.Builder
	extra := 0
	i := 0
	for i < len(s) {
		j := indexScheme(s[i:])
		if j < 0 {
			rest.WriteString(s[i:])
			break
		}
		start := i + j
		end := start + urlRunLength(s[start:])
		run := s[start:end]
		if c.trusted[run] && standsAlone(s, start, end) {
			rest.WriteString(s[i:start])
			if c.mode == CountStrict {
				extra += max(utf8.RuneCountInString(run), c.reserved)
			} else {
				extra += c.reserved
			}
			i = end
			continue
		}
		// Untrusted: literal length (kept in rest) plus the reserved
		// length for every URL the server may find in the run.
		extra += c.reserved * countSchemes(run)
		rest.WriteString(s[i:end])
		i = end
	}
	return units(rest.String()) + extra
}

// countSchemes returns how many URL schemes s holds: the most URLs a
// server can find in it.
func countSchemes(s string) int {
	n := 0
	for {
		j := indexScheme(s)
		if j < 0 {
			return n
		}
		n++
		s = s[j+len("http"):]
	}
}

// indexScheme returns the index of the next "http://" or "https://"
// (case-insensitive) in s, or -1.
func indexScheme(s string) int {
	off := 0
	for {
		k := indexFold(s[off:], "http")
		if k < 0 {
			return -1
		}
		p := off + k
		tail := s[p+4:]
		if hasPrefixFold(tail, "://") || hasPrefixFold(tail, "s://") {
			return p
		}
		off = p + 4
	}
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if hasPrefixFold(s[i:], sub) {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// urlRunLength returns the byte length of the run starting at a URL scheme
// up to the next white space or invisible mark.
func urlRunLength(s string) int {
	for i, r := range s {
		if unicode.IsSpace(r) || isInvisibleMark(r) {
			return i
		}
	}
	return len(s)
}

// standsAlone reports whether s[start:end] is bounded by white space, a
// direction mark or the ends of s.
func standsAlone(s string, start, end int) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:start])
		if !unicode.IsSpace(r) && !isInvisibleMark(r) {
			return false
		}
	}
	if end < len(s) {
		r, _ := utf8.DecodeRuneInString(s[end:])
		if !unicode.IsSpace(r) && !isInvisibleMark(r) {
			return false
		}
	}
	return true
}

// isInvisibleMark reports the marks this package inserts itself: direction
// marks, isolates and the word joiner.
func isInvisibleMark(r rune) bool {
	return r == wordJoiner || r == script.LRM || r == script.RLM || r == script.LRI || r == script.PDI
}
