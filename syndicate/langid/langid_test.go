package langid

import "testing"

// Texts of the kind the site publishes: a title and the opening of a summary.
const (
	arabic   = "الحكومة تعلن عن خطة جديدة لدعم المزارعين في المناطق الريفية. وقال الوزير إن التمويل سيبدأ الشهر المقبل بمبلغ 250 مليون دولار."
	farsi    = "دولت برنامه جدیدی برای حمایت از کشاورزان در مناطق روستایی اعلام کرد. وزیر گفت که بودجه از ماه آینده پرداخت می‌شود."
	urdu     = "حکومت نے دیہی علاقوں میں کسانوں کی مدد کے لیے نئے منصوبے کا اعلان کیا ہے۔ وزیر نے کہا کہ فنڈز اگلے مہینے سے جاری ہوں گے۔"
	albanian = "Qeveria njofton një plan të ri për të mbështetur fermerët në zonat rurale. Ministri tha se financimi do të fillojë muajin e ardhshëm."
	english  = "The government announces a new plan to support farmers in rural areas. The minister said funding will start next month."
	hebrew   = "הממשלה הודיעה על תוכנית חדשה לתמיכה בחקלאים באזורים הכפריים. השר אמר כי המימון יתחיל בחודש הבא."
	russian  = "Правительство объявило о новом плане поддержки фермеров в сельских районах. Министр сказал, что финансирование начнется в следующем месяце."
)

func TestIdentify(t *testing.T) {
	id := New()
	tests := []struct {
		name, declared, text string
		want                 string
		changed              bool
	}{
		{"arabic tagged en-US", "en-US", arabic, "ar", true},
		{"farsi tagged en-US", "en-US", farsi, "fa", true},
		{"urdu tagged en", "en", urdu, "ur", true},
		{"farsi tagged ar: same script, overwhelming evidence", "ar", farsi, "fa", true},
		{"arabic tagged fa: same script, overwhelming evidence", "fa", arabic, "ar", true},
		{"albanian tagged ar", "ar", albanian, "sq", true},
		{"albanian tagged fa-IR", "fa-IR", albanian, "sq", true},
		{"albanian tagged en-US: same script, overwhelming evidence", "en-US", albanian, "sq", true},
		{"english tagged sq", "sq", english, "en", true},
		{"short albanian title tagged en is trusted", "en", "Protesta në Tiranë për liri të shtypit", "", false},
		{"english title with names tagged en", "en", "Apple unveils new iPhone at Cupertino event in California", "", false},
		{"english about albania tagged en", "en", "Tirana summit ends with a joint declaration on Kosovo and the Western Balkans, officials say.", "", false},
		{"bokmål tagged nb", "nb", "Regjeringen har lansert en ny plan for å støtte bønder i distriktene. Statsråden sa at pengene kommer neste måned.", "", false},
		{"bokmål tagged no", "no", "Regjeringen har lansert en ny plan for å støtte bønder i distriktene. Statsråden sa at pengene kommer neste måned.", "", false},
		{"croatian tagged bs (close languages)", "bs", "Vlada je predstavila novi plan za potporu poljoprivrednicima u ruralnim područjima. Ministar je rekao da će novac stići idućeg mjeseca.", "", false},
		{"scots gaelic (unknown to the models) is trusted", "gd", "Tha an riaghaltas air plana ùr ainmeachadh gus taic a thoirt do thuathanaich ann an sgìrean dùthchail.", "", false},
		{"english tagged he", "he", english, "en", true},
		{"hebrew tagged en", "en-GB", hebrew, "he", true},
		{"russian tagged en", "en", russian, "ru", true},
		{"arabic tagged ar", "ar", arabic, "", false},
		{"arabic tagged ar-EG", "ar-EG", arabic, "", false},
		{"farsi undeclared", "", farsi, "fa", true},
		{"albanian undeclared", "", albanian, "sq", true},
		{"too short to tell", "en", "خبر عاجل", "", false},
		{"numbers and a brand", "ar", "iPhone 17 — 2026", "", false},
		{"serbian latin tagged sr", "sr", "Vlada je najavila novi plan za podršku poljoprivrednicima u ruralnim oblastima.", "", false},
		{"not a tag", "english", arabic, "ar", true},
	}
	for _, tt := range tests {
		got, changed := id.Identify(tt.declared, tt.text)
		if got != tt.want || changed != tt.changed {
			t.Errorf("%s: Identify(%q) = %q, %v; want %q, %v", tt.name, tt.declared, got, changed, tt.want, tt.changed)
		}
	}
}

func TestScript(t *testing.T) {
	tests := []struct {
		text string
		want string
		ok   bool
	}{
		{arabic, "Arab", true},
		{farsi, "Arab", true},
		{albanian, "Latn", true},
		{hebrew, "Hebr", true},
		{russian, "Cyrl", true},
		{"日本語のテキストと漢字がたくさんあります", "Jpan", true},
		{"한국어 문장입니다 그리고 더 많은 글자가 있습니다", "Hang", true},
		// Half Arabic, half Latin: no script holds most letters.
		{"Summit in Tirana ends قمة تيرانا تنتهي اليوم", "", false},
		{"short", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := Script(tt.text)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Script(%.30q) = %q, %v; want %q, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFits(t *testing.T) {
	tests := []struct {
		tag, script string
		want        bool
	}{
		{"en", "Latn", true}, {"en-US", "Arab", false}, {"ar", "Arab", true}, {"fa-IR", "Arab", true},
		{"ur", "Arab", true}, {"ckb", "Arab", true}, {"sq", "Latn", true}, {"he", "Hebr", true},
		{"iw", "Hebr", true}, {"syr", "Syrc", true}, {"zh", "Hani", true}, {"zh-Hant", "Hani", true},
		{"ja", "Jpan", true}, {"ko", "Kore", true}, {"sr", "Latn", true}, {"sr", "Cyrl", true},
		{"sr-Cyrl", "Latn", false}, {"ku", "Arab", true}, {"ar", "Latn", false},
		{"und", "Latn", false}, {"", "Latn", false}, {"xx-bad-tag-!", "Latn", false},
	}
	for _, tt := range tests {
		if got := Fits(tt.tag, tt.script); got != tt.want {
			t.Errorf("Fits(%q, %q) = %v, want %v", tt.tag, tt.script, got, tt.want)
		}
	}
}

// BenchmarkIdentify measures the cost per new item: a misdeclared Farsi
// text (identified), a fitting Arabic one (script check only) and an
// Albanian one tagged en (same-script confidence).
func BenchmarkIdentify(b *testing.B) {
	id := New()
	for _, bc := range []struct{ name, declared, text string }{
		{"farsi-tagged-en", "en-US", farsi},
		{"arabic-tagged-ar", "ar", arabic},
		{"albanian-tagged-en", "en", albanian},
		{"english-tagged-en", "en", english},
	} {
		id.Identify(bc.declared, bc.text) // models loaded outside the timing
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				id.Identify(bc.declared, bc.text)
			}
		})
	}
}
