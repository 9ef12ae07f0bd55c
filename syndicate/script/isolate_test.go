package script

import (
	"strings"
	"testing"
)

// showMarks makes the invisible marks readable in test tables.
var showMarks = strings.NewReplacer(string(RLM), "{RLM}", string(LRI), "{LRI}", string(PDI), "{PDI}", "\u2060", "{WJ}")

// readMarks turns a readable table entry back into text.
var readMarks = strings.NewReplacer("{RLM}", string(RLM), "{LRI}", string(LRI), "{PDI}", string(PDI), "{WJ}", "\u2060")

func TestLayoutText(t *testing.T) {
	telegram := Layout{}
	mastodon := Layout{URLTakesMarks: true}
	tests := []struct {
		name   string
		layout Layout
		in     string
		want   string
	}{
		{"arabic only", telegram, "سلام عليكم", "{RLM}سلام عليكم"},
		{"latin words", telegram, "گزارش BBC Persian امروز", "{RLM}گزارش {LRI}BBC Persian{PDI} امروز"},
		{"percent", telegram, "بنسبة 30% خلال", "{RLM}بنسبة {LRI}30%{PDI} خلال"},
		{"thousands and decimals", telegram, "دفع 1,250 دولاراً أي 12.5% من", "{RLM}دفع {LRI}1,250{PDI} دولاراً أي {LRI}12.5%{PDI} من"},
		{"arabic percent sign", telegram, "بنسبة 40٪ تقريباً", "{RLM}بنسبة {LRI}40٪{PDI} تقريباً"},
		{"currency and phone signs", telegram, "السعر $100 والهاتف +98 21 1234", "{RLM}السعر {LRI}$100{PDI} والهاتف {LRI}+98 21 1234{PDI}"},
		{"brackets stay outside", telegram, "(April–July 2025) پرداخت", "{RLM}({LRI}April–July 2025{PDI}) پرداخت"},
		{"hashtags", telegram, "#Iran و #ایران", "{RLM}{LRI}#Iran{PDI} و #ایران"},
		{"hashtag mixing scripts is one run", telegram, "وسم #Iran_ایران و #ایران_Iran هنا", "{RLM}وسم {LRI}#Iran_ایران{PDI} و {LRI}#ایران_Iran{PDI} هنا"},
		{"hashtag with digits", telegram, "وسم #COVID19 و #۱۴۰۳", "{RLM}وسم {LRI}#COVID19{PDI} و #۱۴۰۳"},
		{"sharp after a letter is no hashtag", telegram, "لغة C# وC++ جيدة", "{RLM}لغة {LRI}C#{PDI} و{LRI}C++{PDI} جيدة"},
		{"broken hashtag keeps its joiner", telegram, "خبر #{WJ}news اليوم", "{RLM}خبر {LRI}#{WJ}news{PDI} اليوم"},
		{"mention", telegram, "كتب @user_1@example.org اليوم", "{RLM}كتب {LRI}@user_1@example.org{PDI} اليوم"},
		{"url without sentence end", telegram, "على https://example.org/a.pdf.", "{RLM}على {LRI}https://example.org/a.pdf{PDI}."},
		{"url in brackets", telegram, "(راجع https://en.wikipedia.org/wiki/Foo_(bar)) هنا", "{RLM}(راجع {LRI}https://en.wikipedia.org/wiki/Foo_(bar){PDI}) هنا"},
		{"url with arabic path and question mark", telegram, "هل قرأت https://ar.example.org/مقالة؟", "{RLM}هل قرأت {LRI}https://ar.example.org/مقالة{PDI}؟"},
		{"url is a run of its own", telegram, "شارك: WhatsApp https://wa.me/?text=a", "{RLM}شارك: {LRI}WhatsApp{PDI} {LRI}https://wa.me/?text=a{PDI}"},
		{"hyphen glued to a hebrew word", telegram, "הכנס ב-2025 עם Google", "{RLM}הכנס ב-{LRI}2025{PDI} עם {LRI}Google{PDI}"},
		{"urdu", telegram, "پاکستان میں 2024 کے انتخابات", "{RLM}پاکستان میں {LRI}2024{PDI} کے انتخابات"},
		{"syriac", telegram, "ܫܠܡܐ ABC", "{RLM}ܫܠܡܐ {LRI}ABC{PDI}"},
		{"persian digits need no isolate", telegram, "سال ۱۴۰۳", "{RLM}سال ۱۴۰۳"},
		{"keycap emoji stays whole", telegram, "الخطوة 1️⃣ ثم 2", "{RLM}الخطوة 1️⃣ ثم {LRI}2{PDI}"},
		{"emoji inside a latin run", telegram, "قال Hello 👋 World اليوم", "{RLM}قال {LRI}Hello 👋 World{PDI} اليوم"},
		{"combining mark stays with its letter", telegram, "مقهى Cafe\u0301 هنا", "{RLM}مقهى {LRI}Cafe\u0301{PDI} هنا"},
		{"albanian line", telegram, "Lajme nga Tirana", "{RLM}{LRI}Lajme nga Tirana{PDI}"},
		{"lines and blank lines", telegram, "سطر أول\nLine two\n\nسطر 3", "{RLM}سطر أول\n{RLM}{LRI}Line two{PDI}\n\n{RLM}سطر {LRI}3{PDI}"},
		// Mastodon takes a mark after a URL into the link: none follows one.
		{"mastodon: url ends the line", mastodon, "https://news.example.org/ar/x/", "{RLM}{LRI}https://news.example.org/ar/x/"},
		{"mastodon: url and full stop end the line", mastodon, "على https://example.org/a.pdf.", "{RLM}على {LRI}https://example.org/a.pdf."},
		{"mastodon: url before arabic stays bare", mastodon, "النص https://example.org/a/ للاطلاع", "{RLM}النص https://example.org/a/ للاطلاع"},
		{"mastodon: share footer", mastodon, "شارك: WhatsApp https://wa.me/?text=a X https://x.com/b", "{RLM}شارك: {LRI}WhatsApp{PDI} {LRI}https://wa.me/?text=a X https://x.com/b"},
		{"mastodon: numbers and words", mastodon, "بنسبة 30% في IranWire", "{RLM}بنسبة {LRI}30%{PDI} في {LRI}IranWire{PDI}"},
		{"mastodon: url line then text", mastodon, "https://x.org/a\nنص #{WJ}tag", "{RLM}{LRI}https://x.org/a\n{RLM}نص {LRI}#{WJ}tag{PDI}"},
	}
	for _, tt := range tests {
		got := showMarks.Replace(tt.layout.Text(readMarks.Replace(tt.in)))
		if got != tt.want {
			t.Errorf("%s: Text(%q)\n got %q\nwant %q", tt.name, tt.in, got, tt.want)
		}
		// The marks are all that was added.
		if plain := strings.NewReplacer("{RLM}", "", "{LRI}", "", "{PDI}", "").Replace(got); plain != tt.in {
			t.Errorf("%s: text changed besides marks: %q", tt.name, plain)
		}
	}
}
