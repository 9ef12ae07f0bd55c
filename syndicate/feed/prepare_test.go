package feed

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate"

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
		{"garbled declaration after comments", "<!-- a -->\n<!-- b -->\n" + `<?xml?xml version="1.0" encoding="windows-1251" ??>` + mustEncode(t, charmap.Windows1251, item("Цитата дня")), "", "Цитата дня", ""},
		{"declaration without its question mark, code in CDATA", `<?xml version="1.0" encoding="windows-1251">` + mustEncode(t, charmap.Windows1251, item("Привет <![CDATA[a ?> b]]>")), "", "Привет a ?> b", ""},
		{"doubled declaration naming the encoding second", `<?xml version="1.0"?><?xml version="1.0" encoding="windows-1251"?>` + mustEncode(t, charmap.Windows1251, item("Привет")), "", "Привет", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, salvaged, err := parse([]byte(tt.doc), tt.contentType, tt.lang)
			if err != nil || salvaged != nil {
				t.Fatalf("parse: %v (salvaged %+v)", err, salvaged)
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
		if _, _, err := parse([]byte(doc), "", ""); err == nil || !strings.HasPrefix(err.Error(), "parse feed: ") {
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

func TestFlattenDeep(t *testing.T) {
	nest := func(n int, open, text, close string) string {
		return strings.Repeat(open, n) + text + strings.Repeat(close, n)
	}
	tests := []struct {
		name, doc string
		// want is the document after flattening; empty: unchanged.
		want string
	}{
		{"shallow document", `<rss><channel><item><title>t</title></item></channel></rss>`, ""},
		{"at the depth", nest(maxDepth, "<a>", "x", "</a>"), ""},
		{"deeper elements lose their tags, not their text",
			nest(maxDepth+3, `<x:a k="v">`, "deep text", "</x:a>"), nest(maxDepth, `<x:a k="v">`, "deep text", "</x:a>")},
		{"empty elements beyond the depth",
			nest(maxDepth, "<a>", "<b/><c k='/>'/>", "</a>"), nest(maxDepth, "<a>", "", "</a>")},
		{"tags left open inside an element close with it",
			"<root>" + strings.Repeat("<d><p>x<br></d>", 2*maxDepth) + "</root>", ""},
		{"end tags that close nothing",
			nest(maxDepth+1, "<a>", strings.Repeat("</b>", 3*maxDepth), "</a>"), nest(maxDepth, "<a>", strings.Repeat("</b>", 3*maxDepth), "</a>")},
		{"markup in CDATA, comments, attributes and the doctype is text",
			`<!DOCTYPE rss [<!ENTITY e "<a>">]><rss a="` + strings.Repeat("<a>", 300) + `"><![CDATA[` + strings.Repeat("<a>", 300) +
				`]]><!--` + strings.Repeat("<a>", 300) + `--><?pi ` + strings.Repeat("<a>", 300) + `?></rss>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.doc
			}
			if got := string(flattenDeep([]byte(tt.doc))); got != want {
				t.Errorf("flattenDeep = %.300q…, want %.300q…", got, want)
			}
		})
	}
}

// nestedFeed has an item whose extension element nests depth deep, and
// an ordinary item after it.
func nestedFeed(depth int) []byte {
	return []byte(`<rss version="2.0" xmlns:x="https://x.example/ns"><channel><title>t</title>` +
		`<item><title>Nested</title><guid>nested</guid>` + strings.Repeat("<x:deep>", depth) + "deep" + strings.Repeat("</x:deep>", depth) + `</item>` +
		`<item><title>Ordinary</title><guid>ordinary</guid><description>After the nest.</description></item></channel></rss>`)
}

// TestDeepNestingParses reads a feed with extension elements nested a
// hundred thousand deep: both items come out, and reading them allocates
// a few times the document, not the hundred times the parser alone would.
func TestDeepNestingParses(t *testing.T) {
	doc := nestedFeed(100_000)
	alloc := allocated(func() {
		items := normaliseDoc(t, string(doc))
		if len(items) != 2 || items[0].Title != "Nested" || items[1].Summary != "After the nest." {
			t.Errorf("items %+v", items)
		}
	})
	if limit := uint64(16 * len(doc)); alloc > limit {
		t.Errorf("reading a %d-byte feed allocated %d bytes, want at most %d", len(doc), alloc, limit)
	}
}

// billionLaughs is a feed whose DOCTYPE defines entities that would expand
// to 3 GB, and external entities naming a local file and a URL.
func billionLaughs() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n" + `<!DOCTYPE rss [<!ENTITY lol "lol">`)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	b.WriteString(`<!ENTITY local SYSTEM "file:///etc/passwd"><!ENTITY remote SYSTEM "https://entities.example/x">]>`)
	b.WriteString(`<rss version="2.0"><channel><title>&lol9;</title>` +
		`<item><title>Laughs &lol9;</title><guid>laughs</guid><description>&lol9; &lol8;</description></item>` +
		`<item><title>External [&local;] [&remote;]</title><guid>external</guid></item></channel></rss>`)
	return []byte(strings.ReplaceAll(b.String(), "&lol0;", "&lol;"))
}

// TestBillionLaughs: the parser (encoding/xml, not strict) expands no
// entity a document defines, so the references stay as text, nothing is
// read from outside, and parsing allocates little.
func TestBillionLaughs(t *testing.T) {
	doc := billionLaughs()
	var items []syndicate.Item
	alloc := allocated(func() { items = normaliseDoc(t, string(doc)) })
	if alloc > 16<<20 {
		t.Errorf("parsing allocated %d bytes", alloc)
	}
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	for _, it := range items {
		if strings.Contains(it.Title+it.Summary, "lollol") || strings.Contains(it.Title, "root:") || len(it.Title) > 100 {
			t.Errorf("an entity was expanded: %q %q", it.Title, it.Summary)
		}
	}
	if items[0].Title != "Laughs &lol9;" || items[1].Title != "External [&local;] [&remote;]" {
		t.Errorf("titles %q, %q", items[0].Title, items[1].Title)
	}
}

// allocated reports the bytes f allocates; the tests of this package do
// not run in parallel, so nothing else allocates meanwhile.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func BenchmarkParseBillionLaughs(b *testing.B) {
	doc := billionLaughs()
	for b.Loop() {
		if _, _, err := parse(doc, "", ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDeepNesting(b *testing.B) {
	doc := nestedFeed(100_000)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, _, err := parse(doc, "", ""); err != nil {
			b.Fatal(err)
		}
	}
}
