package feed

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// Limits on what one item's HTML may cost.
const (
	// maxHTMLBytes is how much of an item's HTML is read; the summary is
	// far shorter, and hostile items must not cost more than this.
	maxHTMLBytes = 1 << 20
	// maxSummaryRunes is the length a summary is cut to.
	maxSummaryRunes = 20000
	// maxCollectRunes stops collecting text well past the cut, so that the
	// cut can still look for a paragraph end.
	maxCollectRunes = maxSummaryRunes + 2000
	// maxFound caps the images, attachments and videos taken from an item.
	maxFound = 20
)

// found is what one pass over an item's HTML yields.
type found struct {
	text   string
	images []syndicate.Image
	pdfs   []syndicate.Attachment
	videos []syndicate.Video
}

// Block elements: a paragraph break around them, or a line break.
var (
	paragraphTags = map[string]bool{
		"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
		"blockquote": true, "pre": true, "dl": true, "table": true, "figure": true,
		"hr": true, "address": true, "details": true, "fieldset": true,
	}
	lineTags = map[string]bool{
		"div": true, "section": true, "article": true, "header": true, "footer": true,
		"aside": true, "main": true, "nav": true, "dt": true, "dd": true, "tr": true,
		"figcaption": true, "caption": true, "summary": true, "center": true,
		"legend": true,
	}
	// droppedTags never contribute text: code, embeds, forms and the like.
	droppedTags = map[string]bool{
		"script": true, "style": true, "iframe": true, "noscript": true, "noembed": true,
		"noframes": true, "template": true, "form": true, "object": true, "embed": true,
		"applet": true, "svg": true, "math": true, "button": true, "select": true,
		"textarea": true, "input": true, "audio": true, "video": true, "canvas": true,
		"head": true, "title": true, "meta": true, "link": true, "xmp": true,
		"plaintext": true, "frameset": true, "frame": true, "dialog": true, "map": true,
	}
	// rawTags make the tokenizer read everything up to their end tag as text.
	rawTags = map[string]bool{
		"script": true, "style": true, "iframe": true, "noscript": true, "noembed": true,
		"noframes": true, "textarea": true, "title": true, "xmp": true, "plaintext": true,
	}
	// droppedClasses mark boilerplate that WordPress and FeedBurner add
	// to content: "Continue reading" links, share and related-post boxes.
	droppedClasses = map[string]bool{
		"more-link": true, "feedflare": true, "sharedaddy": true, "jp-relatedposts": true,
		"yarpp-related": true,
	}
	voidTags = map[string]bool{
		"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
		"img": true, "input": true, "link": true, "meta": true, "source": true,
		"track": true, "wbr": true, "param": true,
	}
)

// scanHTML reads an item's HTML once, with a streaming tokenizer (linear
// time, no depth limit, whatever the nesting), and returns its plain text
// and, when media is set, the images, PDF links and embedded videos in it,
// with URLs resolved against base.
func scanHTML(src string, base *url.URL, media bool) found {
	if len(src) > maxHTMLBytes {
		src = src[:maxHTMLBytes]
	}
	src = strings.ToValidUTF8(src, "\uFFFD")
	s := scanner{base: base, media: media}
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return s.result()
		case html.TextToken:
			if s.skip == "" {
				txt := string(z.Text())
				s.w.text(txt, s.pre > 0)
				if s.link != nil && s.link.text.Len() < 1000 {
					s.link.text.WriteString(txt)
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, attrs := readTag(z)
			s.start(name, attrs, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			s.end(string(name))
		}
	}
}

type attr struct{ key, val string }

func readTag(z *html.Tokenizer) (string, []attr) {
	n, more := z.TagName()
	name := string(n)
	var attrs []attr
	for more && len(attrs) < 64 {
		var k, v []byte
		k, v, more = z.TagAttr()
		attrs = append(attrs, attr{string(k), string(v)})
	}
	return name, attrs
}

func get(attrs []attr, key string) string {
	for _, a := range attrs {
		if a.key == key {
			return a.val
		}
	}
	return ""
}

type pendingLink struct {
	url   string
	title string
	text  strings.Builder
}

type scanner struct {
	base  *url.URL
	media bool
	w     textWriter
	// skip names the element whose content is being dropped; depth counts
	// its nested namesakes.
	skip      string
	skipDepth int
	pre       int
	lists     []listState
	link      *pendingLink

	images  []syndicate.Image
	pdfs    []syndicate.Attachment
	videos  []syndicate.Video
	seenURL map[string]bool
}

type listState struct {
	ordered bool
	n       int
}

func (s *scanner) start(name string, attrs []attr, selfClosing bool) {
	if s.skip != "" {
		if name == s.skip && !selfClosing && !voidTags[name] {
			s.skipDepth++
		}
		if s.skip == "video" && name == "source" {
			s.videoSource(attrs)
		}
		return
	}
	if s.media {
		switch name {
		case "img":
			s.img(attrs)
		case "iframe", "embed":
			s.embed(get(attrs, "src"))
		case "object":
			s.embed(get(attrs, "data"))
		case "video":
			s.videoSource(attrs)
		}
	}
	if droppedTags[name] || hasDroppedClass(get(attrs, "class")) {
		if rawTags[name] || (!selfClosing && !voidTags[name]) {
			s.skip, s.skipDepth = name, 1
		}
		return
	}
	switch {
	case name == "br":
		s.w.newline()
	case name == "img":
		// WordPress turns emoji into images; their alt text is the emoji.
		if alt := get(attrs, "alt"); isEmojiImage(attrs) && utf8.RuneCountInString(alt) <= 8 {
			s.w.text(alt, false)
		}
	case name == "ul" || name == "ol":
		if len(s.lists) > 0 {
			s.w.brk(1)
		} else {
			s.w.brk(2)
		}
		if len(s.lists) < 100 {
			s.lists = append(s.lists, listState{ordered: name == "ol", n: startNumber(attrs)})
		}
	case name == "li":
		s.w.brk(1)
		marker := "• "
		if len(s.lists) > 0 {
			l := &s.lists[len(s.lists)-1]
			if l.ordered {
				l.n++
				marker = strconv.Itoa(l.n) + ". "
			}
		}
		s.w.marker = marker
	case name == "td" || name == "th":
		s.w.space = true
	case name == "pre":
		s.pre++
		s.w.brk(2)
	case name == "a":
		s.closeLink()
		if s.media {
			s.openLink(attrs)
		}
	case paragraphTags[name]:
		s.w.brk(2)
	case lineTags[name]:
		s.w.brk(1)
	}
}

func (s *scanner) end(name string) {
	if s.skip != "" {
		if name == s.skip {
			s.skipDepth--
			if s.skipDepth == 0 {
				s.skip = ""
			}
		}
		return
	}
	switch {
	case name == "ul" || name == "ol":
		if len(s.lists) > 0 {
			s.lists = s.lists[:len(s.lists)-1]
		}
		if len(s.lists) > 0 {
			s.w.brk(1)
		} else {
			s.w.brk(2)
		}
	case name == "li":
		s.w.brk(1)
	case name == "td" || name == "th":
		s.w.space = true
	case name == "pre":
		if s.pre > 0 {
			s.pre--
		}
		s.w.brk(2)
	case name == "a":
		s.closeLink()
	case paragraphTags[name]:
		s.w.brk(2)
	case lineTags[name]:
		s.w.brk(1)
	}
}

func startNumber(attrs []attr) int {
	if n, err := strconv.Atoi(get(attrs, "start")); err == nil && n > 0 && n < 1e6 {
		return n - 1
	}
	return 0
}

func hasDroppedClass(class string) bool {
	if class == "" {
		return false
	}
	for _, c := range strings.Fields(class) {
		if droppedClasses[c] {
			return true
		}
	}
	return false
}

func isEmojiImage(attrs []attr) bool {
	for _, c := range strings.Fields(get(attrs, "class")) {
		if c == "wp-smiley" || c == "emoji" {
			return true
		}
	}
	return strings.Contains(get(attrs, "src"), "/images/core/emoji/")
}

func (s *scanner) seen(u string) bool {
	if s.seenURL == nil {
		s.seenURL = map[string]bool{}
	}
	if s.seenURL[u] {
		return true
	}
	s.seenURL[u] = true
	return false
}

// img records a content image unless it is decorative.
func (s *scanner) img(attrs []attr) {
	if len(s.images) >= maxFound {
		return
	}
	src := get(attrs, "src")
	if src == "" || strings.HasPrefix(strings.TrimSpace(strings.ToLower(src)), "data:") {
		// Lazy-loading plugins keep the real source elsewhere.
		for _, k := range []string{"data-src", "data-lazy-src", "data-original", "data-orig-file"} {
			if v := get(attrs, k); v != "" {
				src = v
				break
			}
		}
	}
	width, height := dimension(get(attrs, "width")), dimension(get(attrs, "height"))
	class := get(attrs, "class")
	u, ok := resolve(s.base, src)
	if !ok || decorative(u, width, height, class) || isEmojiImage(attrs) {
		return
	}
	img := syndicate.Image{URL: u.String(), Width: width, Height: height, Source: "content"}
	srcset := get(attrs, "srcset")
	if srcset == "" {
		srcset = get(attrs, "data-srcset")
	}
	if c, ok := largestCandidate(srcset); ok {
		if cu, ok := resolve(s.base, c.url); ok {
			img.URL = cu.String()
			if c.w > 0 {
				if width > 0 && height > 0 {
					img.Height = height * c.w / width
				} else {
					img.Height = 0
				}
				img.Width = c.w
			}
		}
	}
	img.Alt = altText(get(attrs, "alt"))
	if img.Alt == "" {
		img.Alt = altText(get(attrs, "title"))
	}
	if s.seen("img " + img.URL) {
		return
	}
	s.images = append(s.images, img)
}

// altText cleans an image description; a bare file name, which editors
// leave when they write none, describes nothing and is dropped.
func altText(s string) string {
	s = cleanLine(s)
	if fileNameAlt.MatchString(s) {
		return ""
	}
	return s
}

var fileNameAlt = regexp.MustCompile(`(?i)^[\w.+-]+\.(jpe?g|png|gif|webp|avif|svg|bmp|tiff?)$`)

// dimension reads an HTML width or height ("300", "300px"); percentages
// and junk are unknown (0).
func dimension(v string) int {
	v = strings.TrimSuffix(strings.TrimSpace(v), "px")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 100000 {
		return 0
	}
	return n
}

type candidate struct {
	url string
	w   int
	x   float64
}

// largestCandidate picks the widest (else densest) candidate of a srcset.
func largestCandidate(srcset string) (candidate, bool) {
	var best candidate
	ok := false
	s := srcset
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t\r\n\f,")
		if s == "" {
			break
		}
		end := strings.IndexAny(s, " \t\r\n\f")
		if end < 0 {
			end = len(s)
		}
		c := candidate{url: s[:end], x: 1}
		s = s[end:]
		if strings.HasSuffix(c.url, ",") {
			c.url = strings.TrimRight(c.url, ",")
		} else {
			desc := s
			if i := strings.IndexByte(s, ','); i >= 0 {
				desc, s = s[:i], s[i+1:]
			} else {
				s = ""
			}
			for _, d := range strings.Fields(desc) {
				switch {
				case strings.HasSuffix(d, "w"):
					if n, err := strconv.Atoi(strings.TrimSuffix(d, "w")); err == nil && n > 0 {
						c.w = n
					}
				case strings.HasSuffix(d, "x"):
					if f, err := strconv.ParseFloat(strings.TrimSuffix(d, "x"), 64); err == nil && f > 0 {
						c.x = f
					}
				}
			}
		}
		if c.url == "" {
			continue
		}
		if !ok || c.w > best.w || (c.w == best.w && c.x > best.x) {
			best, ok = c, true
		}
	}
	return best, ok
}

func (s *scanner) embed(src string) {
	u, ok := resolve(s.base, src)
	if !ok {
		return
	}
	if v, ok := video(u); ok {
		s.addVideo(v)
	}
}

func (s *scanner) videoSource(attrs []attr) {
	if t := get(attrs, "type"); t != "" && !strings.HasPrefix(t, "video/") {
		return
	}
	if u, ok := resolve(s.base, get(attrs, "src")); ok {
		if v, ok := video(u); ok {
			s.addVideo(v)
			return
		}
		s.addVideo(syndicate.Video{URL: u.String()})
	}
}

func (s *scanner) addVideo(v syndicate.Video) {
	if len(s.videos) >= maxFound || s.seen("video "+v.URL) {
		return
	}
	s.videos = append(s.videos, v)
}

func (s *scanner) openLink(attrs []attr) {
	u, ok := resolve(s.base, get(attrs, "href"))
	if !ok || !isPDF(u) {
		return
	}
	s.link = &pendingLink{url: u.String(), title: get(attrs, "title")}
}

func (s *scanner) closeLink() {
	l := s.link
	if l == nil {
		return
	}
	s.link = nil
	if len(s.pdfs) >= maxFound || s.seen("pdf "+l.url) {
		return
	}
	title := cleanLine(l.text.String())
	if title == "" {
		title = cleanLine(l.title)
	}
	s.pdfs = append(s.pdfs, syndicate.Attachment{URL: l.url, Type: "application/pdf", Title: title})
}

func (s *scanner) result() found {
	s.closeLink()
	return found{text: s.w.String(), images: s.images, pdfs: s.pdfs, videos: s.videos}
}

// textWriter builds plain text: whitespace collapsed, breaks requested by
// block elements merged so that at most one blank line separates blocks.
type textWriter struct {
	b      strings.Builder
	runes  int
	pend   int  // pending break: 1 newline, 2 blank line
	space  bool // pending space
	marker string
	last   rune // last rune written
}

func (w *textWriter) brk(n int) {
	if n > w.pend {
		w.pend = n
	}
}

// newline is a hard line break (<br>); two in a row make a blank line.
func (w *textWriter) newline() {
	if w.pend < 2 {
		w.pend++
	}
}

func (w *textWriter) text(s string, pre bool) {
	for _, r := range s {
		switch {
		case pre && r == '\n':
			w.newline()
		case r == '\r':
		case !pre && (collapsible(r) || isNoBreakSpace(r)):
			switch {
			case isNoBreakSpace(w.last) && w.pend == 0 && !w.space:
				// Right after a no-break space, more space adds nothing.
			case collapsible(r):
				w.space = true
			case w.space || w.pend > 0 || w.b.Len() == 0 || w.last == '\n':
				// A no-break space only matters between two words.
				w.space = true
			default:
				w.put(r)
			}
		case invisible(r):
		default:
			w.put(r)
		}
	}
}

func (w *textWriter) put(r rune) {
	if w.runes >= maxCollectRunes {
		return
	}
	if w.b.Len() > 0 {
		switch {
		case w.pend > 0:
			w.b.WriteString("\n\n"[:w.pend])
		case w.space:
			w.b.WriteByte(' ')
		}
	}
	w.pend, w.space = 0, false
	if w.marker != "" {
		w.b.WriteString(w.marker)
		w.marker = ""
	}
	w.b.WriteRune(r)
	w.runes++
	w.last = r
}

func (w *textWriter) String() string { return tidyLines(w.b.String()) }

func isNoBreakSpace(r rune) bool { return r == '\u00a0' || r == '\u202f' || r == '\u2007' }

// collapsible is whitespace that HTML collapses; no-break spaces are
// kept, as they carry typography (French punctuation, numbers).
func collapsible(r rune) bool {
	switch r {
	case '\u00a0', '\u202f', '\u2007':
		return false
	}
	return unicode.IsSpace(r)
}

// invisible runes are dropped: control characters and byte order marks.
// C1 controls are dropped later, by dropC1, as they may be part of a
// double encoding that fixMojibake undoes.
func invisible(r rune) bool {
	return r < 0x20 || r == 0x7f || r == '\ufeff' || r == '\ufffe' || r == '\uffff'
}

func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

// dropC1 removes C1 control characters.
func dropC1(s string) string {
	if strings.IndexFunc(s, isC1) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isC1(r) {
			return -1
		}
		return r
	}, s)
}

// tidyLines trims trailing space on each line, empties lines of only
// spaces and keeps at most one blank line between blocks.
func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if strings.TrimLeftFunc(l, unicode.IsSpace) == "" {
			blank++
			if blank > 1 || len(out) == 0 {
				continue
			}
			out = append(out, "")
			continue
		}
		blank = 0
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// cleanLine turns a short piece of HTML-ish text (a title, alt text, an
// author) into one plain line: tags stripped, entities decoded (twice
// escaped ones too), whitespace collapsed.
func cleanLine(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.ContainsAny(s, "<&") {
		s = scanHTML(s, nil, false).text
	}
	s = dropC1(fixMojibake(decodeLeftoverEntities(s)))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return collapsible(r) || invisible(r) }), " ")
}

// decodeLeftoverEntities decodes entities that survived one decoding
// (WordPress escapes "&#8217;" to "&amp;#8217;"). Only complete entities
// ending in ";" are touched, so text such as "AT&T" or "a=1&b=2" stays.
func decodeLeftoverEntities(s string) string {
	if !strings.Contains(s, "&") || !strings.Contains(s, ";") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		end := strings.IndexByte(s, ';')
		if end < 2 || end > 32 || !entityName(s[1:end]) {
			b.WriteByte('&')
			s = s[1:]
			continue
		}
		dec := html.UnescapeString(s[:end+1])
		if dec == s[:end+1] {
			b.WriteByte('&')
			s = s[1:]
			continue
		}
		b.WriteString(dec)
		s = s[end+1:]
	}
	return b.String()
}

func entityName(n string) bool {
	if strings.HasPrefix(n, "#") {
		n = n[1:]
		if strings.HasPrefix(n, "x") || strings.HasPrefix(n, "X") {
			n = n[1:]
		}
	}
	if n == "" {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
