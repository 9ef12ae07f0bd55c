package mastodon

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// DefaultTemplate is the layout of a status when the destination does not
// set its own; operators can start from it. Blank lines left by empty
// parts are collapsed after rendering.
const DefaultTemplate = `{{.Title}}

{{.Excerpt}}

{{.Link}}
{{with .Video}}▶ {{.}}{{end}}
{{with .Document}}📄 {{.Title}} {{.URL}}{{end}}

{{.HashtagLine}}

{{if .Share}}{{.Labels.Share}}:{{range .Share}} {{.Name}} {{.URL}}{{end}}{{end}}
{{with .Telegram}}Telegram: {{.}}{{end}}`

// TemplateData is what a status template can show. Text fields are plain
// text already cleaned (mentions and hashtags from the article broken) and
// cut to fit; links are whole URLs the server counts at its reserved length.
type TemplateData struct {
	Title   string
	Excerpt string
	Link    string
	// Hashtags are "#Name" strings; HashtagLine joins them with spaces.
	Hashtags    []string
	HashtagLine string
	// Video is a watch-page link of a video in the article.
	Video string
	// Document is a PDF or other document of the article.
	Document *Document
	// Share are the share links of the footer.
	Share []ShareLink
	// Telegram links to the same post on the operator's Telegram channel.
	Telegram   string
	Author     string
	Language   string
	Categories []string
	Published  time.Time
	Labels     Labels
}

// Document is a document attached to an article.
type Document struct {
	Title string
	URL   string
}

// Labels are the few words a status shows besides the article's own text,
// in the status language.
type Labels struct {
	Share string
}

var labelsByLanguage = map[string]Labels{
	"en": {Share: "Share"},
	"ar": {Share: "شارك"},
	"fa": {Share: "هم‌رسانی"},
	"sq": {Share: "Shpërndaje"},
}

func labelsFor(lang string) Labels {
	if l, ok := labelsByLanguage[lang]; ok {
		return l
	}
	return labelsByLanguage["en"]
}

// ParseTemplate compiles a status template; configuration loading calls it
// to report a broken template before anything is posted.
func ParseTemplate(src string) (*template.Template, error) {
	if strings.TrimSpace(src) == "" {
		src = DefaultTemplate
	}
	t, err := template.New("status").Option("missingkey=error").Funcs(template.FuncMap{
		"join": strings.Join,
	}).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parse status template: %w", err)
	}
	return t, nil
}

// execute renders the template and tidies the white space.
func execute(t *template.Template, d TemplateData) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("execute status template: %w", err)
	}
	return tidy(b.String()), nil
}

// tidy trims each line and collapses runs of blank lines to one.
func tidy(s string) string {
	var out []string
	blank := false
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimRight(line, " \t")
		if strings.TrimSpace(line) == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
