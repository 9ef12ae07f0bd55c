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
		feed, err := parse(body, contentType)
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
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := scanHTML(s, nil, true)
		if !utf8.ValidString(r.text) {
			t.Fatalf("invalid UTF-8 %q", r.text)
		}
		if utf8.RuneCountInString(r.text) > maxCollectRunes+len(r.text)/2+16 {
			t.Fatalf("text of %d runes", utf8.RuneCountInString(r.text))
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
