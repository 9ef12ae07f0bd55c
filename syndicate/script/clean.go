package script

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean removes from feed text what must never reach a post (invalid UTF-8,
// control, directional, invisible and private-use characters, but not the
// joiners emoji and Persian words need) and collapses its white space,
// keeping lines and one blank line between paragraphs when keepNewlines
// is set.
func Clean(s string, keepNewlines bool) string {
	var b strings.Builder
	b.Grow(len(s))
	newline := func(n int) {
		if !keepNewlines {
			b.WriteByte(' ')
			return
		}
		for range n {
			b.WriteByte('\n')
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError:
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue // the '\n' of CRLF ends the line
			}
			newline(1)
		case r == '\n', r == '\u0085', r == '\u2028':
			newline(1)
		case r == '\u2029':
			newline(2)
		case r == '\t', r == '\v', r == '\f':
			b.WriteByte(' ')
		case r == '\u200C', r == '\u200D':
			b.WriteRune(r)
		case removed(r):
		default:
			b.WriteRune(r)
		}
	}
	if !keepNewlines {
		return strings.Join(strings.Fields(b.String()), " ")
	}
	return paragraphs(b.String())
}

// removed reports the characters Clean drops besides white space: U+FFFD
// marks text a decoder already lost, directional controls could disguise
// a link (posts get only this package's marks), and the rest is invisible
// or means nothing outside the program that wrote it.
func removed(r rune) bool {
	switch {
	case IsBidiControl(r):
		return true
	case r == '\u200B', r == '\u2060', r == '\uFEFF', r == '\u00AD':
		return true
	case '\u206A' <= r && r <= '\u206F': // deprecated format characters
		return true
	case '\uFDD0' <= r && r <= '\uFDEF', r&0xFFFE == 0xFFFE: // noncharacters
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Co, r) || unicode.Is(unicode.Cs, r)
}

// paragraphs makes single spaces inside lines and at most one blank line
// between paragraphs, with none before the first or after the last.
func paragraphs(s string) string {
	var out []string
	blank := false
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
