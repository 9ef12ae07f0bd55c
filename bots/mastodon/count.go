package mastodon

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/syndicate-bot/syndicate/syndicate/script"
)

// Mastodon counts a status as the grapheme clusters of spoiler_text plus
// text, with every http(s) URL counted as characters_reserved_per_url and
// a mention @user@domain as @user (app/validators/status_length_validator.rb).
// Where the server decides how far a URL reaches (twitter-text rules with
// Unicode tables we cannot reproduce exactly), this package counts an upper
// bound instead, so a status it thinks fits is never refused as too long.

// Length returns the length of a status as this package budgets it: exact
// for the URLs in trusted (the links the renderer placed, each standing
// alone between white space), and an upper bound for everything else — each
// other occurrence of a URL scheme costs its literal length plus the
// reserved length, mentions count literally.
func Length(spoiler, text string, lim Limits, trusted ...string) int {
	c := newCounter(lim, trusted)
	return c.count(spoiler) + c.count(text)
}

type counter struct {
	reserved int
	literal  bool
	trusted  map[string]bool
}

func newCounter(lim Limits, trusted []string) counter {
	c := counter{reserved: lim.CharactersReservedPerURL, literal: lim.CountURLsInFull}
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
	if s == "" {
		return 0
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
			if c.literal {
				extra += uniseg.GraphemeClusterCount(run)
			} else {
				extra += c.reserved
			}
			i = end
			continue
		}
		// Untrusted: literal length (kept in rest) plus the reserved
		// length, which bounds any way the server may split the run.
		extra += c.reserved
		rest.WriteString(s[i:end])
		i = end
	}
	return uniseg.GraphemeClusterCount(rest.String()) + extra
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
