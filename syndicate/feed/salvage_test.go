package feed

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"
)

// rssItem is a complete RSS item with a GUID and title.
func rssItem(n int) string {
	return fmt.Sprintf("<item><title>t%d</title><guid>g%d</guid><link>https://site.example/%d</link><description><![CDATA[<p>body %d</p>]]></description></item>\n", n, n, n, n)
}

// plainItem is a complete RSS item without CDATA, which cannot close a
// CDATA section left open before it.
func plainItem(n int) string {
	return fmt.Sprintf("<item><title>t%d</title><guid>g%d</guid></item>\n", n, n)
}

func rssItems(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(rssItem(i))
	}
	return b.String()
}

func atomEntry(n int) string {
	return fmt.Sprintf("<entry><id>g%d</id><title>t%d</title><link href=\"/%d\"/><content type=\"html\">&lt;p&gt;body %d&lt;/p&gt;</content></entry>\n", n, n, n, n)
}

const atomHead = `<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://site.example/"><title>Site</title><id>site</id>` + "\n"

const rdfHead = `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://site.example/"><title>Site</title><link>https://site.example/</link>
<items><rdf:Seq><rdf:li rdf:resource="https://site.example/1"/><rdf:li rdf:resource="https://site.example/2"/></rdf:Seq></items></channel>
`

func rdfItem(n int) string {
	return fmt.Sprintf("<item rdf:about=\"https://site.example/%d\"><title>t%d</title><link>https://site.example/%d</link><description>body %d</description></item>\n", n, n, n, n)
}

func jsonItem(n int) string {
	return fmt.Sprintf(`{"id":"g%d","title":"t%d","url":"https://site.example/%d","content_html":"<p>body %d</p>"}`, n, n, n, n)
}

// TestSalvage: a document the parser rejects yields the complete items
// before its damage, or the items after a broken prologue, with a note
// saying so; the item the damage hit is never among them.
func TestSalvage(t *testing.T) {
	rssOpen := rssDoc("", "")
	rssOpen = strings.TrimSuffix(rssOpen, "</channel></rss>")
	tests := []struct {
		name    string
		doc     string
		titles  []string
		dropped bool
	}{
		{"RSS cut inside an item", rssOpen + rssItems(1, 2) + "<item><title>t3</title><guid>g3", []string{"t1", "t2"}, true},
		{"RSS cut inside an end tag", rssOpen + rssItems(1, 2) + strings.TrimSuffix(rssItem(3), "</item>\n") + "</ite", []string{"t1", "t2"}, true},
		{"RSS cut after the last item", rssOpen + rssItems(1, 3), []string{"t1", "t2", "t3"}, true},
		{"RSS cut inside the channel's end tag", rssOpen + rssItems(1, 2) + "</chan", []string{"t1", "t2"}, true},
		{"RSS cut inside the root's end tag", rssOpen + rssItems(1, 2) + "</channel></rs", []string{"t1", "t2"}, true},
		{
			"unclosed CDATA in the last item, the document going on",
			rssOpen + rssItems(1, 2) + "<item><title>t3</title><guid>g3</guid><description><![CDATA[<p>never closed</description></item></channel></rss>",
			[]string{"t1", "t2"}, true,
		},
		{
			"unclosed CDATA in a middle item",
			rssOpen + rssItem(1) + "<item><title><![CDATA[t2</title></item>" + plainItem(3) + "</channel></rss>",
			[]string{"t1"}, true,
		},
		{"Atom cut inside an entry", atomHead + atomEntry(1) + atomEntry(2) + "<entry><id>g3</id><title>t3</title><content type=\"html\">&lt;p&gt;half", []string{"t1", "t2"}, true},
		{"RDF cut inside an item", rdfHead + rdfItem(1) + "<item rdf:about=\"https://site.example/2\"><title>t2</ti", []string{"t1"}, true},
		{
			"doubled declaration after comments, unquoted root attribute",
			"<!-- a -->\n<!-- b -->\n" + `<?xml?xml version="1.0" encoding="UTF-8" ??>` + "\n" + `<rss version=2.0 xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Site</title>` + rssItems(1, 2) + "</channel></rss>",
			[]string{"t1", "t2"}, false,
		},
		{
			"declaration without its question mark",
			`<?xml version="1.0" encoding="UTF-8">` + "\n" + `<rss version=2.0><channel><title>Site</title>` + rssItems(1, 1) + "</channel></rss>",
			[]string{"t1"}, false,
		},
		{
			"an HTML warning before the root",
			"<br />\n<b>Warning</b>: Undefined index in <b>/srv/feed.php</b> on line <b>12</b><br />\n" + rssDoc("", rssItems(1, 2)),
			[]string{"t1", "t2"}, false,
		},
		{
			"prefixed root, broken attributes, cut inside an item",
			`<rss:rss version=2.0 a='x"y' b=c<d xmlns:rss="http://backend.userland.com/rss2" "junk"><channel><title>Site</title>` + rssItems(1, 1) + "<item><title>t2",
			[]string{"t1"}, true,
		},
		{
			"broken root, an item without its end tag",
			`<rss version=2.0><channel><title>Site</title>` + rssItem(1) + "<item><title>t2</title><guid>g2</guid></channel></rss>",
			[]string{"t1"}, true,
		},
		{
			"broken root, the channel without its end tag",
			`<rss version=2.0><channel><title>Site</title>` + rssItems(1, 2) + "</rss>",
			[]string{"t1", "t2"}, true,
		},
		{
			"JSON Feed cut inside an item",
			`{"version":"https://jsonfeed.org/version/1.1","title":"Site","items":[` + jsonItem(1) + "," + jsonItem(2) + `,{"id":"g3","title":"t3","content_html":"<p>ha`,
			[]string{"t1", "t2"}, true,
		},
		{
			"JSON Feed cut after the items",
			`{"version":"https://jsonfeed.org/version/1.1","title":"Site","items":[` + jsonItem(1) + `],"home_page_url":"https://site.examp`,
			[]string{"t1"}, true,
		},
		{
			"JSON Feed with two items arrays, the last one cut",
			`{"version":"https://jsonfeed.org/version/1.1","title":"Site","items":[` + jsonItem(1) + `],"Items":[` + jsonItem(2) + "," + jsonItem(3) + `,{"id":`,
			[]string{"t2", "t3"}, true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, salvaged, err := parse([]byte(tt.doc), "", "")
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if salvaged == nil {
				t.Fatal("parsed without salvage; the case does not test it")
			}
			var titles []string
			for _, it := range f.Items {
				titles = append(titles, it.Title)
			}
			if diff := cmp.Diff(tt.titles, titles); diff != "" {
				t.Errorf("titles (-want +got):\n%s", diff)
			}
			if salvaged.Items != len(f.Items) || salvaged.Dropped != tt.dropped || salvaged.Err == nil {
				t.Errorf("note %+v, want %d items, dropped %v and the parse error", salvaged, len(tt.titles), tt.dropped)
			}
			if f.Title != "Site" {
				t.Errorf("feed title %q: the prologue was lost", f.Title)
			}
		})
	}
}

// TestSalvageNothing: when no item is complete the parse error stands.
func TestSalvageNothing(t *testing.T) {
	rssOpen := strings.TrimSuffix(rssDoc("", ""), "</channel></rss>")
	for name, doc := range map[string]string{
		"cut in the first item":          rssOpen + "<item><title>t1</title>",
		"cut in the prologue":            rssOpen[:len(rssOpen)-20],
		"cut in the root tag":            `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://pu`,
		"unclosed comment before a root": "<!-- never closed\n<?xml?xml version=\"1.0\"??>" + rssDoc("", rssItem(1))[22:],
		"damage before the items":        rssOpen + "<image><url><![CDATA[x</url></image>" + plainItem(1) + "</channel></rss>",
		"an empty root":                  `<?xml version="1.0"?><rss version=2.0/>`,
		"a web page":                     "<!doctype html><html><body><p>rss</p><feed>",
		"JSON cut before the items":      `{"version":"https://jsonfeed.org/version/1.1","title":"Si`,
		"JSON items not an array":        `{"version":"https://jsonfeed.org/version/1.1","items":{"id":"1"}`,
	} {
		if _, salvaged, err := parse([]byte(doc), "", ""); err == nil || salvaged != nil {
			t.Errorf("%s: error %v, salvage %+v; want the parse error alone", name, err, salvaged)
		}
	}
}

// TestSalvageItemCap: a damaged body with more complete items than the cap
// yields the cap's worth.
func TestSalvageItemCap(t *testing.T) {
	rssOpen := strings.TrimSuffix(rssDoc("", ""), "</channel></rss>")
	doc := rssOpen + rssItems(1, maxSalvageItems+10) + "<item><title>cut"
	f, salvaged, err := parse([]byte(doc), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Items) != maxSalvageItems || !salvaged.Dropped {
		t.Fatalf("%d items (dropped %v), want the cap of %d", len(f.Items), salvaged.Dropped, maxSalvageItems)
	}
}

// TestSalvageCutInsideACharacter: a UTF-8 body cut inside a character is
// read as UTF-8, not as a legacy encoding that turns the text of the
// complete items into mojibake.
func TestSalvageCutInsideACharacter(t *testing.T) {
	rssOpen := strings.TrimSuffix(rssDoc("", ""), "</channel></rss>")
	doc := rssOpen + "<item><title>Café</title><guid>g1</guid></item><item><title>5 €"
	for cut := len(doc) - 2; cut < len(doc); cut++ { // inside the three bytes of "€"
		f, _, err := parse([]byte(doc[:cut]), "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Items) != 1 || f.Items[0].Title != "Café" {
			t.Fatalf("cut at %d: items %v", cut, titlesOf(f))
		}
	}
}

func titlesOf(f *gofeed.Feed) []string {
	var out []string
	for _, it := range f.Items {
		out = append(out, it.Title)
	}
	return out
}

// TestSalvageEveryCut cuts a real WordPress feed at many offsets inside its
// third item and all through the rest: each cut yields exactly the
// items whose end tag it keeps, each identical to the same item of the
// whole feed, or the parse error when it keeps none.
func TestSalvageEveryCut(t *testing.T) {
	const name = "wordpress-rss2-dc-atom-links.xml"
	whole, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
	if err != nil {
		t.Fatal(err)
	}
	want, _, salvaged, err := parseFixture(t, name, whole)
	if err != nil || salvaged != nil {
		t.Fatalf("whole feed: %v, salvage %+v", err, salvaged)
	}
	var ends []int // where each item's end tag ends
	for i := 0; ; {
		j := bytes.Index(whole[i:], []byte("</item>"))
		if j < 0 {
			break
		}
		i += j + len("</item>")
		ends = append(ends, i)
	}
	if len(ends) != len(want) || len(ends) < 4 {
		t.Fatalf("%d item end tags for %d items", len(ends), len(want))
	}
	rootEnd := bytes.LastIndex(whole, []byte("</rss>")) + len("</rss>")
	// In the third item, every cut next to markup (a tag, CDATA bracket,
	// entity or quote) and one in 48 bytes of text; in the whole file, one
	// in 199 bytes: a parse per cut bounds how many the test can afford.
	var cuts []int
	for c := ends[1] - 20; c <= ends[2]+20; c++ {
		if strings.ContainsRune(`<>[]&;"`, rune(whole[c-1])) || strings.ContainsRune(`<>[]&;"`, rune(whole[c])) || c%48 == 0 {
			cuts = append(cuts, c)
		}
	}
	for c := 0; c < len(whole); c += 199 {
		cuts = append(cuts, c)
	}
	for _, c := range ends {
		cuts = append(cuts, c-1, c, c+1)
	}
	for _, cut := range cuts {
		complete := 0
		for complete < len(ends) && ends[complete] <= cut {
			complete++
		}
		got, _, salvaged, err := parseFixture(t, name, whole[:cut])
		switch {
		case complete == 0:
			if err == nil {
				t.Errorf("cut at %d: %d items from a feed cut before its first item ended", cut, len(got))
			}
			continue
		case err != nil:
			t.Errorf("cut at %d: %v; want the %d complete items", cut, err, complete)
			continue
		case cut < rootEnd && (salvaged == nil || !salvaged.Dropped || salvaged.Items != complete):
			t.Errorf("cut at %d: note %+v; want %d items kept and the rest dropped", cut, salvaged, complete)
		}
		if len(got) != complete {
			t.Errorf("cut at %d: %d items, want the %d complete ones", cut, len(got), complete)
			continue
		}
		if diff := cmp.Diff(want[:complete], got); diff != "" {
			t.Errorf("cut at %d: salvaged items differ from the whole feed's (-whole +salvaged):\n%s", cut, diff)
		}
	}
}

// BenchmarkSalvage measures a damaged large feed (the parser's failed
// pass, the lenient reading and the parse of what it kept) and hostile
// bodies built to make a lenient reader backtrack.
func BenchmarkSalvage(b *testing.B) {
	huge, err := os.ReadFile(filepath.Join("testdata", "feeds", "huge-hubspot-bom-mojibake-youtube-pdf.xml"))
	if err != nil {
		b.Fatal(err)
	}
	rssOpen := strings.TrimSuffix(rssDoc("", ""), "</channel></rss>")
	for _, bc := range []struct {
		name string
		doc  []byte
		ok   bool
	}{
		{"huge-feed-cut-in-half", huge[:len(huge)/2], true},
		{"4096-small-items-then-cut", []byte(rssOpen + rssItems(1, 4096) + "<item><title>cut"), true},
		{"1MB-of-instructions-before-the-root", []byte(strings.Repeat("<?x ", 1<<18) + rssDoc("", rssItem(1))), true},
		{"1MB-of-junk-tags-before-the-root", []byte(strings.Repeat("<a <b ", 1<<17) + rssDoc("", rssItem(1))), true},
		// The parser finds no root past its look-ahead, salvaged or not.
		{"1MB-root-tag", []byte("<rss " + strings.Repeat("a=b ", 1<<18) + "><channel><title>x</title>" + rssItem(1) + "<item>"), false},
		{"1MB-nesting-then-cut", []byte(rssOpen + rssItem(1) + "<item>" + strings.Repeat("<a>", 1<<18)), true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.doc)))
			b.ReportAllocs()
			for b.Loop() {
				f, salvaged, err := parse(bc.doc, "", "")
				if ok := err == nil && salvaged != nil && len(f.Items) > 0; ok != bc.ok {
					b.Fatalf("salvaged %v (%v), want %v", ok, err, bc.ok)
				}
			}
		})
	}
}
