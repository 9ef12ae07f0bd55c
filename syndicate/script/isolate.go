package script

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Layout formats right-to-left text for one platform, because readers'
// apps misplace a Latin word, a number with its sign or a URL with its
// slashes in an Arabic sentence unless the line starts with a RIGHT-TO-LEFT
// MARK and each left-to-right run sits in a LEFT-TO-RIGHT ISOLATE … POP
// DIRECTIONAL ISOLATE; the zero Layout suits Telegram, whose link parser
// ends a URL at a directional mark.
type Layout struct {
	// URLTakesMarks is set for a platform whose link parser takes a mark
	// written right after a URL into the link (Mastodon), so none is written
	// there: a URL that ends its line opens an isolate the line end closes,
	// and one followed by right-to-left text stays bare (linked, though a
	// trailing slash may show on its other side).
	URLTakesMarks bool
}

// Text formats every line of a right-to-left text (see Line).
func (l Layout) Text(s string) string {
	if !strings.Contains(s, "\n") {
		return l.Line(s)
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = l.Line(line)
	}
	return strings.Join(lines, "\n")
}

// Line formats one line of a right-to-left post, a RIGHT-TO-LEFT MARK
// first so that it reads from the right even when it starts with a Latin
// word, a number or a link.
func (l Layout) Line(s string) string {
	if s == "" {
		return s
	}
	return string(RLM) + l.Isolate(s)
}

// Isolate wraps the left-to-right runs of right-to-left text in isolates,
// so that each keeps its own order: Latin words and European numbers with
// the signs written around them ("BBC Persian", "#Iran", "@user", "1,250",
// "12.5%", "C++"), and each URL without the punctuation that ends its
// sentence, never splitting a hashtag or a grapheme cluster (with
// URLTakesMarks, s must be a whole line).
func (l Layout) Isolate(s string) string {
	ts := tokenize(s)
	var b strings.Builder
	b.Grow(len(s) + 16)
	written := 0
	wrap := func(start, end int, closeIt bool) {
		b.WriteString(s[written:start])
		b.WriteRune(LRI)
		b.WriteString(s[start:end])
		if closeIt {
			b.WriteRune(PDI)
		}
		written = end
	}
	floor := 0 // no run reaches back before this token
	for j := 0; j < len(ts); {
		t := ts[j]
		switch t.kind {
		case urlToken:
			end := j + 1
			switch {
			case !l.URLTakesMarks:
				wrap(t.start, t.end, true)
			case !rtlBeforeLineEnd(ts[j+1:]):
				for end < len(ts) && ts[end].kind != lineEnd {
					end++
				}
				wrap(t.start, ts[end-1].end, false)
			}
			j, floor = end, end
		case ltrToken:
			// A run takes the signs written right before it ('#', '@', '+',
			// '-', a currency sign) and ends at its last letter or digit
			// (with a '%', '°', or the '+' and '#' of "C++" and "C#")
			// before a right-to-left letter, a URL or the line end, so
			// "(April–July 2025)" keeps its brackets outside.
			start := j
			for start > floor && ts[start-1].kind == prefixToken {
				start--
			}
			// A sign glued to a word is a hyphen or the like ("ב-2025"),
			// not the sign of this run.
			if start > 0 && start < j && (ts[start-1].kind == rtlToken || ts[start-1].kind == ltrToken) {
				start = j
			}
			end := j + 1
			for k := j + 1; k < len(ts); k++ {
				kind := ts[k].kind
				if kind == rtlToken || kind == urlToken || kind == lineEnd {
					break
				}
				if kind == ltrToken || k == end && (kind == suffixToken || isTrailingSign(s[ts[k].start:ts[k].end])) {
					end = k + 1
				}
			}
			wrap(ts[start].start, ts[end-1].end, true)
			j, floor = end, end
		default:
			j++
		}
	}
	b.WriteString(s[written:])
	return b.String()
}

// isTrailingSign reports the signs that end a name when written right
// after it ("C++", "C#").
func isTrailingSign(c string) bool {
	return c == "+" || c == "#" || c == "＃"
}

// rtlBeforeLineEnd reports whether a right-to-left letter comes before the
// end of the line.
func rtlBeforeLineEnd(ts []token) bool {
	for _, t := range ts {
		switch t.kind {
		case lineEnd:
			return false
		case rtlToken:
			return true
		}
	}
	return false
}

type tokenKind uint8

const (
	neutralToken tokenKind = iota
	rtlToken               // a strong right-to-left character
	ltrToken               // a strong left-to-right letter or a European digit
	prefixToken            // a sign that belongs to the run after it
	suffixToken            // a sign that belongs to the number before it
	urlToken               // a whole URL
	lineEnd
)

// token is a grapheme cluster (or a whole URL) of a text, by byte offsets.
type token struct {
	start, end int
	kind       tokenKind
}

func tokenize(s string) []token {
	var ts []token
	state := -1
	for i := 0; i < len(s); {
		if n := urlLength(s, i); n > 0 {
			ts = append(ts, token{i, i + n, urlToken})
			i += n
			state = -1
			continue
		}
		if n := hashtagLength(s, i); n > 0 {
			ts = append(ts, token{i, i + n, kindOfHashtag(s[i : i+n])})
			i += n
			state = -1
			continue
		}
		var c string
		c, _, _, state = uniseg.FirstGraphemeClusterInString(s[i:], state)
		ts = append(ts, token{i, i + len(c), kindOf(c)})
		i += len(c)
	}
	return ts
}

// hashtagLength returns the byte length of the hashtag (a '#' not right
// after a name character, then name characters) that starts at s[i:], or
// 0, so that a hashtag is one token that no mark splits, even where it
// mixes scripts.
func hashtagLength(s string, i int) int {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r != '#' && r != '＃' {
		return 0
	}
	if p, _ := utf8.DecodeLastRuneInString(s[:i]); i > 0 && isNameRune(p) {
		return 0
	}
	n := size
	for _, r := range s[i+size:] {
		if !isNameRune(r) {
			break
		}
		n += utf8.RuneLen(r)
	}
	if n == size {
		return 0
	}
	return n
}

func isNameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || r == '_' || r == '\u200C' || r == '·'
}

// kindOfHashtag makes a hashtag with a Latin letter or European digit a
// left-to-right token and one without a right-to-left one.
func kindOfHashtag(h string) tokenKind {
	kind := neutralToken
	for _, r := range h {
		switch {
		case isLTRStrong(r), isEuropeanDigit(r):
			return ltrToken
		case IsRTLRune(r):
			kind = rtlToken
		}
	}
	return kind
}

// kindOf classifies a grapheme cluster by its first character.
func kindOf(c string) tokenKind {
	r, _ := utf8.DecodeRuneInString(c)
	switch {
	case r == '\n':
		return lineEnd
	case IsRTLRune(r):
		return rtlToken
	case isLTRStrong(r):
		return ltrToken
	case isEuropeanDigit(r) && !strings.ContainsRune(c, '\u20E3'): // not a keycap emoji
		return ltrToken
	case strings.ContainsRune("#＃@＠+-−$€£¥\u2060", r):
		return prefixToken
	case strings.ContainsRune("%٪‰‱°", r):
		return suffixToken
	}
	return neutralToken
}

// urlLength returns the byte length of the http(s) URL that starts at
// s[i:] (not right after a letter or digit), up to white space or a
// directional mark and without the punctuation that ends a sentence or
// closes a bracket it did not open, or 0.
func urlLength(s string, i int) int {
	rest := s[i:]
	var n int
	switch {
	case hasPrefixFold(rest, "https://"):
		n = len("https://")
	case hasPrefixFold(rest, "http://"):
		n = len("http://")
	default:
		return 0
	}
	if i > 0 {
		if p := s[i-1]; 'a' <= p && p <= 'z' || 'A' <= p && p <= 'Z' || '0' <= p && p <= '9' {
			return 0
		}
	}
	end := len(rest)
	for k, r := range rest[n:] {
		if unicode.IsSpace(r) || IsBidiControl(r) {
			end = n + k
			break
		}
	}
	u := trimURLEnd(rest[:end])
	if len(u) <= n {
		return 0
	}
	return len(u)
}

// trimURLEnd drops the punctuation a sentence puts after a URL.
func trimURLEnd(u string) string {
	for u != "" {
		r, size := utf8.DecodeLastRuneInString(u)
		switch {
		case strings.ContainsRune(".,;:!?'\"*»«”“’‘…>،؛؟۔", r):
		case r == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case r == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		default:
			return u
		}
		u = u[:len(u)-size]
	}
	return u
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
