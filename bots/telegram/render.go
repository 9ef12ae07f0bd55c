package telegram

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/script"
)

// Format shapes the posts of one destination. Its zero value is the
// default layout; it mirrors the operator's configuration, with options
// that default to on spelled as No… so that the zero value means "on".
type Format struct {
	// Template, when set, is an html/template text that replaces the
	// default layout (see template.go for its data and helpers).
	Template string
	// Image is ImagePhoto (the default: a photo with caption when the text
	// fits a caption), ImagePreview (a text message with a large link
	// preview of the image above the text) or ImageNone.
	Image string
	// NoLinkPreview turns link previews off on text posts.
	NoLinkPreview bool
	// Buttons lists the URL buttons in order (see KnownButtons); nil means
	// the default set, an empty non-nil slice means no buttons.
	Buttons       []string
	ButtonsPerRow int
	// ButtonLabels overrides button texts by button name.
	ButtonLabels map[string]string
	// UTM adds campaign parameters to article links, per button name or
	// "default" (which also applies to the title link).
	UTM map[string]UTM
	// EmailShareURL is an http(s) page that opens an e-mail with the
	// subject and body given as query parameters; the e-mail button needs it.
	EmailShareURL string
	// NoHashtags leaves out hashtags; MaxHashtags caps them (default 5).
	NoHashtags  bool
	MaxHashtags int
	// ExcerptMax caps the summary excerpt, in UTF-16 units (default 600).
	ExcerptMax int
	// Silent sends without notification; ProtectContent forbids forwarding
	// and saving.
	Silent         bool
	ProtectContent bool
	// NoDocuments leaves out PDF attachments that would follow the post.
	NoDocuments bool
	// Album sends the article's images (2–10) as an album, the caption on
	// the first; AlbumButtons sends the buttons in a follow-up message
	// (albums cannot carry buttons).
	Album        bool
	AlbumButtons bool
	// NoEdits turns off editing posts when the article changes; EditWindow
	// is how long after posting edits are made (default 48h).
	NoEdits    bool
	EditWindow time.Duration
}

// Image modes of Format.Image.
const (
	ImagePhoto   = "photo"
	ImagePreview = "preview"
	ImageNone    = "none"
)

const (
	defaultExcerpt     = 600
	defaultMaxHashtags = 5
	defaultEditWindow  = 48 * time.Hour
	// minCaptionExcerpt is the least of the summary a photo caption must
	// show; when even that does not fit, the post becomes a text message.
	minCaptionExcerpt = 200
	maxAlbum          = 10
)

// Validate reports options that cannot work, for checking configuration
// before the first post.
func (f Format) Validate() error {
	var errs []error
	switch f.Image {
	case "", ImagePhoto, ImagePreview, ImageNone:
	default:
		errs = append(errs, fmt.Errorf("image: %q is not photo, preview or none", f.Image))
	}
	known := map[string]bool{}
	for _, b := range KnownButtons() {
		known[b] = true
	}
	for _, b := range f.Buttons {
		if !known[b] {
			errs = append(errs, fmt.Errorf("buttons: unknown button %q", b))
		}
	}
	if f.EmailShareURL != "" && !isWebURL(f.EmailShareURL) {
		errs = append(errs, fmt.Errorf("email share url: %q is not an http(s) URL", f.EmailShareURL))
	}
	if f.Template != "" {
		if _, err := parseTemplate(f.Template); err != nil {
			errs = append(errs, fmt.Errorf("template: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Method is the Bot API method that carries a post's main message.
type Method string

// The methods a post's main message can be sent with.
const (
	MethodMessage Method = "sendMessage"
	MethodPhoto   Method = "sendPhoto"
	MethodAlbum   Method = "sendMediaGroup"
)

// LinkPreview mirrors the Bot API's link_preview_options.
type LinkPreview struct {
	Disabled    bool
	URL         string
	PreferLarge bool
	AboveText   bool
}

// Document is a file sent after the post, such as a PDF newsletter.
type Document struct {
	URL      string
	FileName string
	// Caption is HTML.
	Caption string
}

// Post is a rendered article: which messages to send and what they show.
type Post struct {
	Method Method
	// Text is the HTML message text, or the caption of the photo or of the
	// first album item.
	Text string
	// Plain is the same post as plain text, sent without a parse mode when
	// Telegram refuses Text.
	Plain string
	// Limit is the limit Text and Plain were fitted to.
	Limit int
	// Photo is the image URL of a MethodPhoto post, and the image a text
	// post falls back to previewing when the photo cannot be sent.
	Photo string
	// Album holds the image URLs of a MethodAlbum post.
	Album []string
	// Preview is the link preview of a MethodMessage post.
	LinkPreview *LinkPreview
	// Keyboard is the inline keyboard; for an album it goes into a
	// follow-up message with FollowUpText, when configured.
	Keyboard     [][]Button
	FollowUpText string
	Documents    []Document
	// Notes say what the renderer left out, for operators.
	Notes []string
	// Silent and Protect carry the destination's delivery options.
	Silent  bool
	Protect bool
}

// itemView is an item cleaned for rendering: plain text without hostile
// characters, links that are safe to open.
type itemView struct {
	title, summary, link, image, lang, author string
	rtl                                       bool
	images                                    []string
	categories                                []string
	videos                                    []syndicate.Video
	attachments                               []syndicate.Attachment
	published                                 time.Time
}

func viewOf(it syndicate.Item) itemView {
	v := itemView{
		title:     script.Clean(it.Title, false),
		summary:   script.Clean(it.Summary, true),
		lang:      it.Language,
		author:    script.Clean(it.Author, false),
		published: it.Date(),
	}
	if isWebURL(it.Link) {
		v.link = it.Link
	}
	if it.Image != nil && isWebURL(it.Image.URL) {
		v.image = it.Image.URL
		v.images = append(v.images, it.Image.URL)
	}
	for _, im := range it.Images {
		if isWebURL(im.URL) && !contains(v.images, im.URL) {
			v.images = append(v.images, im.URL)
		}
	}
	if v.image == "" && len(v.images) > 0 {
		v.image = v.images[0]
	}
	for _, c := range it.Categories {
		v.categories = append(v.categories, script.Clean(c, false))
	}
	for _, vid := range it.Videos {
		if isWebURL(vid.URL) {
			v.videos = append(v.videos, vid)
		}
	}
	for _, a := range it.Attachments {
		if isWebURL(a.URL) {
			v.attachments = append(v.attachments, a)
		}
	}
	v.rtl = script.Direction(v.lang, v.title+" "+v.summary) == script.RTL
	return v
}

// isWebURL accepts absolute http(s) URLs with a host: the only links a
// post may carry (no javascript:, data: or relative links).
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Render turns an item into a Telegram post for a destination with format
// f. It is a pure function: the same item and format give the same post.
func Render(item syndicate.Item, f Format) (Post, error) {
	v := viewOf(item)
	if v.title == "" && v.summary == "" && v.link == "" {
		return Post{}, fmt.Errorf("render item %s: nothing to show", item.Key)
	}
	p := Post{Silent: f.Silent, Protect: f.ProtectContent}
	p.Keyboard, p.Notes = keyboard(v, f)

	image := v.image
	if f.Image == ImageNone {
		image = ""
	}
	albumWanted := f.Album && f.Image != ImageNone && len(v.images) >= 2
	captionWanted := image != "" && (f.Image == "" || f.Image == ImagePhoto)

	build := func(limit, minExcerpt int) (string, string, bool, error) {
		if f.Template != "" {
			return renderTemplate(v, f, limit)
		}
		html, plain, ok := layout(v, f, limit, minExcerpt)
		return html, plain, ok, nil
	}

	if albumWanted || captionWanted {
		html, plain, ok, err := build(CaptionLimit, minCaptionExcerpt)
		if err != nil {
			return Post{}, fmt.Errorf("render item %s: %w", item.Key, err)
		}
		if ok {
			p.Text, p.Plain, p.Limit = html, plain, CaptionLimit
			if albumWanted {
				p.Method = MethodAlbum
				p.Album = v.images[:min(len(v.images), maxAlbum)]
				if f.AlbumButtons && len(p.Keyboard) > 0 {
					p.FollowUpText = followUpText(v)
				} else {
					p.Keyboard = nil
				}
			} else {
				p.Method, p.Photo = MethodPhoto, image
			}
			p.Documents = documents(v, f)
			return p, nil
		}
	}
	html, plain, ok, err := build(TextLimit, 0)
	if err != nil {
		return Post{}, fmt.Errorf("render item %s: %w", item.Key, err)
	}
	if !ok {
		return Post{}, fmt.Errorf("render item %s: does not fit %d characters", item.Key, TextLimit)
	}
	p.Method, p.Text, p.Plain, p.Limit = MethodMessage, html, plain, TextLimit
	p.Photo = image
	p.LinkPreview = textPreview(v, f, image)
	p.Documents = documents(v, f)
	return p, nil
}

// textPreview chooses the link preview of a text post: the image, else a
// video, else the article, large and above the text.
func textPreview(v itemView, f Format, image string) *LinkPreview {
	if f.NoLinkPreview {
		return &LinkPreview{Disabled: true}
	}
	target := image
	if target == "" && len(v.videos) > 0 {
		target = v.videos[0].URL
	}
	if target == "" {
		target = v.link
	}
	if target == "" {
		return nil
	}
	return &LinkPreview{URL: target, PreferLarge: true, AboveText: true}
}

// AsTextPost turns a photo or album post into a text message that shows
// the image as a large link preview above the text, for when Telegram
// cannot take the photo. The caption always fits a text message.
func (p Post) AsTextPost(noLinkPreview bool) Post {
	q := p
	image := p.Photo
	if image == "" && len(p.Album) > 0 {
		image = p.Album[0]
	}
	q.Method, q.Album, q.FollowUpText = MethodMessage, nil, ""
	if p.Method == MethodAlbum && p.FollowUpText == "" {
		q.Keyboard = nil
	}
	switch {
	case noLinkPreview:
		q.LinkPreview = &LinkPreview{Disabled: true}
	case image != "":
		q.LinkPreview = &LinkPreview{URL: image, PreferLarge: true, AboveText: true}
	}
	return q
}

// asPhotoPost turns an album into a photo post of one of its images, for
// when only that image could be sent. The album's caption fits the photo;
// the buttons go on the photo when the album would have sent them after it.
func (p Post) asPhotoPost(image string) Post {
	q := p
	q.Method, q.Photo, q.Album, q.FollowUpText, q.LinkPreview = MethodPhoto, image, nil, "", nil
	if p.Method == MethodAlbum && p.FollowUpText == "" {
		q.Keyboard = nil
	}
	return q
}

func followUpText(v itemView) string {
	title, _ := cut(v.title, 200)
	if v.rtl {
		title = script.Layout{}.Line(title)
	}
	return "<b>" + escapeHTML(title) + "</b>"
}

func documents(v itemView, f Format) []Document {
	if f.NoDocuments {
		return nil
	}
	var docs []Document
	for _, a := range v.attachments {
		if !isPDF(a) {
			continue
		}
		name := path.Base(mustPath(a.URL))
		if !strings.HasSuffix(strings.ToLower(name), ".pdf") {
			name += ".pdf"
		}
		caption, _ := cut(script.Clean(a.Title, false), CaptionLimit-10)
		if v.rtl {
			caption = script.Layout{}.Line(caption)
		}
		docs = append(docs, Document{URL: a.URL, FileName: name, Caption: escapeHTML(caption)})
	}
	return docs
}

func isPDF(a syndicate.Attachment) bool {
	return strings.EqualFold(a.Type, "application/pdf") || strings.HasSuffix(strings.ToLower(mustPath(a.URL)), ".pdf")
}

func mustPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Path
}

// part is one paragraph of a post: its HTML and its visible text.
type part struct{ html, text string }

// layout builds the default post: bold linked title, excerpt, video line,
// hashtags. The excerpt (and, when needed, the title and hashtags) shrink
// until both the HTML and the plain version fit limit. It reports false
// when the post cannot show at least minExcerpt units of a summary that
// long.
func layout(v itemView, f Format, limit, minExcerpt int) (string, string, bool) {
	excerptMax := f.ExcerptMax
	if excerptMax <= 0 {
		excerptMax = defaultExcerpt
	}
	maxTags := f.MaxHashtags
	if maxTags <= 0 {
		maxTags = defaultMaxHashtags
	}
	var tags []string
	if !f.NoHashtags {
		tags = script.Hashtags(v.categories, maxTags)
	}
	titleMax := units(v.title)
	need := min(minExcerpt, units(v.summary))
	excerpt := min(excerptMax, units(v.summary))
	for range 64 {
		html, plain := compose(v, tags, titleMax, excerpt)
		over := max(units(plainOf(html)), units(plain)) - limit
		if over <= 0 && len(html) <= rawLimit && len(plain) <= rawLimit {
			return html, plain, true
		}
		over = max(over, 1)
		switch {
		case excerpt-over >= need && excerpt > 0:
			excerpt -= over
		case minExcerpt > 0:
			return "", "", false
		case excerpt > 0:
			excerpt = max(0, excerpt-over)
		case len(tags) > 0:
			tags = tags[:len(tags)-1]
		case titleMax > 1:
			titleMax = max(1, titleMax-over)
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// compose writes the default layout with the title and excerpt cut to the
// given sizes.
func compose(v itemView, tags []string, titleMax, excerptMax int) (string, string) {
	dir := func(s string) string { return s }
	if v.rtl {
		dir = script.Layout{}.Text
	}
	var html, plain []string

	title, _ := cut(v.title, titleMax)
	switch {
	case title != "":
		t := dir(title)
		lead, body := splitMark(t)
		h := "<b>" + escapeHTML(body) + "</b>"
		if v.link != "" {
			h = `<b><a href="` + escapeHTML(v.link) + `">` + escapeHTML(body) + "</a></b>"
		}
		html = append(html, lead+h)
		p := t
		if v.link != "" {
			p += "\n" + v.link
		}
		plain = append(plain, p)
	case v.link != "":
		// Without a title the link has no words to sit on, so the post
		// shows it itself: else a post without buttons would not link the
		// article, and one with only a link would be empty.
		t := dir(v.link)
		lead, body := splitMark(t)
		html = append(html, lead+`<a href="`+escapeHTML(v.link)+`">`+escapeHTML(body)+"</a>")
		plain = append(plain, t)
	}
	if excerptMax > 0 && v.summary != "" {
		ex, _ := cut(v.summary, excerptMax)
		if ex = strings.TrimSpace(ex); ex != "" && ex != "…" {
			ex = dir(ex)
			html = append(html, escapeHTML(ex))
			plain = append(plain, ex)
		}
	}
	for _, vid := range v.videos {
		label := "Video"
		if strings.EqualFold(vid.Provider, "youtube") {
			label = "YouTube"
		}
		mark := ""
		if v.rtl {
			mark = string(script.RLM)
		}
		html = append(html, mark+`▶️ <a href="`+escapeHTML(vid.URL)+`">`+label+"</a>")
		plain = append(plain, mark+"▶️ "+vid.URL)
		break
	}
	if len(tags) > 0 {
		line := strings.Join(tags, " ")
		if v.rtl {
			line = script.Layout{}.Line(line)
		}
		html = append(html, escapeHTML(line))
		plain = append(plain, line)
	}
	return strings.Join(html, "\n\n"), strings.Join(plain, "\n\n")
}

// splitMark moves a leading right-to-left mark out of the title's tags so
// the link covers only the words.
func splitMark(s string) (string, string) {
	if rest, ok := strings.CutPrefix(s, string(script.RLM)); ok {
		return string(script.RLM), rest
	}
	return "", s
}

// plainOf returns the visible text of HTML we generated ourselves.
func plainOf(html string) string {
	text, err := checkHTML(html)
	if err != nil {
		return html
	}
	return text
}
