// Package demosite serves a small sample news site over loopback HTTP, shaped
// like the WordPress site the bot syndicates: four language editions (two
// right-to-left), categories, featured images, a PDF newsletter and a video
// embed. The demo command points the real pipeline at it.
package demosite

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"strings"
	"text/template"
	"time"
)

// Site is a running sample site.
type Site struct {
	// URL is the site's base URL, e.g. http://127.0.0.1:41234.
	URL      string
	editions []Edition
	srv      *http.Server
	start    time.Time
	opts     Options
}

// Options change how the site behaves.
type Options struct {
	// DeclaredLanguage, when set, is the language every edition's feed
	// declares at channel level, as editions sharing one WordPress install
	// do when the site language was never changed.
	DeclaredLanguage string
}

// PreferredAddr is where the site listens when the port is free: a fixed
// address keeps article and image URLs the same from one demo run to the
// next, as a real site's are.
const PreferredAddr = "127.0.0.1:8737"

// Start serves the site on PreferredAddr, else on a free loopback port.
// Article dates are set relative to now, so that they always count as
// recent.
func Start(now time.Time) (*Site, error) { return StartWith(now, Options{}) }

// StartWith is Start with options.
func StartWith(now time.Time, o Options) (*Site, error) {
	ln, err := net.Listen("tcp", PreferredAddr)
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &Site{URL: "http://" + ln.Addr().String(), editions: Editions(), start: now.Truncate(time.Hour), opts: o}
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.serve)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the site.
func (s *Site) Close() error { return s.srv.Close() }

// FeedURL returns the feed URL of an edition ("" for English, "ar", …).
func (s *Site) FeedURL(lang string) string {
	for _, e := range s.editions {
		if e.Lang == lang {
			return s.URL + e.Path + "/feed/"
		}
	}
	return ""
}

func (s *Site) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/wp-content/uploads/") && strings.HasSuffix(p, ".png"):
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(picture(p))
		return
	case strings.HasPrefix(p, "/wp-content/uploads/") && strings.HasSuffix(p, ".pdf"):
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(samplePDF)
		return
	}
	for _, e := range s.editions {
		if p == e.Path+"/feed/" {
			s.serveFeed(w, r, e)
			return
		}
		for _, a := range e.Articles {
			if p == e.Path+"/"+a.Slug+"/" {
				s.servePage(w, e, a)
				return
			}
		}
	}
	http.NotFound(w, r)
}

func (s *Site) articleURL(e Edition, a Article) string { return s.URL + e.Path + "/" + a.Slug + "/" }
func (s *Site) upload(name string) string              { return s.URL + "/wp-content/uploads/2026/11/" + name }

func (s *Site) serveFeed(w http.ResponseWriter, r *http.Request, e Edition) {
	modified := s.start.UTC().Format(http.TimeFormat)
	etag := fmt.Sprintf(`"%08x"`, crc32.ChecksumIEEE([]byte(s.URL+e.Lang+modified)))
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", modified)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var buf bytes.Buffer
	if err := feedTemplate.Execute(&buf, s.feedData(e)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
	_, _ = w.Write(buf.Bytes())
}

type feedItem struct {
	GUID, Link, Title, Author, Date, Excerpt, Content, MediaURL string
	Categories                                                  []string
}

func (s *Site) feedData(e Edition) map[string]any {
	var items []feedItem
	for i, a := range e.Articles {
		body := strings.ReplaceAll(a.Body, `href="/`, `href="`+s.URL+`/`)
		if a.ImageIn == "content" {
			body = fmt.Sprintf(`<p><img src="%s" alt="%s" width="1200" height="675" /></p>`, s.upload(a.Image), a.Title) + "\n" + body
		}
		// A tracking pixel, as analytics plugins add to feeds.
		body += `<img src="` + s.URL + `/wp-content/uploads/pixel.png" width="1" height="1" alt="" />`
		it := feedItem{
			// WordPress GUIDs name the post on the site's canonical host.
			GUID:       fmt.Sprintf("https://freedomvoice.example/?p=%d", 1000+i+100*edition(e.Lang)),
			Link:       s.articleURL(e, a) + "?utm_source=rss&utm_medium=rss",
			Title:      a.Title,
			Author:     a.Author,
			Date:       s.start.Add(-time.Duration(a.HoursAgo) * time.Hour).Format(time.RFC1123Z),
			Excerpt:    excerpt(a.Body),
			Content:    body,
			Categories: a.Categories,
		}
		if a.ImageIn == "media" {
			it.MediaURL = s.upload(a.Image)
		}
		items = append(items, it)
	}
	lang := e.Lang
	if s.opts.DeclaredLanguage != "" {
		lang = s.opts.DeclaredLanguage
	}
	return map[string]any{"Edition": e, "Site": s.URL, "Items": items, "Built": s.start.Format(time.RFC1123Z), "Language": lang}
}

func (s *Site) servePage(w http.ResponseWriter, e Edition, a Article) {
	dir := "ltr"
	if e.Lang == "ar" || e.Lang == "fa" {
		dir = "rtl"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html lang="%s" dir="%s"><head><meta charset="utf-8"><title>%s</title>
<meta property="og:title" content="%s"><meta property="og:image" content="%s"><meta property="og:image:alt" content="%s">
</head><body><article><h1>%s</h1>%s</article></body></html>`,
		e.Lang, dir, template.HTMLEscapeString(a.Title), template.HTMLEscapeString(a.Title),
		s.upload(a.Image), template.HTMLEscapeString(a.Title), template.HTMLEscapeString(a.Title), a.Body)
}

// edition numbers the editions for post ids.
func edition(lang string) int {
	return strings.Index("en ar fa sq", lang) / 3
}

// excerpt is the first paragraph's text, as WordPress puts in <description>.
func excerpt(body string) string {
	first, _, _ := strings.Cut(body, "</p>")
	first = strings.TrimPrefix(strings.TrimSpace(first), "<p>")
	return first + " [&#8230;]"
}

var feedTemplate = template.Must(template.New("rss").Funcs(template.FuncMap{
	"cdata": func(s string) string { return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>" },
	"xml":   template.HTMLEscapeString,
}).Parse(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:media="http://search.yahoo.com/mrss/">
<channel>
	<title>{{xml .Edition.Title}}</title>
	<atom:link href="{{.Site}}{{.Edition.Path}}/feed/" rel="self" type="application/rss+xml" />
	<link>{{.Site}}{{.Edition.Path}}/</link>
	<description>News and analysis</description>
	<lastBuildDate>{{.Built}}</lastBuildDate>
	<language>{{.Language}}</language>
	<generator>https://wordpress.org/?v=6.7</generator>
{{- range .Items}}
	<item>
		<title>{{xml .Title}}</title>
		<link>{{xml .Link}}</link>
		<dc:creator>{{cdata .Author}}</dc:creator>
		<pubDate>{{.Date}}</pubDate>
{{- range .Categories}}
		<category>{{cdata .}}</category>
{{- end}}
		<guid isPermaLink="false">{{xml .GUID}}</guid>
		<description>{{cdata .Excerpt}}</description>
		<content:encoded>{{cdata .Content}}</content:encoded>
{{- if .MediaURL}}
		<media:content url="{{xml .MediaURL}}" medium="image" width="1200" height="675" />
{{- end}}
	</item>
{{- end}}
</channel>
</rss>
`))

// picture draws a plain 1200×675 PNG whose colour depends on its name, so
// each article has a distinct featured image.
func picture(name string) []byte {
	if strings.HasSuffix(name, "pixel.png") {
		img := image.NewRGBA(image.Rect(0, 0, 1, 1))
		var buf bytes.Buffer
		_ = png.Encode(&buf, img)
		return buf.Bytes()
	}
	h := crc32.ChecksumIEEE([]byte(name))
	c := color.RGBA{R: uint8(h), G: uint8(h >> 8), B: uint8(h >> 16), A: 255}
	img := image.NewPaletted(image.Rect(0, 0, 1200, 675), color.Palette{c, color.White})
	for y := 300; y < 375; y++ {
		for x := 100; x < 1100; x++ {
			img.SetColorIndex(x, y, 1)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// samplePDF is a minimal one-page PDF.
var samplePDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
