package mastodon

import (
	"strings"
	"unicode"

	"github.com/rivo/uniseg"
)

// maxHashtagLength keeps hashtags readable; a longer category phrase is
// left out rather than glued into one unreadable word.
const maxHashtagLength = 40

// ignoredCategories are placeholders that say nothing about an article.
var ignoredCategories = map[string]bool{
	"uncategorized": true, "uncategorised": true, "general": true,
}

// isTagRune reports the characters Mastodon accepts inside a hashtag name:
// letters, marks, digits, connector punctuation, the middle dot and ZWNJ.
func isTagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) ||
		unicode.Is(unicode.Pc, r) || r == '\u00B7' || r == '\u200C'
}

// Hashtag turns a category name in any script into a hashtag Mastodon
// recognises ("Human rights" → "#HumanRights", "حقوق بشر" → "#حقوق_بشر"),
// or reports false when the name cannot make one.
func Hashtag(category string) (string, bool) {
	category = strings.TrimSpace(strings.TrimLeft(category, "#＃"))
	category = strings.NewReplacer("'", "", "’", "").Replace(category)
	if ignoredCategories[strings.ToLower(category)] {
		return "", false
	}
	words := strings.FieldsFunc(category, func(r rune) bool {
		return !isTagRune(r) || r == '_'
	})
	var b strings.Builder
	prevCased := false
	for i, w := range words {
		w = strings.Trim(w, "\u00B7\u200C")
		if w == "" {
			continue
		}
		rs := []rune(w)
		cased := unicode.IsUpper(rs[0]) || unicode.IsLower(rs[0])
		if cased {
			rs[0] = unicode.ToUpper(rs[0])
		}
		if i > 0 && b.Len() > 0 && (!cased || !prevCased) {
			b.WriteByte('_')
		}
		b.WriteString(string(rs))
		prevCased = cased
	}
	name := b.String()
	if name == "" || !strings.ContainsFunc(name, unicode.IsLetter) {
		return "", false
	}
	if uniseg.GraphemeClusterCount(name) > maxHashtagLength {
		return "", false
	}
	return "#" + name, true
}

// hashtags returns up to max distinct hashtags for the categories.
func hashtags(categories []string, max int) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range categories {
		if len(out) >= max {
			break
		}
		t, ok := Hashtag(cleanText(c))
		if !ok {
			continue
		}
		k := strings.ToLower(t)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}
