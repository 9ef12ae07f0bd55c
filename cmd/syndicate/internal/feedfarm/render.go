package feedfarm

import (
	"html"
	"strconv"
	"strings"
	"time"
)

// paragraphCount is how many paragraphs each edition has to draw from.
const paragraphCount = 48

// paragraph is a rendered paragraph with its excerpt.
type paragraph struct {
	html, excerpt string
}

// escapeEdition escapes the edition's plain texts for XML once, so that
// rendering never escapes.
func escapeEdition(ed *edition) {
	for i, t := range ed.titles {
		ed.titles[i] = html.EscapeString(t)
	}
	ed.site, ed.source = html.EscapeString(ed.site), html.EscapeString(ed.source)
}

// paragraphs assembles an edition's paragraphs, three to five of its
// sentences each, once per farm: items only pick among them, so that
// rendering a feed is copying.
func paragraphs(ed edition, seed int) []paragraph {
	out := make([]paragraph, paragraphCount)
	for p := range out {
		h := mix(uint64(seed), uint64(p))
		var b strings.Builder
		b.WriteString("<p>")
		n := 3 + int(h%3)
		for s := range n {
			if s > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(html.EscapeString(ed.sentences[int((h>>(8+4*s))%uint64(len(ed.sentences)))]))
		}
		b.WriteString("</p>\n")
		out[p] = paragraph{html: b.String(), excerpt: excerpt(b.String())}
	}
	return out
}

// render appends feed i with count items so far, as WordPress writes a
// category feed.
func (f *Farm) render(b []byte, i, count int, changes []int) []byte {
	ed := &f.eds[i%len(f.eds)]
	topic := ed.categories[i%len(ed.categories)]
	self := f.FeedURL(i)
	home := f.url + ed.path + "/"
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>

<channel>
	<title>`...)
	b = append(b, ed.site...)
	b = append(b, " &#8211; "...)
	b = append(b, topic...)
	b = append(b, " "...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, "</title>\n\t<atom:link href=\""...)
	b = append(b, self...)
	b = append(b, "\" rel=\"self\" type=\"application/rss+xml\" />\n\t<link>"...)
	b = append(b, home...)
	b = append(b, "</link>\n\t<description>News and analysis</description>\n\t<lastBuildDate>"...)
	b = f.itemDate(i, count-1, changes).AppendFormat(b, time.RFC1123Z)
	b = append(b, "</lastBuildDate>\n\t<language>"...)
	b = append(b, ed.lang...)
	b = append(b, `</language>
	<sy:updatePeriod>
	hourly	</sy:updatePeriod>
	<sy:updateFrequency>
	1	</sy:updateFrequency>
	<generator>https://wordpress.org/?v=6.7.1</generator>

<image>
	<url>`...)
	b = append(b, f.url...)
	b = append(b, "/wp-content/uploads/2024/01/cropped-logo-32x32.png</url>\n\t<title>"...)
	b = append(b, ed.site...)
	b = append(b, "</title>\n\t<link>"...)
	b = append(b, home...)
	b = append(b, "</link>\n\t<width>32</width>\n\t<height>32</height>\n</image> \n"...)
	for k := count - 1; k >= max(count-ItemsPerFeed, 0); k-- {
		b = f.renderItem(b, ed, i, k, changes)
	}
	return append(b, "\t</channel>\n</rss>\n"...)
}

// renderItem appends item k of feed i with what WordPress and a common SEO
// plugin put in an item: categories, an excerpt with the plugin's
// "appeared first on" line, the full content with a featured figure and an
// enclosure.
func (f *Farm) renderItem(b []byte, ed *edition, i, k int, changes []int) []byte {
	h := mix(uint64(i), uint64(k))
	id := postID(i, k)
	date := f.itemDate(i, k, changes)
	title := ed.titles[h%uint64(len(ed.titles))]
	paras := f.paras[i%len(f.eds)]
	link := strconv.AppendInt(date.AppendFormat(append([]byte(f.url), ed.path...), "/2006/01/02/article-"), int64(id), 10)
	link = append(link, '/')
	upload := date.AppendFormat(append([]byte(f.url), "/wp-content/uploads"...), "/2006/01/photo-")
	upload = strconv.AppendInt(upload, int64(id), 10)

	b = append(b, "\t<item>\n\t\t<title>"...)
	b = append(b, title...)
	b = append(b, "</title>\n\t\t<link>"...)
	b = append(b, link...)
	b = append(b, "</link>\n\t\t\t\t\t<comments>"...)
	b = append(b, link...)
	b = append(b, "#respond</comments>\n\t\t\n\t\t<dc:creator><![CDATA["...)
	b = append(b, ed.authors[(h>>8)%uint64(len(ed.authors))]...)
	b = append(b, "]]></dc:creator>\n\t\t<pubDate>"...)
	b = date.AppendFormat(b, time.RFC1123Z)
	b = append(b, "</pubDate>\n"...)
	ncat := 2 + int((h>>16)%3)
	for c := range ncat {
		b = append(b, "\t\t\t\t<category><![CDATA["...)
		b = append(b, ed.categories[(int(h>>24)+c)%len(ed.categories)]...)
		b = append(b, "]]></category>\n"...)
	}
	b = append(b, "\n\t\t<guid isPermaLink=\"false\">"...)
	b = append(b, f.url...)
	b = append(b, "/?p="...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, "</guid>\n\n\t\t\t\t\t<description><![CDATA["...)
	first := paras[(h>>32)%paragraphCount]
	b = append(b, first.excerpt...)
	b = append(b, " [&#8230;]</p>\n<p>The post <a href=\""...)
	b = append(b, link...)
	b = append(b, "\">"...)
	b = append(b, title...)
	b = append(b, "</a> appeared first on <a href=\""...)
	b = append(b, f.url...)
	b = append(b, ed.path...)
	b = append(b, "\">"...)
	b = append(b, ed.site...)
	b = append(b, "</a>.</p>\n]]></description>\n\t\t\t\t\t\t\t\t\t\t<content:encoded><![CDATA["...)
	b = append(b, `<figure class="wp-block-image size-large"><img fetchpriority="high" decoding="async" width="1024" height="576" src="`...)
	b = append(b, upload...)
	b = append(b, `-1024x576.jpg" alt="" class="wp-image-`...)
	b = strconv.AppendInt(b, int64(id+1), 10)
	b = append(b, `" srcset="`...)
	for _, size := range []string{"-1024x576.jpg 1024w, ", "-300x169.jpg 300w, ", "-768x432.jpg 768w, ", ".jpg 1200w"} {
		b = append(b, upload...)
		b = append(b, size...)
	}
	b = append(b, `" sizes="(max-width: 1024px) 100vw, 1024px" /><figcaption class="wp-element-caption">`...)
	b = append(b, title...)
	b = append(b, "</figcaption></figure>\n\n"...)
	b = append(b, first.html...)
	written := len(first.html)
	for p := uint64(1); written < contentTarget; p++ {
		para := paras[((h>>32)+p*7)%paragraphCount]
		b = append(b, '\n')
		b = append(b, para.html...)
		written += len(para.html)
	}
	b = append(b, "\n<p>"...)
	b = append(b, ed.source...)
	b = append(b, "</p>\n<p>The post <a href=\""...)
	b = append(b, link...)
	b = append(b, "\">"...)
	b = append(b, title...)
	b = append(b, "</a> appeared first on <a href=\""...)
	b = append(b, f.url...)
	b = append(b, ed.path...)
	b = append(b, "\">"...)
	b = append(b, ed.site...)
	b = append(b, "</a>.</p>\n]]></content:encoded>\n\t\t\t\t\t<wfw:commentRss>"...)
	b = append(b, link...)
	b = append(b, "feed/</wfw:commentRss>\n\t\t\t<slash:comments>0</slash:comments>\n\t\t<enclosure url=\""...)
	b = append(b, upload...)
	b = append(b, ".jpg\" length=\""...)
	b = strconv.AppendInt(b, 90_000+int64(h%150_000), 10)
	b = append(b, "\" type=\"image/jpeg\" />\n\n\t\t\t\t\t\n\t\t</item>\n"...)
	return b
}

// excerpt is the start of a paragraph, as WordPress cuts it for
// <description>: the opening tag and at most the first two sentences.
func excerpt(para string) string {
	s := strings.TrimSuffix(para, "</p>\n")
	end, sentences := len(s), 0
	for j, r := range s {
		if r == '.' || r == '؟' {
			if sentences++; sentences == 2 {
				end = j
				break
			}
		}
	}
	return s[:end]
}
