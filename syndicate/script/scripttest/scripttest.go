// Package scripttest holds the one table of direction cases that both
// platforms' renderers are tested against, so that Telegram and Mastodon
// cannot drift apart on which posts read right to left and how their
// left-to-right runs are isolated.
package scripttest

import (
	"strings"

	"github.com/syndicate-bot/syndicate/syndicate/script"
)

// DirectionCase is an article and the title and summary lines a renderer
// must show for it, with marks written as {RLM}, {LRI} and {PDI}.
type DirectionCase struct {
	Name, Lang, Title, Summary string
	// Want is the title line, a blank line and the summary line, as shown.
	Want string
	// RTL says the post reads right to left.
	RTL bool
}

const (
	arTitle   = "إضراب 3000 عامل في Abadan Refinery"
	arSummary = "قال متحدث لموقع IranWire إن الأجور ارتفعت 40%."
	arWant    = "{RLM}إضراب {LRI}3000{PDI} عامل في {LRI}Abadan Refinery{PDI}\n\n{RLM}قال متحدث لموقع {LRI}IranWire{PDI} إن الأجور ارتفعت {LRI}40%{PDI}."
	faTitle   = "اعتصاب کارگران Haft Tappeh وارد روز 20 شد"
	faSummary = "به گزارش BBC Persian، ۳۰۰ کارگر در 2026 دستمزد 1,250 دلاری خواستند."
	faWant    = "{RLM}اعتصاب کارگران {LRI}Haft Tappeh{PDI} وارد روز {LRI}20{PDI} شد\n\n{RLM}به گزارش {LRI}BBC Persian{PDI}، ۳۰۰ کارگر در {LRI}2026{PDI} دستمزد {LRI}1,250{PDI} دلاری خواستند."
)

// DirectionCases: the text, not the feed's language tag, decides the
// direction (Arabic and Farsi editions often declare en-US); the tag
// decides only for text without letters.
var DirectionCases = []DirectionCase{
	{"arabic tagged en-US", "en-US", arTitle, arSummary, arWant, true},
	{"arabic untagged", "", arTitle, arSummary, arWant, true},
	{"farsi tagged en-US", "en-US", faTitle, faSummary, faWant, true},
	{"farsi untagged", "", faTitle, faSummary, faWant, true},
	{"english tagged ar", "ar", "Teachers strike enters 3rd week", "Talks stall over pay (12%).", "Teachers strike enters 3rd week\n\nTalks stall over pay (12%).", false},
	{"syriac tagged syr", "syr", "ܫܠܡܐ 2026", "", "{RLM}ܫܠܡܐ {LRI}2026{PDI}", true},
	{"syr tag, no letters", "syr", "2026", "", "{RLM}{LRI}2026{PDI}", true},
}

// ShowMarks writes the direction marks of s visibly, as the cases do.
func ShowMarks(s string) string {
	return strings.NewReplacer(string(script.RLM), "{RLM}", string(script.LRI), "{LRI}", string(script.PDI), "{PDI}").Replace(s)
}
