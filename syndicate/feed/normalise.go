package feed

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	jsonfeed "github.com/mmcdole/gofeed/json"
	"github.com/rivo/uniseg"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// Caps on single fields, so that one absurd item cannot bloat posts or state.
const (
	maxTitleRunes    = 1000
	maxAltRunes      = 1500
	maxAuthorRunes   = 200
	maxCategoryRunes = 100
	maxCategories    = 50
	maxGUIDBytes     = 512
)

// feedContext is what normalising an item needs to know about its feed.
type feedContext struct {
	feedID string
	// base resolves relative item links: the feed's own link, else the
	// URL the feed was fetched from.
	base *url.URL
	// lang is the language every item without its own gets, and from
	// where it comes.
	lang     string
	langFrom syndicate.LanguageFrom
	// json holds the JSON Feed items behind the parsed ones, for the
	// fields the universal item lacks (language, plain-text content).
	json []*jsonfeed.Item
}

// empty reports an item with nothing to post (feeds do carry blank
// entries).
func empty(it syndicate.Item) bool {
	return it.Title == "" && it.Summary == "" && it.Link == "" && it.Image == nil &&
		len(it.Attachments) == 0 && len(it.Videos) == 0
}

// fragmentsIdentify reports, per fragment-less link, whether several items
// share it and differ only in the fragment: then the fragment is what
// tells them apart (one page with an anchor per item) and must stay.
func fragmentsIdentify(links []*url.URL) map[string]bool {
	frags := map[string]map[string]bool{}
	for _, u := range links {
		if u == nil || u.Fragment == "" || trackingFragment(u.Fragment) {
			continue
		}
		k := canonicalLink(u, false)
		if frags[k] == nil {
			frags[k] = map[string]bool{}
		}
		frags[k][u.Fragment] = true
	}
	keep := map[string]bool{}
	for k, set := range frags {
		if len(set) > 1 {
			keep[k] = true
		}
	}
	return keep
}

// uniqueKey picks the item's key: GUID, else link, else a content hash;
// when the key was already used in this feed it falls back along the same
// order, and reports false for an item identical to an earlier one.
func uniqueKey(item syndicate.Item, it *gofeed.Item, used map[string]bool) (string, bool) {
	if k := "guid:" + item.GUID; item.GUID != "" && !used[k] {
		return k, true
	}
	if k := "link:" + item.Link; item.Link != "" && !used[k] {
		return k, true
	}
	// The content hash is taken only when needed: it reads the whole item.
	if k := "hash:" + contentHash(it); !used[k] {
		return k, true
	}
	return "", false
}

func contentHash(it *gofeed.Item) string {
	h := sha256.New()
	for _, s := range []string{it.Title, it.Content, it.Description, it.Published, it.Updated} {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// itemLink returns the item's absolute article URL (fragment and all).
func (fc *feedContext) itemLink(it *gofeed.Item) *url.URL {
	if it == nil {
		return nil
	}
	// FeedBurner rewrites links to its click counter and keeps the real
	// one aside.
	cands := extValues(it.Extensions, "feedburner", "origLink")
	cands = append(cands, it.Link)
	for _, l := range append(cands, it.Links...) {
		if u, ok := resolve(fc.base, l); ok {
			return u
		}
	}
	// An RSS guid is a permalink unless it says otherwise; only an
	// absolute URL is trusted here.
	if g := strings.TrimSpace(it.GUID); strings.HasPrefix(g, "http://") || strings.HasPrefix(g, "https://") {
		if u, ok := resolve(nil, g); ok {
			return u
		}
	}
	return nil
}

// head is the part of an item that costs no HTML scanning: its
// identity, link, title, author, dates, categories and language, which is
// all a route's filter reads unless it matches words or languages.
func (fc *feedContext) head(i int, it *gofeed.Item, link *url.URL, keepFragment map[string]bool) syndicate.Item {
	item := syndicate.Item{FeedID: fc.feedID, GUID: guid(it.GUID)}
	if link != nil {
		item.Link = canonicalLink(link, keepFragment[canonicalLink(link, false)])
	}
	item.Title = capRunes(cleanLine(it.Title), maxTitleRunes)
	item.Author = author(it)
	item.Published = date(it.PublishedParsed)
	item.Updated = date(it.UpdatedParsed)
	item.Categories = categories(it)
	item.Language = normLang(itemLanguage(it, fc.jsonItem(i)))
	item.LanguageFrom = syndicate.LanguageFromItem
	if item.Language == "" {
		item.Language, item.LanguageFrom = fc.lang, fc.langFrom
	}
	return item
}

// jsonItem is the JSON Feed item behind the i-th parsed one, if any.
func (fc *feedContext) jsonItem(i int) *jsonfeed.Item {
	if i < len(fc.json) {
		return fc.json[i]
	}
	return nil
}

func (fc *feedContext) item(i int, it *gofeed.Item, link *url.URL, keepFragment map[string]bool) syndicate.Item {
	item := fc.head(i, it, link, keepFragment)
	contentBase := fc.base
	if link != nil {
		contentBase = link
	}

	content, desc := it.Content, it.Description
	jsonItem := fc.jsonItem(i)
	if jsonItem != nil && jsonItem.ContentHTML == "" && jsonItem.ContentText != "" {
		content = plainToHTML(jsonItem.ContentText)
	}
	content, desc = plainOrHTML(content), plainOrHTML(desc)
	fromContent := scanHTML(content, contentBase, true)
	var fromDesc found
	if it.Description != "" && it.Description != it.Content {
		fromDesc = scanHTML(desc, contentBase, true)
	}
	// A placeholder content ("...") gives way to the description.
	text := fromContent.text
	if !hasWord(text) {
		text = fromDesc.text
	}
	if !hasWord(text) {
		// Video feeds (YouTube, PeerTube) describe the item in Media RSS.
		text = scanHTML(plainOrHTML(mediaDescription(it)), contentBase, false).text
	}
	item.Summary = summarise(dropC1(fixMojibake(text)), item.Title)

	contentImages := append(fromContent.images, fromDesc.images...)
	item.Image, item.LeadAlternates = leadImage(it, contentBase, contentImages, jsonItem)
	item.Images = moreImages(item.Image, contentImages)
	item.Attachments = attachments(it, contentBase, append(fromContent.pdfs, fromDesc.pdfs...))
	item.Videos = videos(it, contentBase, append(fromContent.videos, fromDesc.videos...))
	return item
}

func guid(g string) string {
	g = strings.TrimSpace(strings.ToValidUTF8(g, "\uFFFD"))
	if len(g) > maxGUIDBytes {
		sum := sha256.Sum256([]byte(g))
		return "sha256-" + hex.EncodeToString(sum[:16])
	}
	return g
}

// plainToHTML lets plain text go through the same path as HTML content,
// keeping its line structure: a blank line separates paragraphs. Entities
// are left for the tokenizer to decode.
func plainToHTML(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	s = strings.NewReplacer("<", "&lt;", ">", "&gt;", "\r\n", "\n").Replace(s)
	var b strings.Builder
	for _, p := range strings.Split(s, "\n\n") {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(p, "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}

// plainOrHTML returns HTML as it is and turns plain text into HTML.
func plainOrHTML(s string) string {
	if looksLikeHTML(s) {
		return s
	}
	return plainToHTML(s)
}

// mediaDescription is the item's media:description, directly or in a
// media:group.
func mediaDescription(it *gofeed.Item) string {
	media := it.Extensions["media"]
	for _, e := range media["description"] {
		if e.Value != "" {
			return e.Value
		}
	}
	for _, g := range media["group"] {
		for _, e := range g.Children["description"] {
			if e.Value != "" {
				return e.Value
			}
		}
	}
	return ""
}

// looksLikeHTML reports whether s has a tag in it; text without any is
// plain text, whatever the format said.
func looksLikeHTML(s string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0 && i+1 < len(s); {
		c := s[i+1]
		if c == '/' || c == '!' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return true
		}
		j := strings.IndexByte(s[i+1:], '<')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

func hasWord(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

func capRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return cutText(s, n)
}

func author(it *gofeed.Item) string {
	people := append([]*gofeed.Person(nil), it.Authors...)
	if it.Author != nil {
		people = append(people, it.Author)
	}
	for _, p := range people {
		if p == nil {
			continue
		}
		if n := capRunes(cleanLine(p.Name), maxAuthorRunes); n != "" {
			return n
		}
	}
	return ""
}

// date keeps what the parser understood, however far in the past or
// ahead (the engine decides what such a date means); unparsable dates are
// unknown.
func date(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func categories(it *gofeed.Item) []string {
	raw := append([]string(nil), it.Categories...)
	raw = append(raw, extValues(it.Extensions, "dc", "subject")...)
	var out []string
	seen := map[string]bool{}
	for _, c := range raw {
		c = capRunes(cleanLine(c), maxCategoryRunes)
		k := strings.ToLower(c)
		if c == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
		if len(out) == maxCategories {
			break
		}
	}
	return out
}

// feedLanguage chooses the language of the feed's items that declare none:
// the operator's, else the feed's channel-level declaration, else the
// configured default. Editions sharing one WordPress install often all
// declare the main edition's language, so the operator's choice wins.
func feedLanguage(f *gofeed.Feed, spec syndicate.FeedSpec) (string, syndicate.LanguageFrom) {
	if l := normLang(spec.Language); l != "" {
		return l, syndicate.LanguageFromOperator
	}
	declared := normLang(f.Language)
	if declared == "" && f.DublinCoreExt != nil {
		declared = normLang(first(f.DublinCoreExt.Language))
	}
	if declared != "" {
		return declared, syndicate.LanguageFromFeed
	}
	if l := normLang(spec.DefaultLanguage); l != "" {
		return l, syndicate.LanguageFromDefault
	}
	return "", ""
}

func itemLanguage(it *gofeed.Item, j *jsonfeed.Item) string {
	if j != nil && j.Language != "" {
		return j.Language
	}
	if it.DublinCoreExt != nil {
		if l := first(it.DublinCoreExt.Language); l != "" {
			return l
		}
	}
	return first(extValues(it.Extensions, "dc", "language"))
}

func first(s []string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func extValues(e ext.Extensions, ns, name string) []string {
	var out []string
	for _, x := range e[ns][name] {
		out = append(out, x.Value)
	}
	return out
}

// normLang normalises a language tag to BCP 47 letter case ("en-us" and
// "en_US" become "en-US"); anything that is not shaped like a tag is
// dropped.
func normLang(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", "-"))
	if s == "" || len(s) > 35 {
		return ""
	}
	parts := strings.Split(s, "-")
	for i, p := range parts {
		if p == "" || len(p) > 8 {
			return ""
		}
		for _, c := range p {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return ""
			}
		}
		switch {
		case i == 0:
			if len(p) < 2 || len(p) > 8 || strings.ContainsAny(p, "0123456789") {
				return ""
			}
			parts[i] = strings.ToLower(p)
		case len(p) == 2 && isAlpha(p):
			parts[i] = strings.ToUpper(p)
		case len(p) == 4 && isAlpha(p):
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		default:
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-")
}

func isAlpha(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// mediaItem is one media:content or media:thumbnail element.
type mediaItem struct {
	url           *url.URL
	medium, mtype string
	width, height int
	alt           string
	thumbnail     bool
}

// mediaItems lists the Media RSS elements of an item, those inside
// media:group and media:content included, with their alt text.
func mediaItems(it *gofeed.Item, base *url.URL) []mediaItem {
	media := it.Extensions["media"]
	if media == nil {
		return nil
	}
	itemAlt := mediaAlt(media, true)
	var out []mediaItem
	var walk func(children map[string][]ext.Extension, alt string)
	walk = func(children map[string][]ext.Extension, alt string) {
		for _, kind := range []string{"content", "thumbnail"} {
			for _, e := range children[kind] {
				own := mediaAlt(e.Children, false)
				if own == "" {
					own = alt
				}
				if u, ok := resolve(base, e.Attrs["url"]); ok {
					out = append(out, mediaItem{
						url:       u,
						medium:    strings.ToLower(e.Attrs["medium"]),
						mtype:     strings.ToLower(e.Attrs["type"]),
						width:     dimension(e.Attrs["width"]),
						height:    dimension(e.Attrs["height"]),
						alt:       own,
						thumbnail: kind == "thumbnail",
					})
				}
				if kind == "content" {
					walk(map[string][]ext.Extension{"thumbnail": e.Children["thumbnail"]}, own)
				}
			}
		}
	}
	walk(media, itemAlt)
	for _, g := range media["group"] {
		alt := mediaAlt(g.Children, true)
		if alt == "" {
			alt = itemAlt
		}
		walk(g.Children, alt)
	}
	return out
}

// mediaAlt is the alt text Media RSS gives: an element's own description
// describes it; for the elements of a group or item the title fits better,
// as their description is about the whole item.
func mediaAlt(children map[string][]ext.Extension, inherited bool) string {
	order := []string{"description", "title"}
	if inherited {
		order = []string{"title", "description"}
	}
	for _, k := range order {
		for _, e := range children[k] {
			if a := capRunes(cleanLine(e.Value), maxAltRunes); a != "" {
				return a
			}
		}
	}
	return ""
}

func (m mediaItem) isImage() bool {
	if m.thumbnail {
		return true
	}
	switch {
	case m.medium == "image", strings.HasPrefix(m.mtype, "image/"):
		return true
	case m.medium == "" && m.mtype == "":
		return hasImageExt(m.url)
	}
	return false
}

func (m mediaItem) isVideo() bool {
	if m.thumbnail {
		return false
	}
	if _, ok := video(m.url); ok {
		return true
	}
	return m.medium == "video" || strings.HasPrefix(m.mtype, "video/")
}

// maxLeadAlternates caps the lead image candidates kept besides the lead.
const maxLeadAlternates = 6

// leadImage picks the item's picture: Media RSS content images (largest),
// then thumbnails, then an image the feed format names (JSON Feed, iTunes),
// then an image enclosure, then the first meaningful image in the content.
// The other feed candidates, in the same order, are returned as alternates
// for when the lead does not load; content images are not among them, as
// they are kept in Item.Images.
func leadImage(it *gofeed.Item, base *url.URL, content []syndicate.Image, j *jsonfeed.Item) (*syndicate.Image, []syndicate.Image) {
	var contents, thumbs []mediaItem
	for _, m := range mediaItems(it, base) {
		if !m.isImage() || decorative(m.url, m.width, m.height, "") {
			continue
		}
		if m.thumbnail {
			thumbs = append(thumbs, m)
		} else {
			contents = append(contents, m)
		}
	}
	var cands []syndicate.Image
	for _, set := range [][]mediaItem{contents, thumbs} {
		for _, m := range bySize(set) {
			cands = append(cands, syndicate.Image{URL: m.url.String(), Alt: m.alt, Type: imageType(m.mtype),
				Width: m.width, Height: m.height, Source: "media"})
		}
	}
	var named []string
	if j != nil {
		named = append(named, j.Image, j.BannerImage)
	}
	if it.ITunesExt != nil {
		named = append(named, it.ITunesExt.Image)
	}
	for _, n := range named {
		if u, ok := resolve(base, n); ok && !decorative(u, 0, 0, "") {
			cands = append(cands, syndicate.Image{URL: u.String(), Source: "media"})
		}
	}
	for _, e := range it.Enclosures {
		if e == nil {
			continue
		}
		t := strings.ToLower(strings.TrimSpace(e.Type))
		u, ok := resolve(base, e.URL)
		if !ok || decorative(u, 0, 0, "") {
			continue
		}
		if strings.HasPrefix(t, "image/") || (t == "" && hasImageExt(u)) {
			cands = append(cands, syndicate.Image{URL: u.String(), Type: imageType(t), Source: "enclosure"})
		}
	}
	if len(cands) == 0 {
		if len(content) > 0 {
			img := content[0]
			return &img, nil
		}
		return nil, nil
	}
	lead := cands[0]
	var alts []syndicate.Image
	seen := map[string]bool{lead.URL: true}
	for _, c := range cands[1:] {
		if !seen[c.URL] && len(alts) < maxLeadAlternates {
			seen[c.URL] = true
			alts = append(alts, c)
		}
	}
	return &lead, alts
}

func imageType(t string) string {
	if t == "image/jpg" {
		return "image/jpeg"
	}
	if strings.HasPrefix(t, "image/") {
		return t
	}
	return ""
}

// bySize orders media items largest first, keeping document order among
// equals.
func bySize(ms []mediaItem) []mediaItem {
	out := slices.Clone(ms)
	slices.SortStableFunc(out, func(a, b mediaItem) int {
		return cmp.Compare(b.width*b.height, a.width*a.height)
	})
	return out
}

// moreImages lists the content images after the lead one, skipping other
// sizes of the same picture.
func moreImages(lead *syndicate.Image, content []syndicate.Image) []syndicate.Image {
	seen := map[string]bool{}
	if lead != nil {
		seen[sameImageKey(lead.URL)] = true
	}
	var out []syndicate.Image
	for _, img := range content {
		k := sameImageKey(img.URL)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, img)
		if len(out) == maxFound {
			break
		}
	}
	return out
}

// sameImageKey names a picture regardless of the size variant WordPress
// serves ("photo-300x200.jpg" is "photo.jpg") and of resize parameters.
func sameImageKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	dir, file := path.Split(u.Path)
	ext := path.Ext(file)
	stem := strings.TrimSuffix(file, ext)
	if i := strings.LastIndexByte(stem, '-'); i > 0 {
		if w, h, ok := strings.Cut(stem[i+1:], "x"); ok && isDigits(w) && isDigits(h) {
			stem = stem[:i]
		}
	}
	return strings.ToLower(u.Host) + dir + stem + ext
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// attachments lists PDF enclosures, then PDFs linked from the content.
func attachments(it *gofeed.Item, base *url.URL, linked []syndicate.Attachment) []syndicate.Attachment {
	var out []syndicate.Attachment
	seen := map[string]bool{}
	for _, e := range it.Enclosures {
		if e == nil {
			continue
		}
		u, ok := resolve(base, e.URL)
		if !ok {
			continue
		}
		t := strings.ToLower(strings.TrimSpace(e.Type))
		if t != "application/pdf" && !((t == "" || t == "application/octet-stream") && isPDF(u)) {
			continue
		}
		a := syndicate.Attachment{URL: u.String(), Type: "application/pdf"}
		if n, err := strconv.ParseInt(strings.TrimSpace(e.Length), 10, 64); err == nil && n > 0 {
			a.Length = n
		}
		if !seen[a.URL] {
			seen[a.URL] = true
			out = append(out, a)
		}
	}
	for _, a := range linked {
		if !seen[a.URL] && len(out) < maxFound {
			seen[a.URL] = true
			out = append(out, a)
		}
	}
	return out
}

// videos lists Media RSS and enclosed videos, then videos embedded in the
// content; known players become their watch pages.
func videos(it *gofeed.Item, base *url.URL, embedded []syndicate.Video) []syndicate.Video {
	var out []syndicate.Video
	seen := map[string]bool{}
	add := func(v syndicate.Video) {
		if !seen[v.URL] && len(out) < maxFound {
			seen[v.URL] = true
			out = append(out, v)
		}
	}
	asVideo := func(u *url.URL) syndicate.Video {
		if v, ok := video(u); ok {
			return v
		}
		return syndicate.Video{URL: u.String()}
	}
	for _, m := range mediaItems(it, base) {
		if m.isVideo() {
			add(asVideo(m.url))
		}
	}
	for _, e := range it.Enclosures {
		if e == nil || !strings.HasPrefix(strings.ToLower(e.Type), "video/") {
			continue
		}
		if u, ok := resolve(base, e.URL); ok {
			add(asVideo(u))
		}
	}
	for _, v := range embedded {
		add(v)
	}
	return out
}

// summarise removes the trailers WordPress and SEO plugins append and
// cuts the text to the summary length.
func summarise(text, title string) string {
	paras := strings.Split(text, "\n\n")
	for len(paras) > 0 && boilerplate(strings.TrimSpace(paras[len(paras)-1])) {
		paras = paras[:len(paras)-1]
	}
	if n := len(paras); n > 0 {
		paras[n-1] = trimTrailer(paras[n-1], title)
		if paras[n-1] == "" {
			paras = paras[:n-1]
		}
	}
	return cutText(strings.Join(paras, "\n\n"), maxSummaryRunes)
}

// boilerplate reports a whole paragraph that only advertises the site or
// links to the rest of the article.
func boilerplate(p string) bool {
	switch p {
	case "", "[…]", "[...]", "[&hellip;]", "…", "(more…)", "Read more", "Read More", "Read more »", "Read more…", "Read more...":
		return true
	}
	if strings.HasPrefix(p, "The post ") && (strings.Contains(p, " appeared first on ") || strings.Contains(p, " first appeared on ")) {
		return true
	}
	return strings.HasPrefix(p, "Continue reading") && utf8.RuneCountInString(p) <= 200
}

// trimTrailer removes a "Continue reading" link text and replaces the
// excerpt marker "[…]" at the end of the last paragraph.
func trimTrailer(p, title string) string {
	p = strings.TrimSpace(p)
	if i := strings.LastIndex(p, "Continue reading"); i >= 0 {
		rest := strings.Trim(p[i+len("Continue reading"):], " \u00a0→»…:.\"'“”‘’«")
		if rest == "" || rest == strings.Trim(title, " \"'“”‘’«»") {
			p = strings.TrimSpace(p[:i])
		}
	}
	for _, m := range []string{"(more…)", "(more...)"} {
		p = strings.TrimSpace(strings.TrimSuffix(p, m))
	}
	for _, m := range []string{"[…]", "[...]", "[&hellip;]", "[&#8230;]"} {
		if strings.HasSuffix(p, m) {
			p = strings.TrimSpace(strings.TrimSuffix(p, m))
			if p != "" && !strings.HasSuffix(p, "…") {
				p += " …"
			}
		}
	}
	return p
}

// cutText shortens s to at most n runes, at a paragraph end when one is
// in the second half, else at a word boundary followed by an ellipsis;
// never inside a grapheme cluster, since half an emoji sequence or a
// letter without its marks shows as another character or as a box.
func cutText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	end := 0
	for rest, state := s, -1; len(rest) > 0; {
		var cluster string
		cluster, rest, _, state = uniseg.StepString(rest, state)
		if n -= utf8.RuneCountInString(cluster); n < 0 {
			break
		}
		end += len(cluster)
	}
	head := s[:end]
	if i := strings.LastIndex(head, "\n\n"); i > len(head)/2 {
		return strings.TrimSpace(head[:i])
	}
	if i := strings.LastIndexAny(head, " \n\t"); i > len(head)/2 {
		return strings.TrimSpace(head[:i]) + " …"
	}
	return head + "…"
}
