package mastodon

import (
	"strings"
	"unicode"
)

const (
	lrm        = '\u200E'
	rlm        = '\u200F'
	wordJoiner = '\u2060'
)

// rtlLanguages are the ISO 639-1 languages written right to left.
var rtlLanguages = map[string]bool{
	"ar": true, "fa": true, "he": true, "ur": true, "ps": true, "yi": true,
	"dv": true, "sd": true, "ug": true, "ku": false, "ckb": true,
}

// isRTLRune reports whether r is a strong right-to-left letter.
func isRTLRune(r rune) bool {
	return unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko) && unicode.IsLetter(r)
}

// firstStrong returns +1 for a left-to-right, -1 for a right-to-left first
// strong letter in s, and 0 when s has no letter.
func firstStrong(s string) int {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		if isRTLRune(r) {
			return -1
		}
		return 1
	}
	return 0
}

// isRTL decides the direction of a status from its language, else from its
// title, so that followers' clients lay out each line right to left.
func isRTL(language, title string) bool {
	if language != "" {
		return rtlLanguages[language]
	}
	return firstStrong(title) < 0
}

// markRTL prefixes with a RIGHT-TO-LEFT MARK each line whose first strong
// character is not right-to-left (a link, a Latin word, a number, a
// hashtag), because clients pick each paragraph's direction from its first
// strong character and would otherwise lay it out left to right.
func markRTL(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l == "" {
			continue
		}
		first := []rune(l)[0]
		if isRTLRune(first) {
			continue
		}
		lines[i] = string(rlm) + l
	}
	return strings.Join(lines, "\n")
}

// isBidiControl reports explicit embedding, override and isolate controls
// and direction marks: article text must not reorder what followers read
// (a right-to-left override can disguise a link), so they are removed and
// only the renderer's own marks are added.
func isBidiControl(r rune) bool {
	switch {
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	case r == lrm, r == rlm, r == '\u061C':
		return true
	}
	return false
}
