package script

import "testing"

func TestDirection(t *testing.T) {
	tests := []struct {
		name, lang, text string
		want             Dir
	}{
		// The text decides whatever the tag says.
		{"arabic tagged en-US", "en-US", "إضراب عمال النفط في عبادان يدخل يومه الـ 12 رغم تهديدات الشركة", RTL},
		{"farsi untagged", "", "اعتصاب کارگران هفت‌تپه وارد روز ۲۰ شد", RTL},
		{"farsi tagged en", "en", "گزارش BBC Persian درباره حقوق بشر در ایران", RTL},
		{"hebrew", "", "שלום עולם", RTL},
		{"urdu tagged en-US", "en-US", "پاکستان میں 2024 کے انتخابات", RTL},
		{"syriac", "", "ܫܠܡܐ ܥܠܡܐ", RTL},
		{"arabic with diacritics", "", "مَرْحَبًا بِكُمْ", RTL},
		{"english tagged ar", "ar", "Teachers’ strike enters third week as talks stall", LTR},
		{"albanian tagged fa", "fa", "Protesta në Tiranë për liri të shtypit", LTR},
		{"arabic with a long URL", "en", "راجع البيان https://news.example.org/statements/international-solidarity-committee", RTL},
		{"arabic with English names", "", "بيان إلى مجلس حقوق الإنسان UN Human Rights Council", RTL},
		{"english with an arabic word", "ar", "The word حقوق means rights", LTR},
		// Only text without letters, or as many of each, goes by the tag.
		{"numbers, tag ar", "ar", "2026 — 12%", RTL},
		{"emoji, tag fa-IR", "fa-IR", "👩‍👩‍👧‍👦🇦🇱", RTL},
		{"even split, tag fa", "fa", "ab اب", RTL},
		{"even split, tag en", "en", "ab اب", LTR},
		{"numbers, no tag", "", "2026", LTR},
		{"nothing", "", "", LTR},
		{"tag ar-EG", "ar-EG", "", RTL},
		{"tag AR_eg", "AR_eg", "", RTL},
		{"tag fa", "fa", "", RTL},
		{"tag he", "he", "", RTL},
		{"tag iw", "iw", "", RTL},
		{"tag ur", "ur", "", RTL},
		{"tag ps", "ps", "", RTL},
		{"tag ckb", "ckb", "", RTL},
		{"tag sd", "sd", "", RTL},
		{"tag ug", "ug", "", RTL},
		{"tag yi", "yi", "", RTL},
		{"tag dv", "dv", "", RTL},
		{"tag syr", "syr", "", RTL},
		{"tag ara", "ara", "", RTL},
		{"tag fas", "fas", "", RTL},
		{"tag urd", "urd", "", RTL},
		{"tag heb", "heb", "", RTL},
		{"tag az-Arab", "az-Arab", "", RTL},
		{"tag with a broken tail", "ar-!!-x", "", RTL},
		{"tag en-US", "en-US", "", LTR},
		{"tag sq", "sq", "", LTR},
		{"tag ku (Latin)", "ku", "", LTR},
		{"tag sd-Deva", "sd-Deva", "", LTR},
		{"tag unknown", "xx-invalid-!", "", LTR},
	}
	for _, tt := range tests {
		if got := Direction(tt.lang, tt.text); got != tt.want {
			t.Errorf("%s: Direction(%q, %q) = %v, want %v", tt.name, tt.lang, tt.text, got, tt.want)
		}
	}
}
