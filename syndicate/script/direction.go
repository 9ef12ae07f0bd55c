// Package script prepares article text in any writing system for a post, so
// that Telegram and Mastodon show the same article the same way: it decides
// whether a post reads right to left (from its letters, else its language
// tag), gives right-to-left lines their direction marks and isolates the
// left-to-right runs inside them, cleans feed text of characters that must
// never reach a post, and turns categories into hashtags both platforms
// link. It knows no platform; a platform states its one difference (whether
// its link parser lets a mark follow a URL) in a Layout.
package script

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/bidi"
)

// The directional formatting characters this package writes, and the ones
// it removes from feed text (see IsBidiControl).
const (
	// LRM is the LEFT-TO-RIGHT MARK.
	LRM = '\u200E'
	// RLM is the RIGHT-TO-LEFT MARK, which opens every right-to-left line.
	RLM = '\u200F'
	// ALM is the ARABIC LETTER MARK.
	ALM = '\u061C'
	// LRI is the LEFT-TO-RIGHT ISOLATE, which opens a left-to-right run.
	LRI = '\u2066'
	// PDI is the POP DIRECTIONAL ISOLATE, which closes it.
	PDI = '\u2069'
)

// Dir is the direction a post reads in.
type Dir int8

// The two directions.
const (
	LTR Dir = iota
	RTL
)

// String names the direction for logs and test failures.
func (d Dir) String() string {
	if d == RTL {
		return "rtl"
	}
	return "ltr"
}

// Direction decides which way a post reads from its text (title and
// summary), because feeds often declare one language for every edition,
// and goes by the language tag only when the text, URLs aside, has no
// letters or as many strong letters of each direction.
func Direction(lang, text string) Dir {
	rtl, ltr := countStrong(text)
	switch {
	case rtl > ltr:
		return RTL
	case ltr > rtl:
		return LTR
	case LanguageRTL(lang):
		return RTL
	}
	return LTR
}

// countStrong counts the letters of s that are strongly right to left and
// strongly left to right, skipping URLs.
func countStrong(s string) (rtl, ltr int) {
	for i := 0; i < len(s); {
		if n := urlLength(s, i); n > 0 {
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r < utf8.RuneSelf:
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
				ltr++
			}
		case !unicode.IsLetter(r):
		case IsRTLRune(r):
			rtl++
		case isLTRStrong(r):
			ltr++
		}
	}
	return rtl, ltr
}

// LanguageRTL reports whether a BCP 47 tag ("ar", "fa-IR", "fas", "iw",
// "az-Arab", any case, '-' or '_') names a language written right to left,
// by its stated or most likely (CLDR) script, so that three-letter codes
// and script subtags need no table of their own.
func LanguageRTL(tag string) bool {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return false
	}
	t, err := language.Parse(tag)
	if err != nil {
		// A malformed tail should not hide a known language.
		primary, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
		if t, err = language.Parse(primary); err != nil {
			return false
		}
	}
	s, conf := t.Script()
	return conf != language.No && rtlScript(s.String())
}

// rtlScript reports the ISO 15924 codes of the scripts written right to
// left (Unicode's Bidi_Class R and AL scripts).
func rtlScript(code string) bool {
	switch code {
	case "Adlm", "Arab", "Aran", "Armi", "Avst", "Chrs", "Cprt", "Elym", "Hatr",
		"Hebr", "Hung", "Khar", "Lydi", "Mand", "Mani", "Mend", "Merc", "Mero",
		"Narb", "Nbat", "Nkoo", "Orkh", "Ougr", "Palm", "Phli", "Phlp", "Phnx",
		"Prti", "Rohg", "Samr", "Sarb", "Sogd", "Sogo", "Syrc", "Syre", "Syrj",
		"Syrn", "Thaa", "Yezi":
		return true
	}
	return false
}

// IsRTLRune reports whether r is a strong right-to-left character (bidi
// class R or AL, such as Arabic, Hebrew, Syriac and Thaana letters), the
// characters that turn a run right to left.
func IsRTLRune(r rune) bool {
	if r < 0x0590 || IsBidiControl(r) {
		return false
	}
	switch bidiClass(r) {
	case bidi.R, bidi.AL:
		return true
	}
	return false
}

// isLTRStrong reports a strong left-to-right character (bidi class L).
func isLTRStrong(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return !IsBidiControl(r) && bidiClass(r) == bidi.L
}

// isEuropeanDigit reports digits that read left to right inside
// right-to-left text (bidi class EN) and are not the Persian digits, which
// take the direction of the Arabic letters around them.
func isEuropeanDigit(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return !(0x06F0 <= r && r <= 0x06F9) && bidiClass(r) == bidi.EN && unicode.IsDigit(r)
}

func bidiClass(r rune) bidi.Class {
	p, _ := bidi.LookupRune(r)
	return p.Class()
}

// IsBidiControl reports the explicit directional formatting characters
// (embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069, LRM,
// RLM, ALM), which feed text must not carry because an override can make a
// link read as another.
func IsBidiControl(r rune) bool {
	switch {
	case r == LRM, r == RLM, r == ALM:
		return true
	case '\u202A' <= r && r <= '\u202E', '\u2066' <= r && r <= '\u2069':
		return true
	}
	return false
}
