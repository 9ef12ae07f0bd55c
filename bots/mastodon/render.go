package mastodon

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"text/template"
	"time"

	"github.com/rivo/uniseg"
	"golang.org/x/text/language"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/script"
	"github.com/syndicate-bot/syndicate/syndicate/share"
)

// Format shapes the statuses of one account; it mirrors the account's
// format configuration (nil pointers take the defaults).
type Format struct {
	// Template is a text/template layout (see DefaultTemplate); empty for
	// the default.
	Template string
	// Visibility is public (default), unlisted, private or direct; it is
	// always sent, because servers differ in their own default.
	Visibility string
	// SpoilerText is a content warning shown before the status.
	SpoilerText string
	// Sensitive marks attached media as sensitive.
	Sensitive bool
	// Hashtags turns categories into hashtags (default true), at most
	// MaxHashtags (default 5).
	Hashtags    *bool
	MaxHashtags int
	// ShareLinks are share targets for the footer (see ShareURL).
	ShareLinks []string
	// AllowMentions lets @user text from articles become mentions.
	AllowMentions bool
	// Images is how many images to attach (default 1, 0 for none), capped
	// by the server's max_media_attachments.
	Images *int
	// UTM parameters are added to the article link.
	UTM UTM
	// Language is used when the item has none (ISO 639-1 or BCP 47).
	Language string
	// EditWindow is how long after posting an article change edits the
	// status; zero turns edits off.
	EditWindow time.Duration
	// ExcerptMax caps the summary shown, in characters (grapheme
	// clusters), whatever the server's limit (default DefaultExcerptMax):
	// a syndicated status is a summary with a link, not the article.
	ExcerptMax int
}

// DefaultExcerptMax is the excerpt cap when the format sets none.
const DefaultExcerptMax = 500

// shareTitleMax caps the title share links carry, in characters.
const shareTitleMax = 200

// UTM is a set of campaign parameters for the article link.
type UTM struct {
	Source   string
	Medium   string
	Campaign string
}

// Visibilities Mastodon accepts.
var visibilities = map[string]bool{"public": true, "unlisted": true, "private": true, "direct": true}

// Validate reports a format that cannot render.
func (f Format) Validate() error {
	var errs []error
	if f.Visibility != "" && !visibilities[f.Visibility] {
		errs = append(errs, fmt.Errorf("visibility %q: want public, unlisted, private or direct", f.Visibility))
	}
	for _, s := range f.ShareLinks {
		if !ValidShareTarget(s) {
			errs = append(errs, fmt.Errorf("share link %q: not available on Mastodon", s))
		}
	}
	if _, err := ParseTemplate(f.Template); err != nil {
		errs = append(errs, err)
	}
	if f.EditWindow < 0 {
		errs = append(errs, errors.New("edit window is negative"))
	}
	if f.ExcerptMax < 0 {
		errs = append(errs, errors.New("excerpt max is negative"))
	}
	return errors.Join(errs...)
}

// Limits are a server's status and media limits.
type Limits struct {
	MaxCharacters            int
	MaxMediaAttachments      int
	CharactersReservedPerURL int
	// DescriptionLimit bounds alt text, in characters.
	DescriptionLimit int
	// ImageSizeLimit is in bytes, ImageMatrixLimit in pixels (width×height).
	ImageSizeLimit     int64
	ImageMatrixLimit   int64
	SupportedMIMETypes []string
	// Count is how the server counts a status (see Count); the zero value
	// counts strictly.
	Count Count
}

// DefaultLimits are Mastodon's defaults, used until the server was asked
// and when it does not say.
func DefaultLimits() Limits {
	return Limits{
		MaxCharacters:            500,
		MaxMediaAttachments:      4,
		CharactersReservedPerURL: 23,
		DescriptionLimit:         1500,
		ImageSizeLimit:           10 << 20,
		ImageMatrixLimit:         16777216,
		SupportedMIMETypes:       []string{"image/jpeg", "image/png", "image/gif", "image/webp"},
		Count:                    CountMastodon,
	}
}

// withDefaults fills the limits a server left out.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxCharacters <= 0 {
		l.MaxCharacters = d.MaxCharacters
	}
	if l.MaxMediaAttachments <= 0 {
		l.MaxMediaAttachments = d.MaxMediaAttachments
	}
	if l.CharactersReservedPerURL <= 0 {
		l.CharactersReservedPerURL = d.CharactersReservedPerURL
	}
	if l.DescriptionLimit <= 0 {
		l.DescriptionLimit = d.DescriptionLimit
	}
	if l.ImageSizeLimit <= 0 {
		l.ImageSizeLimit = d.ImageSizeLimit
	}
	if l.ImageMatrixLimit <= 0 {
		l.ImageMatrixLimit = d.ImageMatrixLimit
	}
	if len(l.SupportedMIMETypes) == 0 {
		l.SupportedMIMETypes = d.SupportedMIMETypes
	}
	return l
}

// Status is a rendered status, ready to post.
type Status struct {
	Text        string
	SpoilerText string
	Visibility  string
	// Language is an ISO 639 code, empty when unknown.
	Language  string
	Sensitive bool
	// Media are the images to attach, in order.
	Media []Media
	// Length is the budgeted length (see Length) and Limit the server's
	// limit it was fitted to.
	Length int
	Limit  int
}

// Media is an image to attach with its alt text.
type Media struct {
	URL string
	Alt string
	// Type is the MIME type the feed gave, if any.
	Type string
}

// Post is what a status is rendered from: the article and facts of this
// delivery that are not part of the article.
type Post struct {
	Item syndicate.Item
	// TelegramURL links to the same article on the operator's Telegram
	// channel, once posted there (see TelegramPostURL).
	TelegramURL string
}

// Render renders an article as a status within the server's limits.
func Render(item syndicate.Item, f Format, lim Limits) (Status, error) {
	return RenderPost(Post{Item: item}, f, lim)
}

// RenderPost renders a post as a status within the server's limits: the
// excerpt is cut to the format's ExcerptMax and then, while the status is
// too long, further (at a sentence, else a word); then the share footer,
// the Telegram link, video and document lines and hashtags are dropped, then
// the excerpt goes, then the title is cut; the link is dropped last.
func RenderPost(p Post, f Format, lim Limits) (Status, error) {
	lim = lim.withDefaults()
	tmpl, err := ParseTemplate(f.Template)
	if err != nil {
		return Status{}, err
	}
	it := p.Item
	lang := isoLanguage(it.Language)
	if lang == "" {
		lang = isoLanguage(f.Language)
	}
	vis := f.Visibility
	if vis == "" {
		vis = "public"
	}
	if !visibilities[vis] {
		return Status{}, fmt.Errorf("visibility %q not supported", vis)
	}

	rawTitle, titleCut := bounded(it.Title, lim.MaxCharacters)
	plainTitle := script.Clean(rawTitle, false)
	if titleCut {
		plainTitle = cutText(plainTitle, uniseg.GraphemeClusterCount(plainTitle)-1, uniseg.GraphemeClusterCount)
	}
	title := neutralize(plainTitle, f.AllowMentions)
	excerptMax := f.ExcerptMax
	if excerptMax <= 0 {
		excerptMax = DefaultExcerptMax
	}
	plainExcerpt := excerptOf(it.Summary, plainTitle, excerptMax)
	excerpt := neutralize(plainExcerpt, f.AllowMentions)
	link, _ := CleanLink(it.Link, f.UTM)

	d := TemplateData{
		Title:      title,
		Link:       link,
		Author:     script.Clean(it.Author, false),
		Language:   lang,
		Categories: it.Categories,
		Published:  it.Date(),
		Labels:     labelsFor(lang),
	}
	if f.Hashtags == nil || *f.Hashtags {
		max := f.MaxHashtags
		if max <= 0 {
			max = 5
		}
		d.Hashtags = script.Hashtags(it.Categories, max)
	}
	var trusted []string
	trusted = append(trusted, link)
	if link != "" {
		image := ""
		if it.Image != nil {
			image, _ = CleanLink(it.Image.URL, UTM{})
		}
		// A share link carries the title; Mastodon counts it as 23
		// characters however long, so a huge title would make a huge
		// request.
		shareTitle := cutText(prefixGraphemes(plainTitle, shareTitleMax+1), shareTitleMax, uniseg.GraphemeClusterCount)
		for _, name := range f.ShareLinks {
			if u, ok := ShareURL(name, link, shareTitle, image); ok {
				d.Share = append(d.Share, ShareLink{Name: share.Name(name), URL: u})
				trusted = append(trusted, u)
			}
		}
	}
	if u, ok := CleanLink(p.TelegramURL, UTM{}); ok {
		d.Telegram = u
		trusted = append(trusted, u)
	}
	article, _ := CleanLink(it.Link, UTM{})
	for _, v := range it.Videos {
		if u, ok := CleanLink(v.URL, UTM{}); ok && !sameResource(u, article) {
			d.Video = u
			trusted = append(trusted, u)
			break
		}
	}
	for _, a := range it.Attachments {
		if u, ok := CleanLink(a.URL, UTM{}); ok && isDocument(a) {
			t := neutralize(script.Clean(a.Title, false), f.AllowMentions)
			if t == "" {
				t = "PDF"
			}
			d.Document = &Document{Title: t, URL: u}
			trusted = append(trusted, u)
			break
		}
	}

	spoiler := script.Clean(f.SpoilerText, false)
	l := fitter{
		tmpl:    tmpl,
		lim:     lim,
		spoiler: spoiler,
		rtl:     script.Direction(directionTag(it.Language, f.Language), plainTitle+" "+plainExcerpt) == script.RTL,
		count:   newCounter(lim, trusted),
	}
	text, n, err := l.fit(d, excerpt)
	if err != nil {
		return Status{}, err
	}
	st := Status{
		Text:        text,
		SpoilerText: l.spoiler,
		Visibility:  vis,
		Language:    lang,
		Sensitive:   f.Sensitive,
		Length:      n,
		Limit:       lim.MaxCharacters,
	}
	st.Media = media(it, f, lim, plainTitle)
	if strings.TrimSpace(hideMarks.Replace(text)) == "" && len(st.Media) == 0 {
		return Status{}, fmt.Errorf("item %s: %w", it.Key, errNothingToShow)
	}
	return st, nil
}

// bounded returns a prefix of s long enough for n characters, and whether
// it is shorter than s. Huge titles and bodies are read only that far:
// 64 bytes a character is more than any text needs, so only pathological
// input (kilobytes of invisible characters) shows less than it could.
func bounded(s string, n int) (string, bool) {
	limit := max(64<<10, 64*(n+1))
	if len(s) <= limit {
		return s, false
	}
	return s[:limit], true
}

// excerptOf returns the excerpt of a summary: none when it repeats the
// title, else at most max characters cut at a sentence or a word.
func excerptOf(summary, title string, max int) string {
	raw, cut := bounded(summary, max)
	text := script.Clean(raw, true)
	// Lines of text are joined by at most two newlines where the title
	// has one space, so a text much longer than the title is not it.
	if !cut && len(text) <= 3*len(title)+2 && oneLine(text) == title {
		return ""
	}
	text = prefixGraphemes(text, max+1)
	budget := max
	if cut {
		// The text goes on beyond what was read: end it at a word.
		budget = min(max, uniseg.GraphemeClusterCount(text)-1)
	}
	return cutText(text, budget, uniseg.GraphemeClusterCount)
}

// errNothingToShow means the item has no text, link or image: the server
// would refuse the blank status, so it is not sent at all.
var errNothingToShow = errors.New("nothing to show: no title, summary, link or image")

// hideMarks removes the invisible marks the renderer inserts.
var hideMarks = strings.NewReplacer(string(wordJoiner), "", string(script.RLM), "", string(script.LRM), "", string(script.LRI), "", string(script.PDI), "")

// sameResource reports whether two cleaned links differ at most in their
// scheme, so that a video that is the article itself is not linked twice.
func sameResource(a, b string) bool {
	_, ra, _ := strings.Cut(a, "://")
	_, rb, _ := strings.Cut(b, "://")
	return ra != "" && ra == rb
}

// fitter fits a template's output into the server's limit.
type fitter struct {
	tmpl    *template.Template
	lim     Limits
	spoiler string
	rtl     bool
	count   counter
}

func (l *fitter) render(d TemplateData) (string, int, error) {
	d.HashtagLine = strings.Join(d.Hashtags, " ")
	text, err := execute(l.tmpl, d)
	if err != nil {
		return "", 0, err
	}
	if l.rtl {
		text = rtlText(text)
	}
	return text, l.count.count(l.spoiler) + l.count.count(text), nil
}

// errTooLong means nothing the layout can drop makes the status fit.
var errTooLong = errors.New("status does not fit the server's character limit")

func (l *fitter) fit(d TemplateData, excerpt string) (string, int, error) {
	max := l.lim.MaxCharacters
	// Nothing longer than the limit can be shown, so a huge body is cut
	// before the layout is tried.
	excerpt = prefixGraphemes(excerpt, max)
	d.Title = cutText(d.Title, max/2, l.count.count)
	minExcerpt := min(uniseg.GraphemeClusterCount(excerpt), max/5)

	drops := []func(*TemplateData) bool{
		func(d *TemplateData) bool { return pop(&d.Share) },
		func(d *TemplateData) bool { return empty(&d.Telegram) },
		func(d *TemplateData) bool { return empty(&d.Video) },
		func(d *TemplateData) bool { had := d.Document != nil; d.Document = nil; return had },
		func(d *TemplateData) bool { return pop(&d.Hashtags) },
	}
	for {
		text, n, ok, err := l.fitExcerpt(&d, excerpt, minExcerpt)
		if err != nil || ok {
			return text, n, err
		}
		dropped := false
		for _, drop := range drops {
			if drop(&d) {
				dropped = true
				break
			}
		}
		if !dropped {
			break
		}
	}
	if text, n, ok, err := l.fitExcerpt(&d, excerpt, 1); err != nil || ok {
		return text, n, err
	}
	d.Excerpt = ""
	// Then the title is cut, and the link goes last; a link too long to
	// fit at all goes with the title whole again.
	title := d.Title
	for _, step := range []func(){
		func() {},
		func() { d.Title = l.shrinkTitle(d) },
		func() { d.Link, d.Title = "", title; d.Title = l.shrinkTitle(d) },
		func() { d.Title = ""; l.spoiler = cutText(l.spoiler, max/2, l.count.count) },
	} {
		step()
		text, n, err := l.render(d)
		if err != nil {
			return "", 0, err
		}
		if n <= max {
			return text, n, nil
		}
	}
	return "", 0, errTooLong
}

// fitExcerpt cuts the excerpt until the status fits; it reports false when
// that would leave less than minLen of it.
func (l *fitter) fitExcerpt(d *TemplateData, src string, minLen int) (string, int, bool, error) {
	ex := src
	for range 8 {
		d.Excerpt = ex
		text, n, err := l.render(*d)
		if err != nil {
			return "", 0, false, err
		}
		if n <= l.lim.MaxCharacters {
			return text, n, true, nil
		}
		budget := l.count.count(ex) - (n - l.lim.MaxCharacters)
		if ex == "" || budget < minLen {
			break
		}
		ex = cutText(src, budget, l.count.count)
		if ex == "" {
			break
		}
	}
	d.Excerpt = ""
	return "", 0, false, nil
}

// shrinkTitle cuts the title until the status fits (or it is empty).
func (l *fitter) shrinkTitle(d TemplateData) string {
	for range 8 {
		_, n, err := l.render(d)
		if err != nil || n <= l.lim.MaxCharacters || d.Title == "" {
			break
		}
		d.Title = cutText(d.Title, l.count.count(d.Title)-(n-l.lim.MaxCharacters), l.count.count)
	}
	return d.Title
}

func pop[T any](s *[]T) bool {
	if len(*s) == 0 {
		return false
	}
	*s = (*s)[:len(*s)-1]
	return true
}

func empty(s *string) bool {
	had := *s != ""
	*s = ""
	return had
}

// prefixGraphemes returns at most n grapheme clusters of s without
// scanning the rest of a huge s.
func prefixGraphemes(s string, n int) string {
	pos, state := 0, -1
	rest := s
	for i := 0; i < n && len(rest) > 0; i++ {
		var c string
		c, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		pos += len(c)
	}
	return s[:pos]
}

// isoLanguage reduces a BCP 47 tag to the ISO 639 code Mastodon expects
// ("fa-IR" → "fa", "fas" → "fa"), or "" when it is not a language.
func isoLanguage(tag string) string {
	tag = strings.TrimSpace(tag)
	if tag == "" {
		return ""
	}
	t, err := language.Parse(tag)
	if err != nil {
		return ""
	}
	base, conf := t.Base()
	if conf == language.No || base.String() == "und" {
		return ""
	}
	return base.String()
}

// isDocument reports attachments worth linking as a document.
func isDocument(a syndicate.Attachment) bool {
	if a.Type == "application/pdf" {
		return true
	}
	u, err := url.Parse(a.URL)
	return err == nil && strings.EqualFold(path.Ext(u.Path), ".pdf")
}

// media picks the images to attach with their alt text.
func media(it syndicate.Item, f Format, lim Limits, title string) []Media {
	n := 1
	if f.Images != nil {
		n = *f.Images
	}
	n = min(n, lim.MaxMediaAttachments)
	var imgs []syndicate.Image
	if it.Image != nil {
		imgs = append(imgs, *it.Image)
	}
	imgs = append(imgs, it.Images...)
	var out []Media
	seen := map[string]bool{}
	for _, img := range imgs {
		if len(out) >= n {
			break
		}
		u, err := url.Parse(img.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || seen[img.URL] {
			continue
		}
		seen[img.URL] = true
		alt := script.Clean(img.Alt, false)
		if alt == "" {
			alt = title
		}
		out = append(out, Media{URL: img.URL, Alt: cutRunes(alt, lim.DescriptionLimit), Type: img.Type})
	}
	return out
}

// cutRunes cuts s to at most n code points (how the server counts alt
// text) at a grapheme boundary.
func cutRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	runes, pos, state := 0, 0, -1
	rest := s
	for len(rest) > 0 {
		var c string
		c, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		k := len([]rune(c))
		if runes+k > n {
			break
		}
		runes += k
		pos += len(c)
	}
	return s[:pos]
}

// Preview shows the status for people reading it in a terminal.
func (s Status) Preview() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Mastodon status · %s", s.Visibility)
	if s.Language != "" {
		fmt.Fprintf(&b, " · language %s", s.Language)
	}
	if s.Sensitive {
		b.WriteString(" · sensitive")
	}
	fmt.Fprintf(&b, " · %d/%d characters\n", s.Length, s.Limit)
	if s.SpoilerText != "" {
		fmt.Fprintf(&b, "CW: %s\n", s.SpoilerText)
	}
	b.WriteString("────────\n")
	b.WriteString(hideMarks.Replace(s.Text))
	b.WriteString("\n────────\n")
	for i, m := range s.Media {
		fmt.Fprintf(&b, "image %d: %s\n  alt: %s\n", i+1, m.URL, m.Alt)
	}
	return b.String()
}
