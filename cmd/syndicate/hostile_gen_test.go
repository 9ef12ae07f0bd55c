package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/unicode"
)

// This file builds the hostile feeds too big to keep in the repository,
// and fills in the placeholders of the ones kept in testdata/hostile.

// placeholderRE finds the placeholders of the kept feeds (see their README).
var placeholderRE = regexp.MustCompile(`\{\{(date|isodate) (-?[0-9]+[hm])\}\}|\{\{base\}\}`)

// expand fills in a kept feed's placeholders; a UTF-16 file (told by its
// byte order mark) is decoded to fill them in and encoded again.
func expand(b []byte, base string, now time.Time) ([]byte, error) {
	if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) {
		enc := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
		text, err := enc.NewDecoder().Bytes(b)
		if err != nil {
			return nil, fmt.Errorf("decode UTF-16: %w", err)
		}
		text, err = expand(text, base, now)
		if err != nil {
			return nil, err
		}
		return enc.NewEncoder().Bytes(text)
	}
	var err error
	out := placeholderRE.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := placeholderRE.FindSubmatch(m)
		if len(sub[1]) == 0 {
			return []byte(base)
		}
		d, perr := time.ParseDuration(string(sub[2]))
		if perr != nil {
			err = perr
			return m
		}
		at := now.Add(d)
		if string(sub[1]) == "isodate" {
			return []byte(at.UTC().Format(time.RFC3339))
		}
		return []byte(at.UTC().Format(time.RFC1123Z))
	})
	return out, err
}

// rssItem is an item of a generated feed; the fields are XML already.
type rssItem struct {
	title, link, guid, extra, description string
	age                                   time.Duration
}

// rssFeed writes an RSS 2.0 feed of items, dated back from now.
func rssFeed(title string, now time.Time, items ...rssItem) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/" xmlns:x="https://hostile.example/ns">` + "\n<channel>\n")
	fmt.Fprintf(&b, "<title>%s</title>\n<link>https://hostile.example/</link>\n<description>Generated hostile feed</description>\n", title)
	for _, it := range items {
		b.WriteString("<item>\n<title>")
		b.WriteString(it.title)
		fmt.Fprintf(&b, "</title>\n<link>%s</link>\n<guid>%s</guid>\n<pubDate>%s</pubDate>\n", it.link, it.guid, now.Add(-it.age).UTC().Format(time.RFC1123Z))
		b.WriteString(it.extra)
		b.WriteString("<description>")
		b.WriteString(it.description)
		b.WriteString("</description>\n</item>\n")
	}
	b.WriteString("</channel>\n</rss>\n")
	return b.Bytes()
}

// hugeTitleFeed has two items with titles of a megabyte: one of words, one
// of a single unbroken run of emoji sequences and combining marks.
func hugeTitleFeed(base string, now time.Time) []byte {
	words := strings.Repeat("Headline &amp; words &lt;go&gt; on ", 1<<20/34)
	run := strings.Repeat("👩‍👩‍👧‍👦e\u0301\u0302🇦🇱", 1<<20/33)
	return rssFeed("Huge titles", now,
		rssItem{title: "Huge title of words: " + words, link: "https://hostile.example/huge-title/words/", guid: "huge-title-words",
			description: "A short summary under a title of a megabyte.", age: 50 * time.Minute},
		rssItem{title: "<![CDATA[Huge unbroken title: " + run + "]]>", link: "https://hostile.example/huge-title/unbroken/", guid: "huge-title-unbroken",
			extra:       fmt.Sprintf(`<enclosure url="%s/img/huge-title.png" type="image/png" length="180"/>`+"\n", base),
			description: "A short summary under an unbroken title of a megabyte.", age: 49 * time.Minute},
	)
}

// hugeBodyFeed has an item whose body is bodyBytes of HTML paragraphs,
// and an ordinary item after it.
func hugeBodyFeed(name string, bodyBytes int, now time.Time) []byte {
	para := "<p>Sentence after sentence &amp; word after word, <b>bold</b> and <a href=\"https://hostile.example/x\">linked</a>.</p>\n"
	body := strings.Repeat(para, bodyBytes/len(para))
	return rssFeed("Huge body", now,
		rssItem{title: "Huge body: " + name, link: "https://hostile.example/" + name + "/huge/", guid: name + "-huge",
			extra: "<content:encoded><![CDATA[" + body + "]]></content:encoded>\n", description: "", age: 50 * time.Minute},
		rssItem{title: "Huge body: an ordinary item beside it", link: "https://hostile.example/" + name + "/ordinary/", guid: name + "-ordinary",
			description: "Nothing huge here.", age: 49 * time.Minute},
	)
}

// categoriesFeed has an item with 500 hostile categories and one with 500
// ordinary ones.
func categoriesFeed(now time.Time) []byte {
	hostile := []string{
		"<![CDATA[<script>INJECTED-CATEGORY</script>]]>", "#already-a-hashtag", "@mention@example.org",
		"&lt;b&gt;bold&lt;/b&gt;", "حقوق العمال", "", "   ", "\u202Ereversed", "e\u0301\u0302 marks",
		"👩‍👩‍👧‍👦 family", strings.Repeat("Long category ", 80), "a&amp;b", "x_y-z.w", "日本語のカテゴリー",
	}
	var mixed, plain strings.Builder
	for i := range 500 {
		fmt.Fprintf(&mixed, "<category>%s %d</category>\n", hostile[i%len(hostile)], i)
		fmt.Fprintf(&plain, "<category>Topic%d</category>\n", i)
	}
	return rssFeed("Categories", now,
		rssItem{title: "Categories: five hundred hostile ones", link: "https://hostile.example/categories/hostile/", guid: "categories-hostile",
			extra: mixed.String(), description: "Filed under everything.", age: 50 * time.Minute},
		rssItem{title: "Categories: five hundred plain ones", link: "https://hostile.example/categories/plain/", guid: "categories-plain",
			extra: plain.String(), description: "Filed under Topic0 to Topic499.", age: 49 * time.Minute},
	)
}

// nestingDepth is how deep the nesting feeds nest.
const nestingDepth = 100_000

// deepNestingFeed nests elements nestingDepth deep: unknown elements in an
// item, extension elements (a namespace) in another, HTML elements in a
// third one's content, and none in an ordinary fourth.
func deepNestingFeed(now time.Time) []byte {
	nest := func(open, close string) string {
		return strings.Repeat(open, nestingDepth) + "deep text" + strings.Repeat(close, nestingDepth)
	}
	return rssFeed("Deep nesting", now,
		rssItem{title: "Nesting: unknown elements", link: "https://hostile.example/nesting/unknown/", guid: "nesting-unknown",
			extra: nest("<deep>", "</deep>") + "\n", description: "An item holding unknown elements nested a hundred thousand deep.", age: 50 * time.Minute},
		rssItem{title: "Nesting: extension elements", link: "https://hostile.example/nesting/extension/", guid: "nesting-extension",
			extra: nest("<x:deep>", "</x:deep>") + "\n", description: "An item holding extension elements nested a hundred thousand deep.", age: 49 * time.Minute},
		rssItem{title: "Nesting: HTML in the content", link: "https://hostile.example/nesting/html/", guid: "nesting-html",
			// Within the first megabyte, the part of an item's HTML read.
			extra:       "<content:encoded><![CDATA[<p>Before the nest.</p>" + nest("<div>", "</div>") + "]]></content:encoded>\n",
			description: "", age: 48 * time.Minute},
		rssItem{title: "Nesting: an ordinary item after the nests", link: "https://hostile.example/nesting/ordinary/", guid: "nesting-ordinary",
			description: "Nothing nested here.", age: 47 * time.Minute},
	)
}

// deepJSONFeed is a JSON Feed whose extension member nests arrays
// nestingDepth deep.
func deepJSONFeed(now time.Time) []byte {
	return []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"Deep JSON","home_page_url":"https://hostile.example/json/",` +
		`"_deep":` + strings.Repeat("[", nestingDepth) + strings.Repeat("]", nestingDepth) + `,` +
		`"items":[{"id":"json-ordinary","url":"https://hostile.example/nesting/json/","title":"Nesting: JSON arrays",` +
		`"content_text":"A JSON Feed with arrays nested a hundred thousand deep.","date_published":"` + now.Add(-46*time.Minute).UTC().Format(time.RFC3339) + `"}]}`)
}

// graphemeClusters are grapheme clusters of many code points: family,
// flag, skin tone and profession, two people holding hands, stacked
// combining marks, a Devanagari conjunct, a keycap, an Arabic letter with
// harakat.
func graphemeClusters() []string {
	return []string{"👩‍👩‍👧‍👦", "🏳️‍🌈", "👨🏽‍🔧", "🇦🇱", "e\u0301\u0302\u0303", "🧑🏿‍🤝‍🧑🏻", "क्षि", "1️⃣", "بَّ"}
}

// graphemeFeed has items whose titles, summaries and alt texts are long
// runs of clusters, each shifted by a few letters so that every cut the
// renderers make (caption, message, excerpt, title, share text, alt text)
// falls at another place inside a cluster from one item to the next.
func graphemeFeed(base string, now time.Time) []byte {
	clusters := graphemeClusters()
	var items []rssItem
	for offset := range 6 {
		var title, summary, alt strings.Builder
		title.WriteString(strings.Repeat("a", offset))
		summary.WriteString(strings.Repeat("b", offset))
		alt.WriteString(strings.Repeat("c", offset))
		for i := range 400 {
			title.WriteString(clusters[(i+offset)%len(clusters)])
		}
		for i := range 1800 {
			summary.WriteString(clusters[(i+offset)%len(clusters)])
			if (i+offset)%5 == 4 {
				summary.WriteString(" ")
			}
			if (i+offset)%60 == 59 {
				summary.WriteString(". ")
			}
		}
		for i := range 1600 {
			alt.WriteString(clusters[(i+2*offset)%len(clusters)])
		}
		extra := ""
		if offset%2 == 0 {
			extra = fmt.Sprintf(`<media:content url="%s/img/clusters-%d.png" medium="image" type="image/png"><media:description>%s</media:description></media:content>`+"\n", base, offset, alt.String())
		}
		items = append(items, rssItem{title: title.String(), link: fmt.Sprintf("https://hostile.example/graphemes/%d/", offset),
			guid: fmt.Sprintf("graphemes-%d", offset), extra: extra, description: summary.String(), age: time.Duration(50-offset) * time.Minute})
	}
	return rssFeed("Graphemes", now, items...)
}

// testPNG is a small image for the feeds' image URLs.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(5 * y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
