package mastodon

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/syndicate-bot/syndicate/syndicate/script"
)

// wordJoiner is the invisible character neutralize puts after a '#' or
// '@' of article text.
const wordJoiner = '\u2060'

// oneLine collapses all white space of s to single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// isTagRune reports the characters Mastodon accepts inside a hashtag name:
// letters, marks, digits, connector punctuation, the middle dot and ZWNJ.
func isTagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) ||
		unicode.Is(unicode.Pc, r) || r == '\u00B7' || r == '\u200C'
}

// rtlText marks the lines of a right-to-left status and isolates their
// left-to-right runs; Mastodon's URL pattern would take a mark written
// right after a URL into the link, so none is.
func rtlText(s string) string {
	return script.Layout{URLTakesMarks: true}.Text(s)
}

// directionTag is the language tag a status's direction falls back on when
// its text has no letters: the item's, else the account's.
func directionTag(item, account string) string {
	if isoLanguage(item) != "" {
		return item
	}
	return account
}

// neutralize breaks @mentions and #hashtags in article text with an
// invisible WORD JOINER after the sign: Mastodon's patterns need a name
// character right after '@' or '#', so the text reads the same but notifies
// nobody and files the post under no hashtag the operator did not choose.
// URLs are left whole. Mentions are kept when allowMentions is set.
func neutralize(s string, allowMentions bool) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	i := 0
	next := indexScheme(s)
	for i < len(s) {
		if next >= 0 && next < i {
			if next = indexScheme(s[i:]); next >= 0 {
				next += i
			}
		}
		if next == i {
			n := urlRunLength(s[i:])
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
		isSign := r == '#' || r == '＃' || ((r == '@' || r == '＠') && !allowMentions)
		if !isSign || i >= len(s) {
			continue
		}
		nr, _ := utf8.DecodeRuneInString(s[i:])
		if isTagRune(nr) || nr == '_' {
			b.WriteRune(wordJoiner)
		}
	}
	return b.String()
}

// sentenceEnders end a sentence in the scripts the site publishes in.
const sentenceEnders = ".!?…؟۔。！？"

// cutMark is a place where text may be cut.
type cutMark struct {
	end      int // byte offset
	sentence bool
}

// cutText returns a prefix of s whose cost is at most budget, cut after a
// sentence when that keeps at least half of what a word cut keeps, else
// after a word with an ellipsis; never inside a URL. It returns "" when
// nothing fits.
func cutText(s string, budget int, cost func(string) int) string {
	if budget <= 0 {
		return ""
	}
	if cost(s) <= budget {
		return s
	}
	var marks []cutMark
	n, pos, state := 0, 0, -1
	rest := s
	for len(rest) > 0 && n < budget {
		var cluster string
		var boundaries int
		cluster, rest, boundaries, state = uniseg.StepString(rest, state)
		pos += len(cluster)
		n++
		if boundaries&uniseg.MaskWord == 0 || len(rest) == 0 {
			continue
		}
		r, _ := utf8.DecodeLastRuneInString(cluster)
		next, _ := utf8.DecodeRuneInString(rest)
		sentence := strings.ContainsRune(sentenceEnders, r) && unicode.IsSpace(next)
		marks = append(marks, cutMark{end: pos, sentence: sentence})
	}
	fits := func(t string) bool { return cost(t) <= budget }
	word := lastFitting(s, marks, false, fits)
	if sent := lastFitting(s, marks, true, fits); sent != "" &&
		(word == "" || 2*uniseg.GraphemeClusterCount(sent) >= uniseg.GraphemeClusterCount(word)) {
		return sent
	}
	return word
}

// lastFitting returns the longest prefix of s cut at one of marks (only
// sentence ends when sentences is set) that fits; cuts inside a sentence
// get an ellipsis. The cost of prefixes grows with their length, so the
// search is binary.
func lastFitting(s string, marks []cutMark, sentences bool, fits func(string) bool) string {
	type cand struct {
		end      int
		ellipsis bool
	}
	var cands []cand
	for _, m := range marks {
		if sentences && !m.sentence {
			continue
		}
		p := strings.TrimRightFunc(s[:m.end], func(r rune) bool {
			return unicode.IsSpace(r) || (!m.sentence && strings.ContainsRune(",;:-–—(«\"'“‘", r))
		})
		if p == "" || insideURL(s, len(p)) {
			continue
		}
		cands = append(cands, cand{end: len(p), ellipsis: !m.sentence})
	}
	text := func(c cand) string {
		if c.ellipsis {
			return s[:c.end] + "…"
		}
		return s[:c.end]
	}
	i := sort.Search(len(cands), func(i int) bool { return !fits(text(cands[i])) })
	if i == 0 {
		return ""
	}
	return text(cands[i-1])
}

// insideURL reports whether cutting s at byte offset at would split a URL.
func insideURL(s string, at int) bool {
	start := strings.LastIndexFunc(s[:at], unicode.IsSpace) + 1
	run := s[start:at]
	j := indexScheme(run)
	if j < 0 {
		return false
	}
	end := start + j + urlRunLength(s[start+j:])
	return end > at
}
