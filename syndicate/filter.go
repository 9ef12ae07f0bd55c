package syndicate

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Filter selects the items a route carries. Empty lists select everything;
// an item must pass every include list that is set and no exclude list.
type Filter struct {
	IncludeCategories []string
	ExcludeCategories []string
	// Keywords match whole words (any script), case-insensitively, in the
	// title or summary; a keyword may be several words.
	IncludeKeywords []string
	ExcludeKeywords []string
	IncludeRegexps  []*regexp.Regexp
	ExcludeRegexps  []*regexp.Regexp
	// Languages match the item language's primary subtag ("ar" matches "ar-EG").
	Languages []string
}

// CompileRegexps compiles RE2 patterns for a Filter.
func CompileRegexps(patterns []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("compile %q: %w", p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// ReadsText reports whether Match reads more of an item than its head
// (see FetchResult.Heads): its words, or its language, which a check of
// the text may correct.
func (f Filter) ReadsText() bool {
	return len(f.Languages)+len(f.IncludeKeywords)+len(f.ExcludeKeywords)+len(f.IncludeRegexps)+len(f.ExcludeRegexps) > 0
}

// Match reports whether the filter lets the item through.
func (f Filter) Match(it Item) bool {
	if len(f.Languages) > 0 && !matchLanguage(f.Languages, it.Language) {
		return false
	}
	if len(f.IncludeCategories) > 0 && !anyCategory(f.IncludeCategories, it.Categories) {
		return false
	}
	if anyCategory(f.ExcludeCategories, it.Categories) {
		return false
	}
	if len(f.IncludeKeywords)+len(f.ExcludeKeywords)+len(f.IncludeRegexps)+len(f.ExcludeRegexps) == 0 {
		return true
	}
	text := it.Title + "\n" + it.Summary
	if len(f.IncludeRegexps) > 0 && !anyRegexp(f.IncludeRegexps, text) {
		return false
	}
	if anyRegexp(f.ExcludeRegexps, text) {
		return false
	}
	if len(f.IncludeKeywords) == 0 && len(f.ExcludeKeywords) == 0 {
		return true
	}
	words := wordText(text)
	if len(f.IncludeKeywords) > 0 && !anyKeyword(f.IncludeKeywords, words) {
		return false
	}
	return !anyKeyword(f.ExcludeKeywords, words)
}

func matchLanguage(langs []string, lang string) bool {
	primary := strings.ToLower(strings.SplitN(strings.ReplaceAll(lang, "_", "-"), "-", 2)[0])
	for _, l := range langs {
		if strings.EqualFold(strings.SplitN(l, "-", 2)[0], primary) {
			return true
		}
	}
	return false
}

func anyCategory(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(strings.TrimSpace(w), strings.TrimSpace(h)) {
				return true
			}
		}
	}
	return false
}

func anyRegexp(res []*regexp.Regexp, text string) bool {
	for _, re := range res {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

func anyKeyword(keywords []string, words string) bool {
	for _, k := range keywords {
		if kw := wordText(k); strings.TrimSpace(kw) != "" && strings.Contains(words, kw) {
			return true
		}
	}
	return false
}

// wordText lowercases s and turns every run of characters that are not
// letters, marks, digits or zero-width joiners into one space, with a space at both ends, so
// that " word " finds whole words in any script.
func wordText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '\u200c' || r == '\u200d' {
			b.WriteRune(r)
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}
