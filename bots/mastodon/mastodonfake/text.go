package mastodonfake

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// This file models how a Mastodon server reads status text: which runs it
// links as URLs (twitter-text 3 rules, approximated), which it turns into
// mentions (Account::MENTION_RE) and hashtags (Tag::HASHTAG_RE), and how it
// counts length (StatusLengthValidator). It is written independently of the
// client package so that tests compare two readings of the rules.

var (
	urlRE = regexp.MustCompile(`(?i)https?://[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)+(?::[0-9]+)?(?:/[^\s\p{Zs}\x{2028}\x{2029}\x{85}()?]*)?(?:\?[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@]*)?`)
	// mentionRE is matched only where the preceding character allows it.
	mentionRE = regexp.MustCompile(`(?i)^@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)((?:@[\p{L}\p{M}\p{Nd}\p{Pc}]+(?:[.-]+[\p{L}\p{M}\p{Nd}\p{Pc}]+)*)?)`)
)

// span is a recognised entity in text.
type span struct {
	start, end int
	kind       byte // 'u' URL, 'm' mention
	user       string
}

// URLs returns the URLs the server would link in text.
func URLs(text string) []string {
	var out []string
	for _, s := range urlSpans(text) {
		out = append(out, text[s.start:s.end])
	}
	return out
}

func urlSpans(text string) []span {
	var out []span
	for _, m := range urlRE.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		if start > 0 {
			r, _ := utf8.DecodeLastRuneInString(text[:start])
			if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("@$#", r)) || r == '＃' || r == '＠' {
				continue
			}
		}
		u := text[start:end]
		if q := strings.IndexByte(u, '?'); q >= 0 {
			u = u[:q] + strings.TrimRightFunc(u[q:], func(r rune) bool {
				return !(r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_&=#/-", r)))
			})
		} else {
			u = strings.TrimRightFunc(u, func(r rune) bool { return strings.ContainsRune("!*';:=,.$%[]~&|@", r) })
		}
		out = append(out, span{start: start, end: start + len(u), kind: 'u'})
	}
	return out
}

// Mentions returns the accounts ("user" or "user@domain") the server would
// mention in text.
func Mentions(text string) []string {
	var out []string
	for _, s := range mentionSpans(text, urlSpans(text)) {
		out = append(out, strings.TrimPrefix(text[s.start:s.end], "@"))
	}
	return out
}

func mentionSpans(text string, urls []span) []span {
	var out []span
	for i := 0; i < len(text); i++ {
		if text[i] != '@' || inSpans(urls, i) {
			continue
		}
		if i > 0 {
			r, _ := utf8.DecodeLastRuneInString(text[:i])
			if r == '=' || r == '/' || isWord(r) {
				continue
			}
		}
		m := mentionRE.FindStringSubmatch(text[i:])
		if m == nil {
			continue
		}
		out = append(out, span{start: i, end: i + len(m[0]), kind: 'm', user: m[1]})
		i += len(m[0]) - 1
	}
	return out
}

// Hashtags returns the hashtag names the server would file text under.
func Hashtags(text string) []string {
	urls := urlSpans(text)
	var out []string
	for i, r := range text {
		if (r != '#' && r != '＃') || inSpans(urls, i) {
			continue
		}
		if i > 0 {
			p, _ := utf8.DecodeLastRuneInString(text[:i])
			if strings.ContainsRune("=/)", p) || unicode.IsLetter(p) || unicode.IsNumber(p) {
				continue
			}
		}
		rest := text[i+utf8.RuneLen(r):]
		end := strings.IndexFunc(rest, func(c rune) bool { return !isWord(c) && !strings.ContainsRune("\u00B7\u30FB\u200C", c) })
		if end < 0 {
			end = len(rest)
		}
		name := strings.TrimRight(rest[:end], "\u00B7\u30FB\u200C")
		if strings.ContainsFunc(name, unicode.IsLetter) {
			out = append(out, name)
		}
	}
	return out
}

func isWord(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || unicode.Is(unicode.Pc, r)
}

func inSpans(spans []span, i int) bool {
	for _, s := range spans {
		if i >= s.start && i < s.end {
			return true
		}
	}
	return false
}

// Length counts a status as Mastodon does: grapheme clusters of spoiler
// plus text, each URL as reserved characters, a mention as @user.
func Length(spoiler, text string, reserved int) int {
	urls := urlSpans(text)
	spans := append(urls, mentionSpans(text, urls)...)
	var b strings.Builder
	last := 0
	// Spans do not overlap: mentions inside URLs were skipped.
	sortSpans(spans)
	for _, s := range spans {
		b.WriteString(text[last:s.start])
		if s.kind == 'u' {
			b.WriteString(strings.Repeat("x", reserved))
		} else {
			b.WriteString("@" + s.user)
		}
		last = s.end
	}
	b.WriteString(text[last:])
	return uniseg.GraphemeClusterCount(spoiler + b.String())
}

// CodePointLength counts a status as GoToSocial does: the code points of
// text and spoiler, URLs and mentions in full.
func CodePointLength(spoiler, text string) int {
	return utf8.RuneCountInString(text) + utf8.RuneCountInString(spoiler)
}

// FlavourLength counts a status as a server of the flavour does.
func FlavourLength(flavour, spoiler, text string, reserved int) int {
	switch flavour {
	case FlavourGoToSocial, FlavourUnknown:
		return CodePointLength(spoiler, text)
	case FlavourPleroma, FlavourAkkoma:
		return PleromaLength(spoiler, text)
	}
	return Length(spoiler, text, reserved)
}

func sortSpans(s []span) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].start < s[j-1].start; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// PleromaLength counts a status as Pleroma and Akkoma do: the grapheme
// clusters of the trimmed text followed by the spoiler, trimmed again,
// with URLs and mentions at their full length.
func PleromaLength(spoiler, text string) int {
	return uniseg.GraphemeClusterCount(strings.TrimSpace(strings.TrimSpace(text) + spoiler))
}
