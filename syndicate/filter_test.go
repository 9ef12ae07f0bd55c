package syndicate_test

import (
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate"
)

func TestFilterMatch(t *testing.T) {
	must := func(p ...string) syndicate.Filter {
		res, err := syndicate.CompileRegexps(p)
		if err != nil {
			t.Fatal(err)
		}
		return syndicate.Filter{IncludeRegexps: res}
	}
	news := syndicate.Item{Title: "Teachers strike in 14 cities", Summary: "The union says the strike goes on.",
		Categories: []string{"News", "Workers' rights"}, Language: "en-GB"}
	farsi := syndicate.Item{Title: "نامه‌ی ۳۰۰ فعال حقوق زنان", Categories: []string{"حقوق زنان"}, Language: "fa"}
	tests := []struct {
		name string
		f    syndicate.Filter
		it   syndicate.Item
		want bool
	}{
		{"empty filter passes", syndicate.Filter{}, news, true},
		{"include category, case-insensitive", syndicate.Filter{IncludeCategories: []string{"news"}}, news, true},
		{"include category missing", syndicate.Filter{IncludeCategories: []string{"Videos"}}, news, false},
		{"exclude category", syndicate.Filter{ExcludeCategories: []string{"workers' rights"}}, news, false},
		{"non-Latin category", syndicate.Filter{IncludeCategories: []string{"حقوق زنان"}}, farsi, true},
		{"keyword whole word", syndicate.Filter{IncludeKeywords: []string{"strike"}}, news, true},
		{"keyword is not a word part", syndicate.Filter{IncludeKeywords: []string{"teach"}}, news, false},
		{"keyword phrase across punctuation", syndicate.Filter{IncludeKeywords: []string{"union says"}}, news, true},
		{"exclude keyword", syndicate.Filter{ExcludeKeywords: []string{"STRIKE"}}, news, false},
		{"keyword with ZWNJ in Farsi", syndicate.Filter{IncludeKeywords: []string{"نامه‌ی"}}, farsi, true},
		{"regexp include", must(`\d+ cities`), news, true},
		{"regexp include no match", must(`^Breaking`), news, false},
		{"language primary subtag", syndicate.Filter{Languages: []string{"en"}}, news, true},
		{"language other", syndicate.Filter{Languages: []string{"ar", "fa"}}, news, false},
		{"language unknown item", syndicate.Filter{Languages: []string{"en"}}, syndicate.Item{Title: "x"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.Match(tc.it); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
	exclude, err := syndicate.CompileRegexps([]string{`(?i)sponsored`})
	if err != nil {
		t.Fatal(err)
	}
	ad := syndicate.Item{Title: "Sponsored: buy now"}
	if (syndicate.Filter{ExcludeRegexps: exclude}).Match(ad) {
		t.Error("exclude regexp let a sponsored item through")
	}
	if _, err := syndicate.CompileRegexps([]string{"("}); err == nil {
		t.Error("a broken regexp compiled")
	}
}
