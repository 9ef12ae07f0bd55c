package telegram

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Telegram's limits on what one message shows, counted after entity parsing.
const (
	// TextLimit is the longest text of a message.
	TextLimit = 4096
	// CaptionLimit is the longest caption of a photo, document or album item.
	CaptionLimit = 1024
	// rawLimit is the longest raw text or caption before parsing, in bytes.
	rawLimit = 1 << 15
)

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// escapeHTML makes s safe as text or as a quoted attribute value in
// Telegram's HTML mode, which knows only these four named entities.
func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

// units counts s the way we hold it against Telegram's limits: UTF-16 code
// units, which are never fewer than the code points Telegram counts.
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cut shortens plain text to at most max units, at a sentence end when one
// is near the limit, else at a word boundary, else at a grapheme boundary,
// and marks the cut with an ellipsis. It reports whether it cut.
func cut(s string, max int) (string, bool) {
	if units(s) <= max {
		return s, false
	}
	const ellipsis = "…"
	if max < 2 {
		return "", true
	}
	budget := max - 1 // room for the ellipsis
	var (
		lastGrapheme = 0  // byte offset of the last boundary within budget
		lastSpace    = -1 // byte offset of the last space within budget
		lastSentence = -1 // byte offset after a sentence end, with room for " …"
		used         = 0
		prev         string
	)
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		c := g.Str()
		start, end := g.Positions()
		isSpace := c == " " || c == "\n"
		if isSpace {
			lastSpace = start
			if isSentenceEnd(prev) && used <= max-2 {
				lastSentence = start
			}
		}
		n := units(c)
		if used+n > budget {
			break
		}
		used += n
		lastGrapheme = end
		prev = c
	}
	switch {
	case lastSentence > 0 && units(s[:lastSentence]) >= budget/2:
		return strings.TrimRight(s[:lastSentence], " \n") + " " + ellipsis, true
	case lastSpace > 0 && units(s[:lastSpace]) >= budget/3:
		return strings.TrimRight(strings.TrimRight(s[:lastSpace], " \n"), ",;:-–—") + ellipsis, true
	default:
		return s[:lastGrapheme] + ellipsis, true
	}
}

func isSentenceEnd(g string) bool {
	switch g {
	case ".", "!", "?", "؟", "۔", "。", "！", "？", "…", "\"", "”", "»":
		return true
	}
	return false
}

// checkHTML validates HTML written by an operator's template against the
// subset Telegram accepts and returns its visible text.
func checkHTML(s string) (string, error) {
	var (
		out   strings.Builder
		stack []string
	)
	for i := 0; i < len(s); {
		switch s[i] {
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				return "", fmt.Errorf("bare '&' at byte %d", i)
			}
			r, ok := decodeReference(s[i+1 : i+end])
			if !ok {
				return "", fmt.Errorf("unsupported character reference at byte %d", i)
			}
			out.WriteRune(r)
			i += end + 1
		case '>':
			return "", fmt.Errorf("bare '>' at byte %d", i)
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("unclosed tag at byte %d", i)
			}
			raw := s[i+1 : i+end]
			if strings.HasPrefix(raw, "/") {
				name := strings.ToLower(strings.TrimSpace(raw[1:]))
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return "", fmt.Errorf("unmatched end tag </%s> at byte %d", name, i)
				}
				stack = stack[:len(stack)-1]
			} else {
				name := strings.ToLower(strings.Fields(raw + " ")[0])
				if !allowedTags[name] {
					return "", fmt.Errorf("tag <%s> is not allowed by Telegram at byte %d", name, i)
				}
				stack = append(stack, name)
			}
			i += end + 1
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("tag <%s> is not closed", stack[len(stack)-1])
	}
	return out.String(), nil
}

var allowedTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "code": true, "pre": true, "blockquote": true, "tg-emoji": true, "tg-time": true,
}

func decodeReference(name string) (rune, bool) {
	switch name {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	}
	if !strings.HasPrefix(name, "#") {
		return 0, false
	}
	num, base := name[1:], 10
	if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
		num, base = num[1:], 16
	}
	v, err := strconv.ParseUint(num, base, 32)
	if err != nil || v == 0 || v > utf8.MaxRune || (v >= 0xd800 && v <= 0xdfff) {
		return 0, false
	}
	return rune(v), true
}
