package script

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"
)

// MaxHashtagLength caps a hashtag, in grapheme clusters without the '#',
// so that a long category phrase stays readable.
const MaxHashtagLength = 40

// Hashtag turns a category in any script into a hashtag that Telegram and
// Mastodon both link whole ("Human rights" → "#HumanRights", "حقوق بشر" →
// "#حقوق_بشر"), or reports false when the name cannot make one.
func Hashtag(category string) (string, bool) {
	// A hashtag holds only what both servers read as part of one: letters,
	// decimal digits, '_', and ZWNJ and the middle dot inside. Telegram
	// ends a hashtag at a combining mark, so text is composed (NFC), the
	// optional vowel points of Arabic, Hebrew and Syriac are dropped, and a
	// name still carrying a mark (Thaana, Indic scripts) makes none rather
	// than a hashtag Telegram would link only in part.
	c := Clean(category, false)
	c = strings.TrimLeft(c, "#＃ ")
	if placeholderCategory(c) {
		return "", false
	}
	c = norm.NFC.String(c)
	c = strings.Map(func(r rune) rune {
		switch {
		case strings.ContainsRune("'’ʼ׳״`", r), optionalPoint(r), presentationMark(r):
			return -1
		}
		return r
	}, c)
	words := strings.FieldsFunc(c, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '\u200C' || r == '·')
	})
	var (
		b         strings.Builder
		n         int // graphemes written
		prev      string
		hasLetter bool
	)
	for _, w := range words {
		w = strings.Trim(strings.TrimLeftFunc(w, unicode.IsMark), "\u200C·")
		if w == "" {
			continue
		}
		if strings.ContainsFunc(w, unicode.IsMark) {
			return "", false
		}
		// Words join with a capital where the script has case and with '_'
		// where a word next to the join has none; whole words are kept up
		// to the cap, and only a first word longer than it is cut.
		w = capitalize(w)
		sep := ""
		if prev != "" && (uncasedAt(prev, true) || uncasedAt(w, false)) {
			sep = "_"
		}
		wn := uniseg.GraphemeClusterCount(w)
		if n+len(sep)+wn > MaxHashtagLength {
			if prev != "" {
				break
			}
			w = strings.TrimRight(firstGraphemes(w, MaxHashtagLength), "\u200C·")
			wn = MaxHashtagLength
		}
		b.WriteString(sep)
		b.WriteString(w)
		n += len(sep) + wn
		prev = w
		hasLetter = hasLetter || strings.ContainsFunc(w, unicode.IsLetter)
	}
	if !hasLetter {
		return "", false
	}
	return "#" + b.String(), true
}

// Hashtags returns the hashtags of up to max categories, without
// duplicates (compared without case, as both servers do).
func Hashtags(categories []string, max int) []string {
	var (
		tags []string
		seen = map[string]bool{}
	)
	for _, c := range categories {
		if len(tags) >= max {
			break
		}
		t, ok := Hashtag(c)
		if !ok {
			continue
		}
		key := strings.ToLower(t)
		if seen[key] {
			continue
		}
		seen[key] = true
		tags = append(tags, t)
	}
	return tags
}

// placeholderCategory reports the names blog software gives posts without
// a category (WordPress's default category in the site's languages), which
// say nothing about an article.
func placeholderCategory(c string) bool {
	switch strings.ToLower(strings.ReplaceAll(c, "\u200C", " ")) {
	case "uncategorized", "uncategorised", "general", "غير مصنف",
		"دسته بندی نشده", "të pakategorizuara", "pa kategori":
		return true
	}
	return false
}

// optionalPoint reports the vowel points and reading signs that Arabic,
// Hebrew and Syriac text may leave out, as hashtags do.
func optionalPoint(r rune) bool {
	if !unicode.Is(unicode.Mn, r) {
		return false
	}
	switch {
	case '\u0591' <= r && r <= '\u05C7', // Hebrew points and cantillation
		'\u0610' <= r && r <= '\u061A', '\u064B' <= r && r <= '\u065F', r == '\u0670',
		'\u06D6' <= r && r <= '\u06ED', '\u0870' <= r && r <= '\u08FF', // Arabic
		'\u0730' <= r && r <= '\u074A': // Syriac
		return true
	}
	return false
}

// presentationMark reports the marks that only choose how an emoji looks
// (variation selectors, the keycap), which belong to no word.
func presentationMark(r rune) bool {
	return '\uFE00' <= r && r <= '\uFE0F' || '\U000E0100' <= r && r <= '\U000E01EF' || r == '\u20E3'
}

// capitalize makes the first letter of a word a capital where its script
// has case.
func capitalize(w string) string {
	r, size := utf8.DecodeRuneInString(w)
	if !cased(r) {
		return w
	}
	return string(unicode.ToTitle(r)) + w[size:]
}

// uncasedAt reports whether the last (or first) letter of w is of a script
// without case.
func uncasedAt(w string, last bool) bool {
	rs := []rune(w)
	for k := range rs {
		r := rs[k]
		if last {
			r = rs[len(rs)-1-k]
		}
		if unicode.IsLetter(r) {
			return !cased(r)
		}
	}
	return false
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

// firstGraphemes returns the first n grapheme clusters of s.
func firstGraphemes(s string, n int) string {
	pos, state := 0, -1
	rest := s
	for range n {
		if rest == "" {
			break
		}
		var c string
		c, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		pos += len(c)
	}
	return s[:pos]
}
