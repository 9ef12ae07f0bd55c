package script

import "testing"

func TestClean(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		keepNewlines bool
		want         string
	}{
		{"bidi controls", "a\u202Eb\u2066c\u2069d\u200Fe\u200Ef\u061Cg\u202Ah", false, "abcdefgh"},
		{"invisible characters", "zero\u200Bwidth\u2060joiner\uFEFFbom soft\u00ADhyphen", false, "zerowidthjoinerbom softhyphen"},
		{"deprecated format characters", "a\u206Ab\u206Fc", false, "abc"},
		{"persian non-joiner kept", "می\u200Cخواهم", false, "می\u200Cخواهم"},
		{"emoji joiner kept", "👩\u200D👩\u200D👧\u200D👦 family", false, "👩\u200D👩\u200D👧\u200D👦 family"},
		{"flag tag sequence kept", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", false, "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"},
		{"invalid UTF-8 and replacement", "ok\xff\xfeok\uFFFD!", false, "okok!"},
		{"control characters", "a\x00b\x07c\x1bd\u0080e", false, "abcde"},
		{"private use, noncharacters", "a\uE000b\U000F0000c\uFFFEd\uFDD0e", false, "abcde"},
		{"tabs and no-break spaces", "  a \t b\u00A0\u00A0c \v d\f ", false, "a b c d"},
		{"newlines become spaces", "line one\nline two\r\nthree\rfour", false, "line one line two three four"},
		{"newlines kept", "line one\nline two\r\nthree\rfour", true, "line one\nline two\nthree\nfour"},
		{"paragraphs", "\n\n p1  line1 \r\np1 line2\r\n\r\n\r\n  \n p2 \n\n", true, "p1 line1\np1 line2\n\np2"},
		{"line and paragraph separators", "a\u2028b\u2029c\u0085d", true, "a\nb\n\nc\nd"},
		{"line and paragraph separators in one line", "a\u2028b\u2029c", false, "a b c"},
		{"arabic with diacritics", "مَرْحَبًا  بِكُمْ", false, "مَرْحَبًا بِكُمْ"},
		{"hebrew with points", "שָׁלוֹם", false, "שָׁלוֹם"},
		{"urdu", "اردو\u200Cزبان", false, "اردو\u200Cزبان"},
		{"syriac", "ܫܠܵܡܵܐ", false, "ܫܠܵܡܵܐ"},
		{"albanian with combining mark", "Shqipe\u0308ri", false, "Shqipe\u0308ri"},
		{"override disguising a link", "https://example.org/\u202Egnp.exe", false, "https://example.org/gnp.exe"},
		{"nothing left", " \u200B\u202E\t", true, ""},
	}
	for _, tt := range tests {
		if got := Clean(tt.in, tt.keepNewlines); got != tt.want {
			t.Errorf("%s: Clean(%q, %v) = %q, want %q", tt.name, tt.in, tt.keepNewlines, got, tt.want)
		}
	}
}
