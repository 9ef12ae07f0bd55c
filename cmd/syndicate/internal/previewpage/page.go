// Package previewpage writes the preview of pending posts as one
// self-contained HTML page that shows each post as its readers would see
// it: Telegram posts as channel bubbles with their inline keyboards,
// Mastodon statuses as status cards. It shows the posts the publishers
// rendered, not a second rendering of the articles, so the page shows
// exactly what would be sent.
//
// The page is safe to open whatever the feeds contain: it is written with
// html/template, Telegram's HTML is rebuilt tag by tag from an allow list,
// links must be http(s) (or tg:), and images are either inline data: URIs
// of raster images recognised from their bytes or http(s) URLs. It loads
// no scripts, styles or fonts from anywhere.
package previewpage

import (
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf16"

	"golang.org/x/text/unicode/bidi"

	"github.com/syndicate-bot/syndicate/bots/mastodon"
	"github.com/syndicate-bot/syndicate/bots/telegram"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/script"
)

// Page is what one preview shows, destination by destination.
type Page struct {
	// Title heads the page, e.g. "syndicate preview".
	Title        string
	Destinations []Destination
}

// Destination is one Telegram channel or Mastodon account and its posts.
type Destination struct {
	// ID is the destination id from the configuration.
	ID string
	// Telegram is the channel's chat (@username or id), for a channel.
	Telegram string
	// Mastodon is the server's base URL, for an account.
	Mastodon string
	Posts    []Post
}

// Post is one pending post: the article and what its destination's
// publisher rendered from it (Telegram or Mastodon), or why it could not.
type Post struct {
	Item syndicate.Item
	// Edit says the post replaces an earlier one.
	Edit     bool
	Telegram *telegram.Post
	Mastodon *mastodon.Status
	Err      error
}

// Options say how the page gets its images.
type Options struct {
	// Images downloads images to show them inline; without it the page
	// links them.
	Images Downloader
}

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{"initial": initial}).Parse(pageSource))

// initial is the letter an avatar shows for a name.
func initial(name string) string {
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return strings.ToUpper(string(r))
		}
	}
	return "?"
}

// Write writes the page to w.
func Write(ctx context.Context, w io.Writer, p Page, o Options) error {
	pics := fetchAll(ctx, o.Images, imageURLs(p))
	v := pageView{Title: p.Title}
	for _, d := range p.Destinations {
		dv := destView{ID: d.ID}
		for i, post := range d.Posts {
			pv := postView{N: i + 1, Of: len(d.Posts), Link: post.Item.Link, Edit: post.Edit}
			switch {
			case post.Err != nil:
				pv.Err = post.Err.Error()
				pv.Dir = direction(post.Item.Language, post.Item.Title)
			case post.Telegram != nil:
				pv.TG = telegramView(*post.Telegram, post.Item, pics)
				pv.Dir = direction(post.Item.Language, pv.TG.plain)
			case post.Mastodon != nil:
				pv.MD = mastodonView(*post.Mastodon, d.Mastodon, pics)
				pv.Dir = direction(post.Item.Language, post.Mastodon.SpoilerText+"\n"+post.Mastodon.Text)
			default:
				continue
			}
			pv.Lang = post.Item.Language
			dv.Posts = append(dv.Posts, pv)
		}
		v.Total += len(dv.Posts)
		if d.Mastodon != "" {
			dv.Name, dv.Server = d.ID, hostOf(d.Mastodon)
			v.Mastodon = append(v.Mastodon, dv)
		} else {
			dv.Name = d.Telegram
			v.Telegram = append(v.Telegram, dv)
		}
	}
	if err := pageTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("write preview page: %w", err)
	}
	return nil
}

// imageURLs lists the images the posts show, in page order.
func imageURLs(p Page) []string {
	var urls []string
	for _, d := range p.Destinations {
		for _, post := range d.Posts {
			switch {
			case post.Err != nil:
			case post.Telegram != nil:
				t := post.Telegram
				if t.Method == telegram.MethodPhoto {
					urls = append(urls, t.Photo)
				}
				urls = append(urls, t.Album...)
				if lp := t.LinkPreview; t.Method == telegram.MethodMessage && lp != nil && !lp.Disabled && lp.URL != "" && lp.URL == t.Photo {
					urls = append(urls, t.Photo)
				}
			case post.Mastodon != nil:
				for _, m := range post.Mastodon.Media {
					urls = append(urls, m.URL)
				}
			}
		}
	}
	return urls
}

// direction is the direction a post is laid out in: that of its first
// strong character, as Telegram and Mastodon clients decide it (the
// renderers open right-to-left lines with a mark for this), else that of
// its language.
func direction(lang, text string) string {
	for _, r := range text {
		p, _ := bidi.LookupRune(r)
		switch p.Class() {
		case bidi.R, bidi.AL:
			return "rtl"
		case bidi.L:
			return "ltr"
		}
	}
	if script.LanguageRTL(lang) {
		return "rtl"
	}
	return "ltr"
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

type pageView struct {
	Title              string
	Total              int
	Telegram, Mastodon []destView
}

type destView struct {
	ID, Name, Server string
	Posts            []postView
}

type postView struct {
	N, Of     int
	Link      string
	Edit      bool
	Dir, Lang string
	Err       string
	TG        *tgView
	MD        *mdView
}

type imageView struct {
	Src template.URL
	// URL is the image's own address, shown and kept for checks when the
	// image is inline.
	URL  string
	Alt  string
	Note string
}

type buttonView struct {
	Text string
	URL  template.URL
}

type linkPreviewView struct {
	Host  string
	URL   string
	Title string
	Image *imageView
	Above bool
}

type documentView struct {
	Name, Host string
	Caption    template.HTML
}

type tgView struct {
	Photos        []imageView
	Preview       *linkPreviewView
	Text          template.HTML
	plain         string
	Keyboard      [][]buttonView
	FollowUp      template.HTML
	Documents     []documentView
	Silent        bool
	Protect       bool
	Notes         []string
	Length, Limit int
	Method        string
}

type mdView struct {
	Spoiler    string
	Content    template.HTML
	Media      []imageView
	Sensitive  bool
	Language   string
	Visibility string
	Length     int
	Limit      int
}

func imageOf(pics map[string]picture, u, alt string) imageView {
	p, ok := pics[u]
	if !ok {
		p = picture{src: linkURL(u)}
	}
	return imageView{Src: p.src, URL: u, Alt: alt, Note: p.note}
}

// altOf is the image's alt text from the feed, else the article's title:
// Telegram photos carry no alt text, so the page describes them as the
// article does.
func altOf(it syndicate.Item, u string) string {
	imgs := it.Images
	if it.Image != nil {
		imgs = append([]syndicate.Image{*it.Image}, imgs...)
	}
	for _, im := range imgs {
		if im.URL == u && strings.TrimSpace(im.Alt) != "" {
			return script.Clean(im.Alt, false)
		}
	}
	return script.Clean(it.Title, false)
}

func telegramView(p telegram.Post, it syndicate.Item, pics map[string]picture) *tgView {
	v := &tgView{Silent: p.Silent, Protect: p.Protect, Notes: p.Notes, Limit: p.Limit, Method: string(p.Method)}
	v.Text, v.plain = telegramHTML(p.Text)
	// Counted as the text preview counts it against the limit.
	for _, r := range v.plain {
		v.Length += utf16.RuneLen(r)
	}
	switch p.Method {
	case telegram.MethodPhoto:
		v.Photos = []imageView{imageOf(pics, p.Photo, altOf(it, p.Photo))}
	case telegram.MethodAlbum:
		for _, u := range p.Album {
			v.Photos = append(v.Photos, imageOf(pics, u, altOf(it, u)))
		}
	default:
		v.Preview = linkPreview(p, it, v.plain, pics)
	}
	for _, row := range p.Keyboard {
		var r []buttonView
		for _, b := range row {
			r = append(r, buttonView{Text: b.Text, URL: linkURL(b.URL)})
		}
		v.Keyboard = append(v.Keyboard, r)
	}
	if p.FollowUpText != "" {
		v.FollowUp, _ = telegramHTML(p.FollowUpText)
	}
	for _, d := range p.Documents {
		caption, _ := telegramHTML(d.Caption)
		v.Documents = append(v.Documents, documentView{Name: d.FileName, Host: hostOf(d.URL), Caption: caption})
	}
	return v
}

// linkPreview is the preview Telegram shows under (or, when asked, above)
// a text message: the image itself when the preview is of the article's
// image, else a card naming the linked site.
func linkPreview(p telegram.Post, it syndicate.Item, plain string, pics map[string]picture) *linkPreviewView {
	lp := p.LinkPreview
	target, above := "", false
	switch {
	case lp == nil:
		// Telegram previews the first link of the text by itself.
		if m := statusURL.FindString(plain); m != "" {
			target = trimURL(m)
		} else if links := firstHref(p.Text); links != "" {
			target = links
		}
	case lp.Disabled:
		return nil
	default:
		target, above = lp.URL, lp.AboveText
	}
	if target == "" {
		return nil
	}
	v := &linkPreviewView{Host: hostOf(target), URL: target, Above: above}
	if target == p.Photo && target != "" {
		im := imageOf(pics, target, altOf(it, target))
		v.Image = &im
	} else if target == it.Link {
		v.Title = script.Clean(it.Title, false)
	}
	return v
}

// firstHref is the first link of a Telegram HTML text.
func firstHref(s string) string {
	_, rest, ok := strings.Cut(s, `<a href="`)
	if !ok {
		return ""
	}
	href, _, _ := strings.Cut(rest, `"`)
	href = strings.NewReplacer("&amp;", "&", "&quot;", `"`, "&lt;", "<", "&gt;", ">").Replace(href)
	if !linkable(href) {
		return ""
	}
	return href
}

func mastodonView(s mastodon.Status, server string, pics map[string]picture) *mdView {
	v := &mdView{
		Spoiler: s.SpoilerText, Content: mastodonHTML(s.Text, server), Sensitive: s.Sensitive,
		Language: s.Language, Visibility: s.Visibility, Length: s.Length, Limit: s.Limit,
	}
	for _, m := range s.Media {
		v.Media = append(v.Media, imageOf(pics, m.URL, m.Alt))
	}
	return v
}
