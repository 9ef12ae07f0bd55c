package feed

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// FuzzNormalise runs arbitrary bodies through repair, parsing and
// normalisation: it must never panic, and every text it yields must be
// valid UTF-8 with absolute http(s) URLs.
func FuzzNormalise(f *testing.F) {
	for _, name := range []string{"rss-xmlbase-per-item-hugo.xml", "encoding-windows1256-declared-atom03.xml", "jsonfeed-1.1-extension-keys.json", "malformed-incomplete-cdata.xml"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "feeds", name)); err == nil {
			f.Add(b, "")
		}
	}
	f.Add([]byte(rssDoc("", `<item><title>a &amp;#8217; b</title><link>/x#y</link><description><![CDATA[<p>x<img src="a.jpg" srcset="b.jpg 2x, c.jpg 300w"><iframe src="//youtube.com/embed/dQw4w9WgXcQ"></iframe>]]></description></item>`)), "text/xml; charset=windows-1252")
	f.Add([]byte("\xff\xfe<\x00r\x00s\x00s\x00>\x00"), "")
	f.Add([]byte(`{"version":"1","items":[{"id":1,"content_text":"x"}]}`), "application/json")
	base, _ := url.Parse(testFeedURL)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		feed, err := parse(body, contentType, "")
		if err != nil {
			return
		}
		items := normalise(feed, syndicate.FeedSpec{ID: "fuzz", URL: testFeedURL}, base)
		keys := map[string]bool{}
		for _, it := range items {
			if keys[it.Key] {
				t.Fatalf("repeated key %q", it.Key)
			}
			keys[it.Key] = true
			texts := []string{it.Key, it.GUID, it.Link, it.Title, it.Summary, it.Author, it.Language}
			texts = append(texts, it.Categories...)
			urls := []string{it.Link}
			if it.Image != nil {
				texts = append(texts, it.Image.Alt)
				urls = append(urls, it.Image.URL)
			}
			for _, im := range it.Images {
				texts = append(texts, im.Alt)
				urls = append(urls, im.URL)
			}
			for _, a := range it.Attachments {
				texts = append(texts, a.Title)
				urls = append(urls, a.URL)
			}
			for _, v := range it.Videos {
				urls = append(urls, v.URL)
			}
			for _, s := range append(texts, urls...) {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8: %q", s)
				}
			}
			for _, u := range urls {
				if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
					t.Fatalf("URL %q", u)
				}
			}
			if strings.ContainsAny(it.Title, "\n\r") {
				t.Fatalf("title %q spans lines", it.Title)
			}
		}
	})
}

// FuzzHTMLText checks the HTML reader on arbitrary markup: no panic, valid
// UTF-8, no runaway length, and one-line output from cleanLine.
func FuzzHTMLText(f *testing.F) {
	for _, s := range []string{
		"<p>One</p><p>Two<br>three</p><ul><li>a<li>b</ul>",
		"<script>x</script><pre>  a\n b</pre><table><tr><td>1<td>2</table>",
		"&amp;#8217; &nbsp;&nbsp; \u00a0 <img class=wp-smiley alt=😀> \xff\xfe",
		"<a href=x.pdf>pdf<a href=y.PDF>second</a>",
		"<plaintext><b>",
		"<p>" + strings.Repeat("مقالة ", maxCollectRunes/3) + "</p>",
		"<ol>" + strings.Repeat("<li>Ж", maxCollectRunes/2) + "</ol>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := scanHTML(s, nil, true)
		if !utf8.ValidString(r.text) {
			t.Fatalf("invalid UTF-8 %q", r.text)
		}
		if n := contentRunes(r.text); n > maxCollectRunes {
			t.Fatalf("text of %d runes besides separators and list markers; at most %d are collected", n, maxCollectRunes)
		}
		if strings.Contains(r.text, "\n\n\n") {
			t.Fatalf("more than one blank line: %q", r.text)
		}
		l := cleanLine(s)
		if !utf8.ValidString(l) || strings.ContainsAny(l, "\n\r\t") {
			t.Fatalf("cleanLine %q", l)
		}
		if sum := summarise(r.text, l); !utf8.ValidString(sum) {
			t.Fatalf("summary %q", sum)
		}
	})
}

// contentRunes counts the runes of scanned text that came from the
// document's text: not the spaces and line breaks between words and
// blocks, nor the marker that opens a list item's line. A space inside
// <pre> is text but is not counted, so the count never overstates.
func contentRunes(text string) int {
	n := 0
	for line := range strings.SplitSeq(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "• "); ok {
			line = rest
		} else if i := strings.Index(line, ". "); i > 0 && strings.Trim(line[:i], "0123456789") == "" {
			line = line[i+2:]
		}
		n += utf8.RuneCountInString(strings.ReplaceAll(line, " ", ""))
	}
	return n
}

// TestContentRunesCatchesRunawayText: the fuzz check fails for text past
// the cap in a two-byte script, which a bound on bytes would let through.
func TestContentRunesCatchesRunawayText(t *testing.T) {
	over := strings.Repeat("ж", maxCollectRunes+1)
	if contentRunes(over) <= maxCollectRunes {
		t.Errorf("%d Cyrillic runes counted as %d", maxCollectRunes+1, contentRunes(over))
	}
	if n := contentRunes("• a b\n\n12. c\nd"); n != 4 {
		t.Errorf("separators and markers counted: %d, want 4", n)
	}
	r := scanHTML("<p>"+strings.Repeat("مقالة ", maxCollectRunes/3)+"</p>", nil, true)
	if n := contentRunes(r.text); n != maxCollectRunes {
		t.Errorf("a long Arabic text collected %d runes; want the cap, %d", n, maxCollectRunes)
	}
}
