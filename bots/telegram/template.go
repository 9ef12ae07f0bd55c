package telegram

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate/script"
)

// TemplateData is what an operator's layout template sees. Text fields are
// plain text (already cut and, for right-to-left posts, given direction
// marks); the template engine escapes them wherever they are used.
type TemplateData struct {
	Title    string
	Summary  string // the excerpt, cut to fit the limit
	Link     string // the article link with the "default" UTM parameters
	Image    string
	Author   string
	Language string
	Date     time.Time
	// Hashtags are ready to print ("#Tag"); Categories are the raw names.
	Hashtags   []string
	Categories []string
	Videos     []string
	RTL        bool
}

// templateFuncs are helpers for layouts; each escapes its arguments.
var templateFuncs = template.FuncMap{
	"bold":   func(v any) template.HTML { return template.HTML("<b>" + htmlOf(v) + "</b>") },
	"italic": func(v any) template.HTML { return template.HTML("<i>" + htmlOf(v) + "</i>") },
	"link": func(href string, text any) template.HTML {
		if !isWebURL(href) {
			return template.HTML(htmlOf(text))
		}
		return template.HTML(`<a href="` + escapeHTML(href) + `">` + htmlOf(text) + "</a>")
	},
	"join": strings.Join,
	"cut": func(n int, s string) string {
		c, _ := cut(s, n)
		return c
	},
	"date": func(layout string, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(layout)
	},
}

// htmlOf escapes plain values and passes through what a helper already
// made HTML.
func htmlOf(v any) string {
	switch x := v.(type) {
	case template.HTML:
		return string(x)
	case string:
		return escapeHTML(x)
	default:
		return escapeHTML(fmt.Sprint(x))
	}
}

func parseTemplate(text string) (*template.Template, error) {
	t, err := template.New("post").Funcs(templateFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse layout template: %w", err)
	}
	return t, nil
}

// renderTemplate runs the operator's layout, shrinking the excerpt until
// the result fits limit. The plain fallback is the visible text.
func renderTemplate(v itemView, f Format, limit int) (string, string, bool, error) {
	t, err := parseTemplate(f.Template)
	if err != nil {
		return "", "", false, err
	}
	maxTags := f.MaxHashtags
	if maxTags <= 0 {
		maxTags = defaultMaxHashtags
	}
	d := TemplateData{
		Title:      v.title,
		Link:       withUTM(v.link, f.utmFor("default")),
		Image:      v.image,
		Author:     v.author,
		Language:   v.lang,
		Date:       v.published,
		Categories: v.categories,
		RTL:        v.rtl,
	}
	if !f.NoHashtags {
		d.Hashtags = script.Hashtags(v.categories, maxTags)
	}
	for _, vid := range v.videos {
		d.Videos = append(d.Videos, vid.URL)
	}
	if v.rtl {
		d.Title = script.Layout{}.Line(d.Title)
		for i, h := range d.Hashtags {
			d.Hashtags[i] = script.Layout{}.Isolate(h)
		}
	}
	excerpt := f.ExcerptMax
	if excerpt <= 0 {
		excerpt = defaultExcerpt
	}
	excerpt = min(excerpt, units(v.summary))
	for range 32 {
		d.Summary, _ = cut(v.summary, excerpt)
		if v.rtl {
			d.Summary = script.Layout{}.Text(d.Summary)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, d); err != nil {
			return "", "", false, fmt.Errorf("run layout template: %w", err)
		}
		html := strings.TrimSpace(buf.String())
		text, err := checkHTML(html)
		if err != nil {
			return "", "", false, fmt.Errorf("layout template output: %w", err)
		}
		if strings.TrimSpace(text) == "" {
			return "", "", false, fmt.Errorf("layout template output is empty")
		}
		over := units(text) - limit
		if over <= 0 && len(html) <= rawLimit {
			return html, text, true, nil
		}
		if excerpt == 0 {
			return "", "", false, nil
		}
		excerpt = max(0, excerpt-max(over, 1))
	}
	return "", "", false, nil
}
