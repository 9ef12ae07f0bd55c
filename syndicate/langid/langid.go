// Package langid tells the language of an article from its text when the
// language it was declared in cannot be right: an Arabic or Farsi edition
// whose feed says "en-US" (editions sharing one WordPress install often
// all declare the main edition's language) would otherwise be posted with
// the wrong language, which followers' clients use for fonts, hyphenation,
// translation and filters.
//
// The check is by script first: a declared language whose script is not
// the one the text is written in (Arabic script tagged "en", Latin tagged
// "ar") is replaced by the language identified from the text. The
// identification itself is lingua-go's n-gram models, which tell Arabic,
// Farsi and Urdu apart and know Albanian; its models for a script are
// loaded only when text in that script is first identified.
package langid

import (
	"strings"
	"sync"
	"unicode"

	lingua "github.com/pemistahl/lingua-go"
	"golang.org/x/text/language"
)

const (
	// minLetters is the least number of letters a text needs for its
	// script to count: a short title may be all brand names.
	minLetters = 12
	// minShare is the share of the letters the main script must have for
	// the text to count as written in it.
	minShare = 0.6
	// maxRunes bounds what is handed to the models: a summary's opening
	// says as much about its language as the whole article.
	maxRunes = 1000
	// Within one script a declaration is overruled only on overwhelming
	// evidence (an Albanian edition declaring en-US): a text of at least
	// sameScriptLetters letters, the models' confidence in another
	// language at least sameScriptSure and in the declared one at most
	// sameScriptDoubt. Close languages (Bokmål and Danish, Croatian and
	// Serbian) never score that far apart.
	sameScriptLetters = 40
	sameScriptSure    = 0.99
	sameScriptDoubt   = 0.001
)

// Identifier identifies languages; it is safe for concurrent use and
// cheap to create: the models load on first use.
type Identifier struct {
	once     sync.Once
	detector lingua.LanguageDetector
}

// New returns an Identifier.
func New() *Identifier { return &Identifier{} }

func (id *Identifier) models() lingua.LanguageDetector {
	id.once.Do(func() {
		// Trigram models only: as accurate as the full set on a
		// paragraph of text, at a twentieth of the memory (about 40 MB
		// with Arabic and Latin script models loaded, against 800 MB).
		id.detector = lingua.NewLanguageDetectorBuilder().
			FromAllLanguages().
			WithLowAccuracyMode().
			WithMinimumRelativeDistance(0.05).
			Build()
	})
	return id.detector
}

// Identify returns the language of text (an ISO 639-1 code where there is
// one) when declared does not fit the script text is written in, when
// nothing was declared, or when the text is overwhelmingly in another
// language of the same script. It reports false when declared fits, when
// the text has too few letters to tell, or when the models cannot decide.
func (id *Identifier) Identify(declared, text string) (string, bool) {
	script, ok := Script(text)
	if !ok {
		return "", false
	}
	text = prefixRunes(text, maxRunes)
	if declared != "" && Fits(declared, script) {
		return id.overrule(declared, text)
	}
	lang, ok := id.models().DetectLanguageOf(text)
	if !ok {
		return "", false
	}
	code := isoCode(lang)
	// The models' answer must be written in the script they were shown:
	// a guess in another script is no better than the declaration.
	if code == "" || !Fits(code, script) {
		return "", false
	}
	if declared != "" && primary(declared) == code {
		return "", false
	}
	return code, true
}

// overrule returns the language of a text whose script fits declared when
// the evidence against declared is overwhelming.
func (id *Identifier) overrule(declared, text string) (string, bool) {
	known := lingua.GetLanguageFromIsoCode639_1(lingua.GetIsoCode639_1FromValue(primary(declared)))
	if known == lingua.Unknown {
		known = lingua.GetLanguageFromIsoCode639_3(lingua.GetIsoCode639_3FromValue(primary(declared)))
	}
	// A language the models do not know always scores zero.
	if known == lingua.Unknown || letters(text) < sameScriptLetters {
		return "", false
	}
	values := id.models().ComputeLanguageConfidenceValues(text)
	if len(values) == 0 || values[0].Language() == known || values[0].Value() < sameScriptSure {
		return "", false
	}
	// The values list every language the models consider; one they did
	// not consider for this script has no confidence at all.
	for _, v := range values {
		if v.Language() == known && v.Value() > sameScriptDoubt {
			return "", false
		}
	}
	return isoCode(values[0].Language()), true
}

func isoCode(lang lingua.Language) string {
	if c := lang.IsoCode639_1(); c != lingua.UnknownIsoCode639_1 {
		return strings.ToLower(c.String())
	}
	if c := lang.IsoCode639_3(); c != lingua.UnknownIsoCode639_3 {
		return strings.ToLower(c.String())
	}
	return ""
}

func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// scripts are the writing systems told apart, by ISO 15924 code.
var scripts = []struct {
	code  string
	table *unicode.RangeTable
}{
	{"Latn", unicode.Latin}, {"Arab", unicode.Arabic}, {"Hebr", unicode.Hebrew},
	{"Cyrl", unicode.Cyrillic}, {"Grek", unicode.Greek}, {"Hani", unicode.Han},
	{"Hira", unicode.Hiragana}, {"Kana", unicode.Katakana}, {"Hang", unicode.Hangul},
	{"Deva", unicode.Devanagari}, {"Beng", unicode.Bengali}, {"Guru", unicode.Gurmukhi},
	{"Gujr", unicode.Gujarati}, {"Taml", unicode.Tamil}, {"Telu", unicode.Telugu},
	{"Knda", unicode.Kannada}, {"Mlym", unicode.Malayalam}, {"Sinh", unicode.Sinhala},
	{"Thai", unicode.Thai}, {"Laoo", unicode.Lao}, {"Khmr", unicode.Khmer},
	{"Mymr", unicode.Myanmar}, {"Geor", unicode.Georgian}, {"Armn", unicode.Armenian},
	{"Ethi", unicode.Ethiopic}, {"Syrc", unicode.Syriac}, {"Thaa", unicode.Thaana},
	{"Tibt", unicode.Tibetan},
}

// Script returns the script most of the letters of text are written in
// (an ISO 15924 code), and false when the text has too few letters or no
// script holds most of them.
func Script(text string) (string, bool) {
	counts := map[string]int{}
	letters := 0
	for i, r := range text {
		if i > 4*maxRunes {
			break
		}
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		for _, s := range scripts {
			if unicode.Is(s.table, r) {
				counts[s.code]++
				break
			}
		}
	}
	if letters < minLetters {
		return "", false
	}
	// Japanese mixes kanji with kana; Korean may carry hanja.
	if counts["Hira"]+counts["Kana"] > 0 {
		counts["Jpan"] = counts["Hira"] + counts["Kana"] + counts["Hani"]
	}
	if counts["Hang"] > 0 {
		counts["Kore"] = counts["Hang"] + counts["Hani"]
	}
	best, n := "", 0
	for code, c := range counts {
		if c > n || (c == n && code < best) {
			best, n = code, c
		}
	}
	if float64(n) < minShare*float64(letters) {
		return "", false
	}
	return best, true
}

// multiScript are languages commonly written in more than one script, so
// that no script contradicts them unless their tag names one.
var multiScript = map[string]bool{
	"sr": true, "bs": true, "sh": true, "uz": true, "az": true, "kk": true, "ky": true,
	"tk": true, "tt": true, "ku": true, "pa": true, "sd": true, "ks": true, "ms": true,
	"mn": true, "ug": true, "ha": true, "so": true,
}

// Fits reports whether a text in script can be in the language of tag.
// A tag that is not a language fits nothing.
func Fits(tag, script string) bool {
	t, err := language.Parse(tag)
	if err != nil || t == language.Und {
		return false
	}
	base, _ := t.Base()
	s, conf := t.Script()
	explicit := conf == language.Exact
	if !explicit && multiScript[base.String()] {
		return true
	}
	want := s.String()
	switch {
	case want == script:
		return true
	case (want == "Hans" || want == "Hant") && script == "Hani":
		return true
	case want == "Jpan" && (script == "Jpan" || script == "Hani"):
		return true
	case want == "Kore" && (script == "Kore" || script == "Hang"):
		return true
	}
	return false
}

// primary returns the primary language subtag of tag, lower case.
func primary(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return strings.ToLower(tag)
	}
	base, _ := t.Base()
	return base.String()
}

// prefixRunes returns at most n runes of s.
func prefixRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
