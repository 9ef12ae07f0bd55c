package feed

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/syndicate-bot/syndicate/syndicate"
)

const testFeedURL = "https://site.example/feed/"

// rssDoc wraps items in an RSS channel declaring the usual namespaces.
func rssDoc(channelExtra, items string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"
 xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
<channel><title>Site</title><link>https://site.example/</link>` + channelExtra + items + `</channel></rss>`
}

func normaliseDoc(t *testing.T, doc string) []syndicate.Item {
	t.Helper()
	return normaliseDocSpec(t, doc, syndicate.FeedSpec{ID: "site", URL: testFeedURL})
}

func normaliseDocSpec(t *testing.T, doc string, spec syndicate.FeedSpec) []syndicate.Item {
	t.Helper()
	f, salvaged, err := parse([]byte(doc), "", "")
	if err != nil || salvaged != nil {
		t.Fatalf("parse: %v (salvaged %+v)\n%s", err, salvaged, doc)
	}
	u, _ := url.Parse(spec.URL)
	return normalise(f, spec, u)
}

func oneItem(t *testing.T, item string) syndicate.Item {
	t.Helper()
	items := normaliseDoc(t, rssDoc("", item))
	if len(items) != 1 {
		t.Fatalf("%d items, want 1", len(items))
	}
	return items[0]
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name string
		item string
		key  string
	}{
		{"guid wins", `<item><title>T</title><guid>  abc-123 </guid><link>https://site.example/a</link></item>`, "guid:abc-123"},
		{"permalink guid", `<item><title>T</title><guid isPermaLink="true">https://site.example/?p=1</guid></item>`, "guid:https://site.example/?p=1"},
		{"link without guid", `<item><title>T</title><link>https://Site.Example/a?utm_source=rss#top</link></item>`, "link:https://site.example/a"},
		{"hash without guid and link", `<item><title>T</title><description>body</description></item>`, "hash:"},
		{"blank guid falls back to link", `<item><title>T</title><guid> </guid><link>https://site.example/b</link></item>`, "link:https://site.example/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := oneItem(t, tt.item)
			if tt.key == "hash:" {
				if !strings.HasPrefix(it.Key, "hash:") || len(it.Key) != len("hash:")+24 {
					t.Fatalf("key %q, want a short hash", it.Key)
				}
				return
			}
			if it.Key != tt.key {
				t.Fatalf("key %q, want %q", it.Key, tt.key)
			}
			if it.FeedID != "site" {
				t.Errorf("feed id %q", it.FeedID)
			}
		})
	}
}

func TestHashKeyIsStableAndContentBound(t *testing.T) {
	a := oneItem(t, `<item><title>T</title><description>body</description><pubDate>Mon, 02 Jan 2006 15:04:05 GMT</pubDate></item>`)
	b := oneItem(t, `<item><title>T</title><description>body</description><pubDate>Mon, 02 Jan 2006 15:04:05 GMT</pubDate></item>`)
	c := oneItem(t, `<item><title>T</title><description>other body</description><pubDate>Mon, 02 Jan 2006 15:04:05 GMT</pubDate></item>`)
	if a.Key != b.Key || a.Key == c.Key {
		t.Fatalf("keys %q %q %q", a.Key, b.Key, c.Key)
	}
}

func TestKeysUniqueWithinFeed(t *testing.T) {
	items := normaliseDoc(t, rssDoc("", `
<item><title>A</title><guid>same</guid><link>https://site.example/a</link></item>
<item><title>B</title><guid>same</guid><link>https://site.example/b</link></item>
<item><title>C</title><link>https://site.example/a</link><description>c</description></item>
<item><title>D</title><description>d</description></item>
<item><title>D</title><description>d</description></item>
<item><title></title><link></link><description></description></item>`))
	var keys []string
	for _, it := range items {
		keys = append(keys, it.Key)
	}
	// A repeated guid falls back to the link; the verbatim duplicate and
	// the empty item are dropped.
	if len(keys) != 4 || keys[0] != "guid:same" || keys[1] != "link:https://site.example/b" ||
		keys[2] != "link:https://site.example/a" || !strings.HasPrefix(keys[3], "hash:") {
		t.Fatalf("keys %q", keys)
	}
	// A link already used as a key falls back to the hash.
	items = normaliseDoc(t, rssDoc("", `
<item><title>A</title><link>https://site.example/a</link></item>
<item><title>B</title><link>https://site.example/a</link></item>`))
	if len(items) != 2 || items[0].Key != "link:https://site.example/a" || !strings.HasPrefix(items[1].Key, "hash:") {
		t.Fatalf("items %+v", items)
	}
}

func TestFragmentsKeptWhenTheyIdentifyItems(t *testing.T) {
	// A newsletter whose issues are anchors on one page.
	items := normaliseDoc(t, rssDoc("", `
<item><title>Issue</title><link>https://news.example/entries.php#9</link><description>nine</description></item>
<item><title>Issue</title><link>https://news.example/entries.php#10</link><description>ten</description></item>
<item><title>Other</title><link>https://site.example/post#comments</link></item>
<item><title>Tracked</title><link>https://site.example/x#xtor=RSS-1</link></item>`))
	got := []string{items[0].Link, items[1].Link, items[2].Link, items[3].Link}
	want := []string{"https://news.example/entries.php#9", "https://news.example/entries.php#10", "https://site.example/post", "https://site.example/x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
	if items[0].ArticleKey() == items[1].ArticleKey() {
		t.Fatal("two issues share an article key")
	}
}

func TestCanonicalLink(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://site.example/a?utm_source=rss&utm_medium=feed&id=7&utm_campaign=x", "https://site.example/a?id=7"},
		{"https://site.example/a?fbclid=1&gclid=2&b=2&a=1&mc_cid=3&mc_eid=4&_hsenc=5&_hsmi=6&igshid=7&yclid=8&ref_src=9&msclkid=0&dclid=1", "https://site.example/a?b=2&a=1"},
		{"HTTPS://WWW.Site.Example:443/Path/?q=%C3%A9&UTM_Source=x", "https://www.site.example/Path/?q=%C3%A9"},
		{"http://site.example:80", "http://site.example/"},
		{"https://site.example:8443/a#section", "https://site.example:8443/a"},
		{"https://user:pw@site.example/a", "https://site.example/a"},
		{"https://site.example/a?utm_source=x", "https://site.example/a"},
	}
	for _, tt := range tests {
		u, ok := resolve(nil, tt.in)
		if !ok {
			t.Fatalf("resolve(%q) failed", tt.in)
		}
		if got := canonicalLink(u, false); got != tt.want {
			t.Errorf("canonicalLink(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRelativeLinks(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{
			"item link against the feed link",
			`<rss version="2.0"><channel><title>t</title><link>https://www.site.example/news/</link>
<item><title>a</title><link>2024/01/post</link></item></channel></rss>`,
			"https://www.site.example/news/2024/01/post",
		},
		{
			"relative feed link against the feed URL",
			`<rss version="2.0"><channel><title>t</title><link>/en/news</link>
<item><title>a</title><link>/en/news/detail/1</link></item></channel></rss>`,
			"https://site.example/en/news/detail/1",
		},
		{
			"xml:base on the item",
			`<rss version="2.0"><channel><title>t</title><link>https://other.example/</link>
<item xml:base="https://blog.example/posts/"><title>a</title><link>first/</link></item></channel></rss>`,
			"https://blog.example/posts/first/",
		},
		{
			"atom xml:base on the entry",
			`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://a.example/"><title>t</title>
<entry xml:base="/blog/"><title>a</title><id>x</id><link rel="alternate" href="2024/post.html"/></entry></feed>`,
			"https://a.example/blog/2024/post.html",
		},
		{
			"feedburner origLink preferred",
			rssDoc("", `<item><title>a</title><link>http://feedproxy.google.com/~r/site/~3/abc/</link><feedburner:origLink>https://site.example/real/</feedburner:origLink></item>`),
			"https://site.example/real/",
		},
		{
			"javascript link dropped",
			rssDoc("", `<item><title>a</title><link>javascript:alert(1)</link></item>`),
			"",
		},
		{
			"guid URL when there is no link",
			rssDoc("", `<item><title>a</title><guid>https://site.example/?p=5</guid></item>`),
			"https://site.example/?p=5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := normaliseDoc(t, tt.doc)
			if len(items) != 1 || items[0].Link != tt.want {
				t.Fatalf("items %+v, want link %q", items, tt.want)
			}
		})
	}
}

func TestContentURLsResolvedAgainstItem(t *testing.T) {
	it := oneItem(t, `<item><title>t</title><link>https://site.example/2024/post/</link>
<content:encoded><![CDATA[<p>x</p><img src="photo.jpg" width="800" height="600"><a href="/files/report.pdf">Report</a>]]></content:encoded></item>`)
	if it.Image == nil || it.Image.URL != "https://site.example/2024/post/photo.jpg" {
		t.Errorf("image %+v", it.Image)
	}
	if len(it.Attachments) != 1 || it.Attachments[0].URL != "https://site.example/files/report.pdf" {
		t.Errorf("attachments %+v", it.Attachments)
	}
}

func TestLeadImage(t *testing.T) {
	const content = `<content:encoded><![CDATA[
<img src="https://pixel.wp.com/b.gif?host=x" width="1" height="1">
<img src="https://s.w.org/images/core/emoji/14.0.0/72x72/1f600.png" alt="😀" class="wp-smiley">
<img src="https://site.example/spacer.gif">
<img src="data:image/gif;base64,R0lGOD" data-src="https://site.example/lazy.jpg" alt="lazy">
<img src="https://site.example/c-300x200.jpg" srcset="https://site.example/c-300x200.jpg 300w, https://site.example/c-1024x683.jpg 1024w, https://site.example/c-768x512.jpg 768w" width="300" height="200" alt="content pic">
<img src="https://secure.gravatar.com/avatar/abc?s=96" class="avatar">
<img src="https://site.example/icon.png" width="32" height="32">
]]></content:encoded>`
	const enclosure = `<enclosure url="https://site.example/enc.jpg" type="image/jpeg" length="1024"/>`
	const media = `<media:content url="https://site.example/small.jpg" medium="image" width="300" height="200"><media:description>small</media:description></media:content>
<media:content url="https://site.example/big.jpg" type="image/jpeg" width="1200" height="800"><media:description>The big one</media:description></media:content>
<media:content url="https://0.gravatar.com/avatar/x?s=96" medium="image"/>`
	const thumb = `<media:group><media:title>Group title</media:title><media:thumbnail url="https://site.example/thumb.jpg" width="480" height="360"/></media:group>`
	tests := []struct {
		name   string
		item   string
		want   syndicate.Image
		images []string
		// alternates are the feed's other lead candidates, in the order
		// they are tried when the lead does not load.
		alternates []string
	}{
		{"media content wins, largest", media + thumb + enclosure + content,
			syndicate.Image{URL: "https://site.example/big.jpg", Alt: "The big one", Type: "image/jpeg", Width: 1200, Height: 800, Source: "media"},
			[]string{"https://site.example/lazy.jpg", "https://site.example/c-1024x683.jpg"},
			[]string{"https://site.example/small.jpg", "https://site.example/thumb.jpg", "https://site.example/enc.jpg"}},
		{"thumbnail in a group", thumb + enclosure + content,
			syndicate.Image{URL: "https://site.example/thumb.jpg", Alt: "Group title", Width: 480, Height: 360, Source: "media"}, nil,
			[]string{"https://site.example/enc.jpg"}},
		{"enclosure before content", enclosure + content,
			syndicate.Image{URL: "https://site.example/enc.jpg", Type: "image/jpeg", Source: "enclosure"}, nil, nil},
		{"first meaningful content image", content,
			syndicate.Image{URL: "https://site.example/lazy.jpg", Alt: "lazy", Source: "content"},
			[]string{"https://site.example/c-1024x683.jpg"}, nil},
		{"srcset's largest candidate", `<description><![CDATA[<img src="https://site.example/c-300x200.jpg" srcset="https://site.example/c-300x200.jpg 300w, https://site.example/c-1024x683.jpg 1024w" width="300" height="200" title="titled">]]></description>`,
			syndicate.Image{URL: "https://site.example/c-1024x683.jpg", Alt: "titled", Width: 1024, Height: 682, Source: "content"}, nil, nil},
		{"enclosures after media, the lead not repeated", media + `<enclosure url="https://site.example/big.jpg" type="image/jpeg"/>` + enclosure,
			syndicate.Image{URL: "https://site.example/big.jpg", Alt: "The big one", Type: "image/jpeg", Width: 1200, Height: 800, Source: "media"}, nil,
			[]string{"https://site.example/small.jpg", "https://site.example/enc.jpg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := oneItem(t, `<item><title>t</title><link>https://site.example/p</link>`+tt.item+`</item>`)
			if it.Image == nil {
				t.Fatal("no image")
			}
			if diff := cmp.Diff(tt.want, *it.Image); diff != "" {
				t.Errorf("lead image (-want +got):\n%s", diff)
			}
			var got []string
			for _, im := range it.Images {
				got = append(got, im.URL)
			}
			if tt.images != nil {
				if diff := cmp.Diff(tt.images, got); diff != "" {
					t.Errorf("further images (-want +got):\n%s", diff)
				}
			}
			var alts []string
			for _, im := range it.LeadAlternates {
				alts = append(alts, im.URL)
			}
			if diff := cmp.Diff(tt.alternates, alts); diff != "" {
				t.Errorf("lead alternates (-want +got):\n%s", diff)
			}
			for _, u := range append(append(got, alts...), it.Image.URL) {
				for _, bad := range []string{"pixel", "emoji", "gravatar", "spacer", "icon", "data:"} {
					if strings.Contains(u, bad) {
						t.Errorf("decorative image %q kept", u)
					}
				}
			}
		})
	}
}

func TestNoImage(t *testing.T) {
	it := oneItem(t, `<item><title>t</title><description><![CDATA[<p>Only a pixel <img src="https://feeds.feedburner.com/~r/site/~4/abc" height="1" width="1"/></p>]]></description></item>`)
	if it.Image != nil || len(it.Images) != 0 {
		t.Fatalf("image %+v, images %+v", it.Image, it.Images)
	}
}

func TestEmojiImageKeepsItsText(t *testing.T) {
	it := oneItem(t, `<item><title>t</title><description><![CDATA[<p>Great news <img src="https://s.w.org/images/core/emoji/14.0.0/72x72/1f389.png" alt="🎉" class="wp-smiley" style="height: 1em"> today</p>]]></description></item>`)
	if it.Summary != "Great news 🎉 today" {
		t.Fatalf("summary %q", it.Summary)
	}
}

func TestAttachments(t *testing.T) {
	it := oneItem(t, `<item><title>Newsletter 12</title><link>https://site.example/newsletter-12/</link>
<enclosure url="https://site.example/files/nl-12.pdf" type="application/pdf" length="345678"/>
<enclosure url="https://site.example/files/audio.mp3" type="audio/mpeg" length="1"/>
<content:encoded><![CDATA[<p>To view the PDF file <a href="/files/nl-12.pdf">click here</a>.</p>
<p><a href="https://other.example/Report.PDF?dl=1"><strong>Annual</strong> report</a> and <a href="/page.html">a page</a>
and <a href="javascript:void(0)">a script</a> and <a href="https://other.example/Report.PDF?dl=1">again</a>.</p>]]></content:encoded></item>`)
	want := []syndicate.Attachment{
		{URL: "https://site.example/files/nl-12.pdf", Type: "application/pdf", Length: 345678},
		{URL: "https://other.example/Report.PDF?dl=1", Type: "application/pdf", Title: "Annual report"},
	}
	if diff := cmp.Diff(want, it.Attachments); diff != "" {
		t.Fatalf("attachments (-want +got):\n%s", diff)
	}
}

func TestVideos(t *testing.T) {
	it := oneItem(t, `<item><title>t</title><link>https://site.example/v</link>
<enclosure url="https://site.example/clip.mp4" type="video/mp4" length="100"/>
<media:content url="https://www.youtube.com/v/dQw4w9WgXcQ?version=3" type="application/x-shockwave-flash"/>
<content:encoded><![CDATA[
<figure class="wp-block-embed-youtube"><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed&amp;rel=0" width="500"></iframe></figure>
<iframe src="https://www.youtube-nocookie.com/embed/9bZkp7q19f0"></iframe>
<iframe src="//player.vimeo.com/video/76979871?title=0"></iframe>
<iframe src="https://www.youtube.com/embed/short"></iframe>
<iframe src="https://maps.example/embed?x=1"></iframe>
<iframe src="https://www.youtube.com/embed/videoseries?list=PLabc_123-x"></iframe>
<p>Watch it.</p>]]></content:encoded></item>`)
	want := []syndicate.Video{
		{URL: "https://www.youtube.com/watch?v=dQw4w9WgXcQ", Provider: "youtube", ID: "dQw4w9WgXcQ"},
		{URL: "https://site.example/clip.mp4"},
		{URL: "https://www.youtube.com/watch?v=9bZkp7q19f0", Provider: "youtube", ID: "9bZkp7q19f0"},
		{URL: "https://vimeo.com/76979871", Provider: "vimeo", ID: "76979871"},
		{URL: "https://www.youtube.com/playlist?list=PLabc_123-x", Provider: "youtube"},
	}
	if diff := cmp.Diff(want, it.Videos); diff != "" {
		t.Fatalf("videos (-want +got):\n%s", diff)
	}
	if it.Summary != "Watch it." {
		t.Errorf("summary %q", it.Summary)
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, html, want string
	}{
		{"paragraphs", "<p>One.</p><p>Two.</p>", "One.\n\nTwo."},
		{"br", "Line one<br>line two<br/><br />after blank", "Line one\nline two\n\nafter blank"},
		{"whitespace collapsed", "<p>  a \n\t b  </p>\n\n\n<p>c</p>", "a b\n\nc"},
		{"unordered list", "<p>Intro</p><ul><li>one</li><li>two <b>bold</b></li></ul><p>End</p>", "Intro\n\n• one\n• two bold\n\nEnd"},
		{"ordered list", "<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"},
		{"nested list", "<ul><li>a<ul><li>a1</li></ul></li><li>b</li></ul>", "• a\n• a1\n• b"},
		{"scripts, styles, iframes, forms dropped", `<p>keep</p><script>alert("x")</script><style>p{}</style><iframe src="https://x.example/">fallback</iframe><form><input value="v"><button>Send</button></form><noscript>no js</noscript><p>also</p>`, "keep\n\nalso"},
		{"entities", "<p>Caf&eacute; &amp; bar &#8217;s &hellip; &lt;tag&gt; A&nbsp;B</p>", "Café & bar ’s … <tag> A\u00a0B"},
		{"figcaption own line", `<figure><img src="https://site.example/a.jpg"><figcaption>A caption</figcaption></figure><p>Text</p>`, "A caption\n\nText"},
		{"headings and divs", "<h2>Title</h2><div>line a</div><div>line b</div>", "Title\n\nline a\nline b"},
		{"preformatted", "<p>x</p><pre>  code\n    indented</pre>", "x\n\n  code\n    indented"},
		{"table cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>", "a b\nc d"},
		{"empty nbsp paragraphs", "<p>a</p><p>&nbsp;</p><p>b</p>", "a\n\nb"},
		{"no-break spaces next to spaces", "<p>&nbsp;&nbsp;Indented a&nbsp; b c &nbsp;d e&nbsp;&nbsp;f g&nbsp;</p>", "Indented a\u00a0b c d e\u00a0f g"},
		{"french no-break spaces kept", "<p>Quoi&nbsp;? «&nbsp;Oui&nbsp;»</p>", "Quoi\u00a0? «\u00a0Oui\u00a0»"},
		{"zwnj kept", "<p>می‌خواهم</p>", "می‌خواهم"},
		{"link text kept", `<p>See <a href="javascript:alert(1)">this</a>.</p>`, "See this."},
		{"more link dropped", `<p>Excerpt text. <a href="https://site.example/p#more-1" class="more-link">Continue reading<span class="screen-reader-text"> "Post"</span></a></p>`, "Excerpt text."},
		{"blockquote", "<p>He said:</p><blockquote><p>Quoted.</p></blockquote>", "He said:\n\nQuoted."},
		{"unclosed tags", "<p>a<p>b<div>c", "a\n\nb\nc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scanHTML(tt.html, nil, false).text; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSummaryTrailers(t *testing.T) {
	tests := []struct {
		name, html, want string
	}{
		{"appeared first on", `<p>Body text.</p><p>The post <a href="https://site.example/p">Post</a> appeared first on <a href="https://site.example/">Site</a>.</p>`, "Body text."},
		{"continue reading paragraph", `<p>Body text.</p><p><a href="https://site.example/p">Continue reading →</a></p>`, "Body text."},
		{"continue reading with title", `<p>Body text. Continue reading “My Post”</p>`, "Body text."},
		{"excerpt marker", `<p>The first words of the article [&hellip;]</p>`, "The first words of the article …"},
		{"excerpt marker with dots", `<p>The first words [...]</p>`, "The first words …"},
		{"continue reading inside the text stays", `<p>Continue reading the report, which says more.</p><p>End.</p>`, "Continue reading the report, which says more.\n\nEnd."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := oneItem(t, `<item><title>My Post</title><description><![CDATA[`+tt.html+`]]></description></item>`)
			if it.Summary != tt.want {
				t.Errorf("summary %q, want %q", it.Summary, tt.want)
			}
		})
	}
}

func TestSummarySource(t *testing.T) {
	it := oneItem(t, `<item><title>t</title><description>Short excerpt.</description><content:encoded><![CDATA[<p>Full text.</p>]]></content:encoded></item>`)
	if it.Summary != "Full text." {
		t.Errorf("content:encoded not preferred: %q", it.Summary)
	}
	it = oneItem(t, `<item><title>t</title><description>The real excerpt.</description><content:encoded>...</content:encoded></item>`)
	if it.Summary != "The real excerpt." {
		t.Errorf("placeholder content not skipped: %q", it.Summary)
	}
	it = oneItem(t, `<item><title>t</title><description>Plain text
line two

Second paragraph &amp; more</description></item>`)
	if it.Summary != "Plain text\nline two\n\nSecond paragraph & more" {
		t.Errorf("plain text structure lost: %q", it.Summary)
	}
}

func TestSummaryCut(t *testing.T) {
	para := strings.Repeat("word ", 1000) // 5000 runes
	html := strings.Repeat("<p>"+para+"</p>", 6)
	it := oneItem(t, `<item><title>t</title><description><![CDATA[`+html+`]]></description></item>`)
	n := utf8.RuneCountInString(it.Summary)
	if n > maxSummaryRunes || n < maxSummaryRunes/2 {
		t.Fatalf("summary of %d runes", n)
	}
	if strings.Count(it.Summary, "\n\n") != 2 || !strings.HasSuffix(it.Summary, "word") {
		t.Errorf("not cut at a paragraph end: %q", it.Summary[len(it.Summary)-40:])
	}
	long := strings.Repeat("word ", 5000)
	if got := cutText(long, 100); !strings.HasSuffix(got, " …") || utf8.RuneCountInString(got) > 102 || strings.Contains(got, "wor …") {
		t.Errorf("word cut %q", got)
	}
}

// TestCutKeepsClusters cuts runs without spaces of many-code-point
// clusters at every rune count: the cut falls between clusters, the
// text before it is kept whole, and at most n runes precede the ellipsis.
func TestCutKeepsClusters(t *testing.T) {
	tests := []struct{ name, cluster string }{
		{"family", "👩\u200d👩\u200d👧\u200d👦"},
		{"flag", "🇦🇱"},
		{"skin tone and profession", "👨🏽\u200d🔧"},
		{"stacked marks", "e\u0301\u0302\u0303"},
		{"arabic harakat", "\u0628\u064e\u0651"},
		{"keycap", "1\ufe0f\u20e3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := utf8.RuneCountInString(tt.cluster)
			for prefix := range size {
				s := strings.Repeat("a", prefix) + strings.Repeat(tt.cluster, 20)
				for n := prefix; n < utf8.RuneCountInString(s); n++ {
					got := cutText(s, n)
					head, ok := strings.CutSuffix(got, "…")
					if !ok {
						t.Fatalf("cutText(%+q, %d) = %+q: no ellipsis", s, n, got)
					}
					whole := (n - prefix) / size
					if want := strings.Repeat("a", prefix) + strings.Repeat(tt.cluster, whole); head != want {
						t.Fatalf("cutText(%+q, %d) = %+q, want %+q…", s, n, got, want)
					}
				}
			}
		})
	}
}

// TestDatesAsWritten: a date the parser understands is kept however far
// back or ahead it is (the engine judges it), an unparsable one is unknown.
func TestDatesAsWritten(t *testing.T) {
	tests := []struct{ pubDate, want string }{
		{"Wed, 31 Dec 1969 23:59:59 +0000", "1969-12-31T23:59:59Z"},
		{"Thu, 01 Jan 1970 00:00:00 +0000", "1970-01-01T00:00:00Z"},
		{"Fri, 31 Dec 9999 23:59:59 -1200", "+10000-01-01T11:59:59Z"},
		{"Mon, 30 Nov -0001 00:00:00 +0000", ""},
		{"the day after yesterday", ""},
	}
	for _, tt := range tests {
		it := oneItem(t, `<item><title>T</title><pubDate>`+tt.pubDate+`</pubDate></item>`)
		got := ""
		if !it.Published.IsZero() {
			got = it.Published.UTC().Format("2006-01-02T15:04:05Z07:00")
			if it.Published.Year() > 9999 {
				got = "+" + got
			}
		}
		if got != tt.want {
			t.Errorf("pubDate %q: published %q, want %q", tt.pubDate, got, tt.want)
		}
	}
}

func TestTitle(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<title>Plain title</title>`, "Plain title"},
		{`<title>WordPress &amp;#8217;s quotes &amp;amp; more</title>`, "WordPress ’s quotes & more"},
		{`<title><![CDATA[CDATA &amp;#8220;quoted&amp;#8221;]]></title>`, "CDATA “quoted”"},
		{`<title>  Spread
   over   lines  </title>`, "Spread over lines"},
		{`<title>&lt;b&gt;Bold&lt;/b&gt; &lt;script&gt;x()&lt;/script&gt;news</title>`, "Bold news"},
		{`<title>AT&amp;T and a=1&amp;b=2</title>`, "AT&T and a=1&b=2"},
		{`<title>Re&colon; HTML&nbsp;entities &hellip; in XML</title>`, "Re: HTML\u00a0entities … in XML"},
		{`<title>Bare & ampersand</title>`, "Bare & ampersand"},
	}
	for _, tt := range tests {
		it := oneItem(t, `<item>`+tt.in+`<guid>g</guid></item>`)
		if it.Title != tt.want {
			t.Errorf("%s: title %q, want %q", tt.in, it.Title, tt.want)
		}
	}
}

func TestAuthorDatesCategories(t *testing.T) {
	it := oneItem(t, `<item><title>t</title><guid>g</guid>
<dc:creator><![CDATA[ Jane  Doe ]]></dc:creator>
<pubDate>Tue, 10 Jun 2025 08:30:00 +0200</pubDate>
<category><![CDATA[ News ]]></category><category>Q&amp;A</category><category>news</category><category></category>
<dc:subject>Middle East</dc:subject></item>`)
	if it.Author != "Jane Doe" {
		t.Errorf("author %q", it.Author)
	}
	if want := time.Date(2025, 6, 10, 6, 30, 0, 0, time.UTC); !it.Published.Equal(want) {
		t.Errorf("published %v", it.Published)
	}
	if diff := cmp.Diff([]string{"News", "Q&A", "Middle East"}, it.Categories); diff != "" {
		t.Errorf("categories (-want +got):\n%s", diff)
	}
	bad := oneItem(t, `<item><title>t</title><guid>g</guid><pubDate>sometime last week</pubDate></item>`)
	if !bad.Published.IsZero() {
		t.Errorf("bad date parsed as %v", bad.Published)
	}
}

func TestLanguage(t *testing.T) {
	items := `
<item><title>a</title><guid>1</guid><dc:language>AR</dc:language></item>
<item><title>b</title><guid>2</guid></item>`
	tests := []struct {
		name         string
		channel      string
		spec, def    string
		want0, want1 string
		from0, from1 syndicate.LanguageFrom
	}{
		{"operator overrides the channel", "<language>en_us</language>", "fa", "en",
			"ar", "fa", syndicate.LanguageFromItem, syndicate.LanguageFromOperator},
		{"channel when the operator says nothing", "<language>en_us</language>", "", "sq",
			"ar", "en-US", syndicate.LanguageFromItem, syndicate.LanguageFromFeed},
		{"dc:language on the channel", "<dc:language>fa-IR</dc:language>", "", "sq",
			"ar", "fa-IR", syndicate.LanguageFromItem, syndicate.LanguageFromFeed},
		{"default last", "", "", "sq",
			"ar", "sq", syndicate.LanguageFromItem, syndicate.LanguageFromDefault},
		{"operator without a channel language", "", "fa", "sq",
			"ar", "fa", syndicate.LanguageFromItem, syndicate.LanguageFromOperator},
		{"nothing anywhere", "", "", "",
			"ar", "", syndicate.LanguageFromItem, ""},
	}
	for _, tt := range tests {
		spec := syndicate.FeedSpec{ID: "s", URL: testFeedURL, Language: tt.spec, DefaultLanguage: tt.def}
		got := normaliseDocSpec(t, rssDoc(tt.channel, items), spec)
		if got[0].Language != tt.want0 || got[1].Language != tt.want1 ||
			got[0].LanguageFrom != tt.from0 || got[1].LanguageFrom != tt.from1 {
			t.Errorf("%s: languages %q (%s) %q (%s), want %q (%s) %q (%s)", tt.name,
				got[0].Language, got[0].LanguageFrom, got[1].Language, got[1].LanguageFrom,
				tt.want0, tt.from0, tt.want1, tt.from1)
		}
	}
	for in, want := range map[string]string{
		"en-us": "en-US", "EN_GB": "en-GB", "zh-hant-tw": "zh-Hant-TW", "sr-latn": "sr-Latn",
		"fa": "fa", "": "", "english": "english", "en us": "", "1x": "", "es-419": "es-419",
	} {
		if got := normLang(in); got != want {
			t.Errorf("normLang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJSONFeedItems(t *testing.T) {
	doc := `{"version":"https://jsonfeed.org/version/1.1","title":"J","home_page_url":"https://j.example/","language":"de",
"items":[
 {"id":"1","url":"/posts/1","title":"Eins","content_text":"Erste Zeile\nzweite Zeile\n\nAbsatz <b>kein Tag</b>","image":"https://j.example/1.jpg","language":"en","tags":["A","a"]},
 {"id":"2","url":"https://j.example/posts/2","content_html":"<p>Zwei</p>","attachments":[{"url":"https://j.example/2.pdf","mime_type":"application/pdf","size_in_bytes":99}]}
]}`
	items := normaliseDoc(t, doc)
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	a, b := items[0], items[1]
	if a.Link != "https://j.example/posts/1" || a.Language != "en" || b.Language != "de" {
		t.Errorf("link %q, languages %q %q", a.Link, a.Language, b.Language)
	}
	if a.Summary != "Erste Zeile\nzweite Zeile\n\nAbsatz <b>kein Tag</b>" {
		t.Errorf("content_text %q", a.Summary)
	}
	if a.Image == nil || a.Image.URL != "https://j.example/1.jpg" || a.Image.Source != "media" {
		t.Errorf("image %+v", a.Image)
	}
	if len(a.Categories) != 1 {
		t.Errorf("categories %q", a.Categories)
	}
	if len(b.Attachments) != 1 || b.Attachments[0].Length != 99 || b.Title != "" || b.Summary != "Zwei" {
		t.Errorf("second item %+v", b)
	}
}

func TestHostileItem(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<p>Start <a href="javascript:alert(document.cookie)">click</a></p><script>steal()</script>`)
	b.WriteString(strings.Repeat("<div><span><b>", 20000))
	b.WriteString(`deep<img src="javascript:alert(1)"><img src="https://evil.example/ok.jpg" onerror="x()">`)
	b.WriteString(strings.Repeat("</b></span></div>", 20000))
	b.WriteString(`<a href="data:text/html;base64,PHNjcmlwdD4=">data</a><iframe src="javascript:alert(2)"></iframe>`)
	for b.Len() < 1<<20 {
		b.WriteString("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>")
	}
	body := b.String()
	start := time.Now()
	it := oneItem(t, `<item><title>&lt;script&gt;alert(1)&lt;/script&gt;Title</title><link>javascript:alert(1)</link><guid>g</guid><content:encoded><![CDATA[`+body+`]]></content:encoded></item>`)
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("took %v", elapsed)
	}
	if it.Title != "Title" || it.Link != "" {
		t.Errorf("title %q link %q", it.Title, it.Link)
	}
	if strings.Contains(it.Summary, "steal") || strings.Contains(it.Summary, "alert") || !strings.HasPrefix(it.Summary, "Start click\n\ndeep") {
		t.Errorf("summary starts %q", it.Summary[:min(80, len(it.Summary))])
	}
	if n := utf8.RuneCountInString(it.Summary); n > maxSummaryRunes {
		t.Errorf("summary of %d runes", n)
	}
	if it.Image == nil || it.Image.URL != "https://evil.example/ok.jpg" || len(it.Images) != 0 || len(it.Videos) != 0 || len(it.Attachments) != 0 {
		t.Errorf("media %+v %+v %+v %+v", it.Image, it.Images, it.Videos, it.Attachments)
	}
}

func TestMojibake(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Itâ€™s â€œquotedâ€\u009d â€” cafÃ©", "It’s “quoted” — café"},
		{"mixed real ’ and garbled donâ€™t", "mixed real ’ and garbled don’t"},
		{"ðŸ˜€ smile", "😀 smile"},
		{"Ø§Ù„Ø¹Ø±Ø¨ÙŠØ©", "العربية"},
		// Real text with the same letters is left alone.
		{"„Gruß“ aus München", "„Gruß“ aus München"},
		{"CAFÉ’S menu", "CAFÉ’S menu"},
		{"São Paulo, Ærø, Ñandú", "São Paulo, Ærø, Ñandú"},
	}
	for _, tt := range tests {
		if got := fixMojibake(tt.in); got != tt.want {
			t.Errorf("fixMojibake(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAltTextDropsFileNames(t *testing.T) {
	for in, want := range map[string]string{
		"beforeafterphotoedit-compressor.jpg": "",
		"IMG_2041.JPEG":                       "",
		"Protesters outside the courthouse":   "Protesters outside the courthouse",
		"Chart: prices.png and wages":         "Chart: prices.png and wages",
		"  spaced   alt  ":                    "spaced alt",
	} {
		if got := altText(in); got != want {
			t.Errorf("altText(%q) = %q, want %q", in, got, want)
		}
	}
}
