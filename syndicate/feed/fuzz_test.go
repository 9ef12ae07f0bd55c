package feed

import (
	"bytes"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// FuzzNormalise runs arbitrary bodies through repair, parsing (and
// salvage) and normalisation: it must never panic, every text it yields
// must be valid UTF-8 with absolute http(s) URLs, and a document cut short
// must yield only items of the whole one.
func FuzzNormalise(f *testing.F) {
	for _, name := range []string{"rss-xmlbase-per-item-hugo.xml", "encoding-windows1256-declared-atom03.xml", "jsonfeed-1.1-extension-keys.json", "malformed-incomplete-cdata.xml",
		"malformed-truncated-atom-mid-entry.xml", "malformed-garbled-declaration-after-comments.xml", "malformed-truncated-jsonfeed.json"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "feeds", name)); err == nil {
			f.Add(b, "")
		}
	}
	f.Add([]byte(rssDoc("", `<item><title>a &amp;#8217; b</title><link>/x#y</link><description><![CDATA[<p>x<img src="a.jpg" srcset="b.jpg 2x, c.jpg 300w"><iframe src="//youtube.com/embed/dQw4w9WgXcQ"></iframe>]]></description></item>`)), "text/xml; charset=windows-1252")
	f.Add([]byte("\xff\xfe<\x00r\x00s\x00s\x00>\x00"), "")
	f.Add([]byte(`{"version":"1","items":[{"id":1,"content_text":"x"}]}`), "application/json")
	base, _ := url.Parse(testFeedURL)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		feed, salvaged, err := parse(body, contentType, "")
		if err != nil {
			return
		}
		if salvaged != nil && (salvaged.Items != len(feed.Items) || salvaged.Items == 0 || salvaged.Err == nil) {
			t.Fatalf("salvage note %+v for %d items", salvaged, len(feed.Items))
		}
		if salvaged == nil {
			checkCutsSalvageWholeItems(t, body, contentType, feed)
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

// checkCutsSalvageWholeItems cuts a document that parsed at a few offsets:
// what each cut yields must be items of the whole document, unchanged,
// never a part of one. It checks only documents for which that is sound:
// UTF-8 (a cut cannot change their decoding) with one items container
// (the parser keeps the last RSS channel and the last JSON items array,
// which a cut can hide).
func checkCutsSalvageWholeItems(t *testing.T, body []byte, contentType string, whole *gofeed.Feed) {
	t.Helper()
	lower := bytes.ToLower(body)
	if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		return
	}
	if bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n\xef\xbb\xbf"), []byte("{")) {
		for _, c := range body {
			if c >= utf8.RuneSelf {
				return // a key may fold to "items" beyond ASCII
			}
		}
		if bytes.Count(lower, []byte(`"items"`)) != 1 || bytes.Contains(body, []byte(`\u`)) {
			return
		}
	} else if bytes.Count(lower, []byte("<channel"))+bytes.Count(lower, []byte(":channel")) > 1 {
		return
	}
	type raw struct{ guid, title, link, description, content string }
	count := map[raw]int{}
	for _, it := range whole.Items {
		if it != nil {
			count[raw{it.GUID, it.Title, it.Link, it.Description, it.Content}]++
		}
	}
	for _, cut := range []int{len(body) / 3, len(body) / 2, len(body) * 2 / 3, len(body) - 1} {
		part, _, err := parse(body[:cut], contentType, "")
		if err != nil {
			continue
		}
		left := maps.Clone(count)
		for _, it := range part.Items {
			if it == nil {
				continue
			}
			k := raw{it.GUID, it.Title, it.Link, it.Description, it.Content}
			if left[k] == 0 {
				t.Fatalf("cut at %d of %d bytes: item %+v is not an item of the whole document", cut, len(body), k)
			}
			left[k]--
		}
	}
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
