package script

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLayout checks what must hold for any feed text: cleaning is stable,
// formatting only adds marks, and in a URL-taking layout no mark follows a
// URL.
func FuzzLayout(f *testing.F) {
	for _, s := range []string{
		"گزارش BBC Persian امروز 30% https://example.org/a/.",
		"على https://example.org/a.pdf. و #Iran_ایران @user",
		"الخطوة 1️⃣ ثم C++ و Cafe\u0301 👩\u200D👩\u200D👧",
		"line\nhttps://x.org/a\u2069b\n\n\u202Eevil",
	} {
		f.Add(s)
	}
	marks := strings.NewReplacer(string(RLM), "", string(LRI), "", string(PDI), "")
	f.Fuzz(func(t *testing.T, s string) {
		c := Clean(s, true)
		if again := Clean(c, true); again != c {
			t.Fatalf("Clean is not stable: %q → %q", c, again)
		}
		for _, l := range []Layout{{}, {URLTakesMarks: true}} {
			out := l.Text(c)
			if !utf8.ValidString(out) || marks.Replace(out) != c {
				t.Fatalf("%+v: Text(%q) = %q adds more than marks", l, c, out)
			}
			if !l.URLTakesMarks {
				continue
			}
			for i := 0; i < len(out); i++ {
				if n := urlLength(out, i); n > 0 {
					if r, _ := utf8.DecodeRuneInString(out[i+n:]); r == PDI || r == LRI || r == RLM {
						t.Fatalf("mark after URL %q in %q", out[i:i+n], out)
					}
					i += n - 1
				}
			}
		}
	})
}
