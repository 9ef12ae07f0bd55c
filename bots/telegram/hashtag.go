package telegram

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// maxHashtagRunes keeps hashtags from long category phrases readable.
const maxHashtagRunes = 40

// hashtags turns categories into Telegram hashtags in any script: letters,
// marks and digits are kept, spaces and punctuation dropped, words joined
// with a capital where the script has case and with '_' where it has not
// (#HumanRights, #حقوق_الإنسان), at most max of them, without
// duplicates, and none made only of digits (Telegram would not link it).
func hashtags(categories []string, max int) []string {
	var (
		tags []string
		seen = map[string]bool{}
	)
	for _, c := range categories {
		if len(tags) >= max {
			break
		}
		t := hashtag(c)
		if t == "" {
			continue
		}
		key := strings.ToLower(t)
		if seen[key] {
			continue
		}
		seen[key] = true
		tags = append(tags, "#"+t)
	}
	return tags
}

func hashtag(category string) string {
	category = cleanText(category, false)
	// Apostrophes join, everything else that is not a letter, mark or
	// digit separates words.
	category = strings.NewReplacer("'", "", "’", "", "ʼ", "").Replace(category)
	words := strings.FieldsFunc(category, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || r == '\u200c')
	})
	var (
		b         strings.Builder
		n         int
		hasLetter bool
	)
	for i, w := range words {
		w = strings.Trim(w, "\u200c")
		if w == "" {
			continue
		}
		wn := utf8.RuneCountInString(w)
		if n+wn > maxHashtagRunes {
			if i > 0 {
				break
			}
			w = firstGraphemes(w, maxHashtagRunes)
		}
		r, size := utf8.DecodeRuneInString(w)
		if b.Len() > 0 && unicode.IsLetter(r) && unicode.ToUpper(r) == r && unicode.ToLower(r) == r {
			// Scripts without capitals keep words apart with '_', as
			// their readers write hashtags.
			b.WriteByte('_')
			n++
		}
		w = string(unicode.ToUpper(r)) + w[size:]
		for _, r := range w {
			if unicode.IsLetter(r) {
				hasLetter = true
			}
		}
		b.WriteString(w)
		n += utf8.RuneCountInString(w)
	}
	if !hasLetter {
		return ""
	}
	return b.String()
}

// firstGraphemes returns the longest prefix of s of at most max runes that
// ends on a grapheme boundary.
func firstGraphemes(s string, max int) string {
	g := uniseg.NewGraphemes(s)
	n, end := 0, 0
	for g.Next() {
		n += len(g.Runes())
		if n > max {
			break
		}
		_, end = g.Positions()
	}
	return s[:end]
}
