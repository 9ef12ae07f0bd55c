package script

import (
	"strings"
	"testing"
	"unicode"

	"github.com/rivo/uniseg"
)

func TestHashtags(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		max  int
		want []string
	}{
		{"camel case, duplicates", []string{"Human rights", "human-rights", "HUMAN RIGHTS", "Labour"}, 5, []string{"#HumanRights", "#Labour"}},
		{"arabic", []string{"حقوق الإنسان", "السجناء السياسيون"}, 5, []string{"#حقوق_الإنسان", "#السجناء_السياسيون"}},
		{"farsi with non-joiner", []string{"هفت‌تپه", "اعتراضات سراسری", "حقوق بشر"}, 5, []string{"#هفت‌تپه", "#اعتراضات_سراسری", "#حقوق_بشر"}},
		{"albanian", []string{"Liria e shprehjes", "Shqipëri", "Të drejtat e punëtorëve"}, 5, []string{"#LiriaEShprehjes", "#Shqipëri", "#TëDrejtatEPunëtorëve"}},
		{"hebrew geresh joins", []string{"צה״ל", "זכויות אדם"}, 5, []string{"#צהל", "#זכויות_אדם"}},
		{"urdu", []string{"پاکستان", "انسانی حقوق"}, 5, []string{"#پاکستان", "#انسانی_حقوق"}},
		{"vowel points dropped", []string{"مَرْحَبًا", "שָׁלוֹם", "ܫܠܵܡܵܐ"}, 5, []string{"#مرحبا", "#שלום", "#ܫܠܡܐ"}},
		{"combining mark composed", []string{"Cafe\u0301 culture", "Shqipe\u0308ri"}, 5, []string{"#CaféCulture", "#Shqipëri"}},
		{"marks telegram would cut", []string{"मानव अधिकार", "ދިވެހި", "Oil"}, 5, []string{"#Oil"}},
		{"placeholders", []string{"Uncategorized", "general", "غير مصنف", "دسته‌بندی نشده", "Të pakategorizuara", "News"}, 5, []string{"#News"}},
		{"digits only and empty", []string{"2026", "   ", "#", "٢٠٢٦"}, 5, nil},
		{"punctuation and apostrophes", []string{"<b>Bold</b>", "Q&A", "People's voice", "Workers’ struggles", "Oil & Gas"}, 5, []string{"#BBoldB", "#QA", "#PeoplesVoice", "#WorkersStruggles", "#OilGas"}},
		{"leading hash", []string{"#Breaking", "＃ایران"}, 5, []string{"#Breaking", "#ایران"}},
		{"underscore separates", []string{"human_rights"}, 5, []string{"#HumanRights"}},
		{"at most max", []string{"a", "b", "c"}, 2, []string{"#A", "#B"}},
		{"emoji dropped", []string{"Solidarity ✊️", "🇦🇱 Albania", "1️⃣ First"}, 5, []string{"#Solidarity", "#Albania", "#1First"}},
		{"digits join", []string{"COVID-19", "2026 Elections", "حقوق 2026"}, 5, []string{"#COVID19", "#2026Elections", "#حقوق_2026"}},
		{"scripts meet", []string{"Iran ایران", "ایران Iran"}, 5, []string{"#Iran_ایران", "#ایران_Iran"}},
		{"middle dot inside", []string{"col·lecció", "·edge·"}, 5, []string{"#Col·lecció", "#Edge"}},
		{"whole words up to the cap", []string{"Statements, letters and declarations of political prisoners and their families"}, 5, []string{"#StatementsLettersAndDeclarationsOf"}},
		{"one long word is cut", []string{strings.Repeat("ب", 50)}, 5, []string{"#" + strings.Repeat("ب", MaxHashtagLength)}},
		{"hostile characters", []string{"Hu\u202Eman\u200B rights\u2066"}, 5, []string{"#HumanRights"}},
	}
	for _, tt := range tests {
		got := Hashtags(tt.in, tt.max)
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s: Hashtags(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		for _, h := range got {
			checkHashtag(t, h)
		}
	}
}

// checkHashtag asserts what both servers need to link a hashtag whole:
// only letters, decimal digits, '_', ZWNJ and the middle dot, the joiners
// only inside, a letter somewhere, and no more than the cap.
func checkHashtag(t *testing.T, h string) {
	t.Helper()
	name, ok := strings.CutPrefix(h, "#")
	if !ok || name == "" {
		t.Fatalf("%q is not a hashtag", h)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '\u200C' || r == '·') {
			t.Errorf("%q holds %U, which ends a hashtag on Telegram or Mastodon", h, r)
		}
	}
	if strings.HasPrefix(name, "\u200C") || strings.HasSuffix(name, "\u200C") || strings.HasPrefix(name, "·") || strings.HasSuffix(name, "·") {
		t.Errorf("%q starts or ends with a joiner", h)
	}
	if !strings.ContainsFunc(name, unicode.IsLetter) {
		t.Errorf("%q has no letter", h)
	}
	if n := uniseg.GraphemeClusterCount(name); n > MaxHashtagLength {
		t.Errorf("%q is %d graphemes long", h, n)
	}
}
