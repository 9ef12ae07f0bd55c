package telegram

import (
	"strings"
	"unicode"
)

// Directional formatting characters: a right-to-left mark opens each
// paragraph of a right-to-left post so that it reads from the right even
// when it starts with a Latin word, and left-to-right isolates keep URLs,
// numbers, Latin words and hashtags in their own order inside it.
const (
	rlm = "\u200f"
	lri = "\u2066"
	pdi = "\u2069"
)

var rtlLanguages = map[string]bool{
	"ar": true, "fa": true, "he": true, "iw": true, "ur": true, "ps": true,
	"ckb": true, "sd": true, "ug": true, "yi": true, "dv": true, "syr": true,
}

// isRTL reports whether a post in this language, with this text, reads
// from right to left: by the language tag, else by the first strong letter.
func isRTL(lang, sample string) bool {
	if lang != "" {
		return rtlLanguages[primaryLanguage(lang)]
	}
	for _, r := range sample {
		if isRTLRune(r) {
			return true
		}
		if unicode.IsLetter(r) {
			return false
		}
	}
	return false
}

func isRTLRune(r rune) bool {
	return unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko)
}

// isLTRStrong reports letters that force left-to-right order.
func isLTRStrong(r rune) bool {
	return unicode.IsLetter(r) && !isRTLRune(r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// isolateLTR wraps the left-to-right runs of a line of right-to-left text
// in isolates. A run starts at a Latin letter or digit (or a '#', '@', '+'
// or currency sign directly before one, or a URL scheme) and ends at its
// last Latin letter, digit, '%' or URL character before the next
// right-to-left letter or line end.
func isolateLTR(s string) string {
	if s == "" {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	i := 0
	for i < len(rs) {
		start := runStart(rs, i)
		if start < 0 {
			b.WriteString(string(rs[i:]))
			break
		}
		b.WriteString(string(rs[i:start]))
		end := runEnd(rs, start)
		b.WriteString(lri)
		b.WriteString(string(rs[start:end]))
		b.WriteString(pdi)
		i = end
	}
	return b.String()
}

// runStart finds the start of the next left-to-right run at or after i, or -1.
func runStart(rs []rune, i int) int {
	for j := i; j < len(rs); j++ {
		r := rs[j]
		if isLTRStrong(r) || isDigit(r) {
			// Take attached prefixes such as '#', '@', '+', '$'.
			k := j
			for k > i && strings.ContainsRune("#@+$€£-", rs[k-1]) {
				k--
			}
			return k
		}
	}
	return -1
}

// runEnd returns the index after the run that starts at start.
func runEnd(rs []rune, start int) int {
	if url := urlRunEnd(rs, start); url > start {
		return url
	}
	last := start
	for j := start; j < len(rs); j++ {
		r := rs[j]
		if isRTLRune(r) || r == '\n' {
			break
		}
		if isLTRStrong(r) || isDigit(r) || r == '%' || unicode.Is(unicode.Mn, r) {
			last = j + 1
		}
	}
	if last <= start {
		last = start + 1
	}
	return last
}

// urlRunEnd returns the end of a URL starting at start, or start.
func urlRunEnd(rs []rune, start int) int {
	rest := string(rs[start:min(len(rs), start+8)])
	if !strings.HasPrefix(rest, "http://") && !strings.HasPrefix(rest, "https://") {
		return start
	}
	j := start
	for j < len(rs) && !unicode.IsSpace(rs[j]) && !isRTLRune(rs[j]) {
		j++
	}
	// Trailing sentence punctuation belongs to the sentence, not the URL.
	for j > start && strings.ContainsRune(".,;:!?)»\"'", rs[j-1]) {
		j--
	}
	return j
}

// directLine prepares one line of a right-to-left post: a right-to-left
// mark first, left-to-right runs isolated.
func directLine(s string) string {
	if s == "" {
		return s
	}
	return rlm + isolateLTR(s)
}

// directText applies directLine to every line of s.
func directText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = directLine(l)
	}
	return strings.Join(lines, "\n")
}
