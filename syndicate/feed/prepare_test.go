package feed

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func mustEncode(t *testing.T, cm *charmap.Charmap, s string) string {
	t.Helper()
	out, err := cm.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRepairs feeds broken documents through parse and checks the title
// of the first item, which each repair must get right.
func TestRepairs(t *testing.T) {
	item := func(title string) string {
		return `<rss version="2.0"><channel><title>c</title><item><title>` + title + `</title><guid>g</guid></item></channel></rss>`
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(`<?xml version="1.0" encoding="utf-16"?>` + item("UTF-16 ✓"))
	if err != nil {
		t.Fatal(err)
	}
	withLanguage := func(lang, title string) string {
		return `<rss version="2.0"><channel><title>c</title><language>` + lang + `</language><item><title>` + title + `</title><guid>g</guid></item></channel></rss>`
	}
	tests := []struct {
		name, doc, contentType, want string
		// lang is the operator's language for the feed.
		lang string
	}{
		{"UTF-8 BOM", "\xEF\xBB\xBF" + `<?xml version="1.0" encoding="utf-8"?>` + item("Bom ✓"), "", "Bom ✓", ""},
		{"real UTF-16 with BOM", utf16, "", "UTF-16 ✓", ""},
		{"newline before the declaration", "\n\n" + `<?xml version="1.0" encoding="UTF-8"?>` + item("ok"), "", "ok", ""},
		{"declaration after a comment", `<!-- generated -->` + "\n" + `<?xml version="1.0"?>` + item("ok"), "", "ok", ""},
		{"junk before the document", "Warning: deprecated in /var/www/x.php on line 3\n" + `<?xml version="1.0"?>` + item("ok"), "", "ok", ""},
		{"junk after the root", `<?xml version="1.0"?>` + item("ok") + `<script src="/cdn-cgi/x.js"></script><p>`, "", "ok", ""},
		{"second document after the root", item("first") + item("second"), "", "first", ""},
		{"windows-1251 declared", `<?xml version="1.0" encoding="windows-1251"?>` + mustEncode(t, charmap.Windows1251, item("Цитата дня")), "", "Цитата дня", ""},
		{"windows-1255 declared", `<?xml version="1.0" encoding="windows-1255"?>` + mustEncode(t, charmap.Windows1255, item("שלום עולם")), "", "שלום עולם", ""},
		{"windows-1256 declared", `<?xml version="1.0" encoding="windows-1256"?>` + mustEncode(t, charmap.Windows1256, item("مرحبا €")), "", "مرحبا €", ""},
		{"iso-8859-1 declared", `<?xml version="1.0" encoding="ISO-8859-1"?>` + mustEncode(t, charmap.ISO8859_1, item("Grüße, café")), "", "Grüße, café", ""},
		{"iso-8859-1 declared but UTF-8", `<?xml version="1.0" encoding="iso-8859-1"?>` + item("Grüße, café"), "", "Grüße, café", ""},
		{"utf-16 declared but UTF-8", `<?xml version="1.0" encoding="utf-16"?>` + item("déclaré"), "", "déclaré", ""},
		{"no declaration, latin-1 bytes", mustEncode(t, charmap.Windows1252, item("être à l’école")), "", "être à l’école", ""},
		{"charset from the HTTP header", mustEncode(t, charmap.Windows1251, item("Привет")), "application/rss+xml; charset=windows-1251", "Привет", ""},
		{"declaration beats a wrong header", `<?xml version="1.0" encoding="windows-1251"?>` + mustEncode(t, charmap.Windows1251, item("Привет")), "text/xml; charset=utf-8", "Привет", ""},
		{"mostly UTF-8 with a stray byte", item("naïve café \xff résumé"), "", "naïve café \uFFFD résumé", ""},
		{"unknown charset label", `<?xml version="1.0" encoding="x-made-up"?>` + item("plain"), "", "plain", ""},
		{"HTML entities", item("Re&colon; a&nbsp;b &hellip; &mdash; &eacute;"), "", "Re: a\u00a0b … — é", ""},
		{"bare ampersand", item("Tom & Jerry & co"), "", "Tom & Jerry & co", ""},
		{"control characters", item("a\x01b\x0bc"), "", "abc", ""},
		{"non-characters", item("a\uFFFEb\uFFFFc"), "", "abc", ""},
		{"leading whitespace, no declaration", "  \r\n\t" + item("ok"), "", "ok", ""},
		{"declared UTF-8, windows-1251 bytes, operator's language", `<?xml version="1.0" encoding="UTF-8"?>` + mustEncode(t, charmap.Windows1251, item("Рабочие бастуют")), "", "Рабочие бастуют", "ru"},
		{"declared UTF-8, windows-1256 bytes, feed's language", `<?xml version="1.0" encoding="utf-8"?>` + mustEncode(t, charmap.Windows1256, withLanguage("ar-EG", "إضراب العمال")), "", "إضراب العمال", ""},
		{"no label, windows-1256 bytes, operator's Farsi", mustEncode(t, charmap.Windows1256, item("اعتصاب کارگران")), "", "اعتصاب کارگران", "fa-IR"},
		{"operator's language beats the feed's", mustEncode(t, charmap.Windows1251, withLanguage("en", "Привет")), "", "Привет", "ru"},
		{"no label, language without a legacy default", mustEncode(t, charmap.Windows1252, withLanguage("sq", "Shqipëri")), "", "Shqipëri", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parse([]byte(tt.doc), tt.contentType, tt.lang)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(f.Items) == 0 {
				t.Fatal("no items")
			}
			if got := cleanLine(f.Items[0].Title); got != tt.want {
				t.Fatalf("title %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnrepairable(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":          "",
		"html page":      "<!doctype html><html><body>hello</body></html>",
		"truncated":      `<rss version="2.0"><channel><title>t</title><item><title><![CD`,
		"plain text":     "Service unavailable",
		"broken json":    `{"version": "https://jsonfeed.org/version/1.1", "items": [`,
		"wrong root tag": `<?xml version="1.0"?><urlset><url><loc>https://x.example/</loc></url></urlset>`,
	} {
		if _, err := parse([]byte(doc), "", ""); err == nil || !strings.HasPrefix(err.Error(), "parse feed: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestCutDeclarationKeepsStylesheet(t *testing.T) {
	doc := []byte(`<?xml-stylesheet href="/s.xsl"?><?xml version="1.0" encoding="windows-1252"?><rss/>`)
	out, enc := cutDeclaration(doc)
	if enc != "windows-1252" || string(out) != `<?xml-stylesheet href="/s.xsl"?><rss/>` {
		t.Fatalf("%q %q", out, enc)
	}
}
