package telegram

import (
	"net/url"
	"strings"

	"github.com/syndicate-bot/syndicate/syndicate/share"
)

// Button is an inline keyboard button that opens a URL.
type Button struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// UTM is a set of campaign parameters added to article links.
type UTM struct {
	Source   string
	Medium   string
	Campaign string
}

// The button names an operator can list, in the site's share-bar order:
// the article itself, then the share targets.
const (
	ButtonRead      = "read"
	ButtonTelegram  = share.Telegram
	ButtonWhatsApp  = share.WhatsApp
	ButtonX         = share.X
	ButtonFacebook  = share.Facebook
	ButtonPinterest = share.Pinterest
	ButtonLinkedIn  = share.LinkedIn
	ButtonEmail     = share.Email
)

// DefaultButtons are the buttons of a destination that lists none.
var defaultButtons = []string{ButtonRead, ButtonTelegram, ButtonWhatsApp, ButtonX, ButtonFacebook}

// KnownButtons lists every button name, so that configuration can be checked.
func KnownButtons() []string {
	return append([]string{ButtonRead}, share.Targets()...)
}

// readLabels name the "open the article" button in the site's editions.
var readLabels = map[string]string{
	"ar": "اقرأ المقال",
	"fa": "مطالعه مطلب",
	"sq": "Lexo artikullin",
}

// maxShareText bounds the title carried in share links, which messengers
// show as the draft of a message.
const maxShareText = 200

// keyboard builds the URL buttons of a post. Telegram buttons accept only
// http(s) and tg links, so the e-mail button needs Format.EmailShareURL (an
// https page that opens the reader's mail program); without it the button
// is left out and a note says so.
func keyboard(it itemView, f Format) ([][]Button, []string) {
	names := f.Buttons
	if names == nil {
		names = defaultButtons
	}
	if it.link == "" || len(names) == 0 {
		return nil, nil
	}
	var (
		buttons []Button
		notes   []string
	)
	title, _ := cut(it.title, maxShareText)
	for _, name := range names {
		link := withUTM(it.link, f.utmFor(name))
		article := share.Article{Link: link, Title: title, Image: it.image}
		var u string
		switch {
		case name == ButtonRead:
			u = link
		case name == ButtonEmail:
			if f.EmailShareURL == "" {
				notes = append(notes, "e-mail button left out: Telegram buttons open only http(s) and tg links; set an e-mail share page to offer it")
				continue
			}
			u = share.EmailPageURL(f.EmailShareURL, article)
		case share.Web(name):
			var ok bool
			if u, ok = share.URL(name, article); !ok {
				notes = append(notes, name+" button left out: the article has no image to pin")
				continue
			}
		default:
			notes = append(notes, "unknown button "+name+" left out")
			continue
		}
		buttons = append(buttons, Button{Text: f.label(name, it.lang), URL: u})
	}
	perRow := f.ButtonsPerRow
	if perRow <= 0 {
		perRow = 3
	}
	var rows [][]Button
	for len(buttons) > 0 {
		n := min(perRow, len(buttons))
		rows = append(rows, buttons[:n:n])
		buttons = buttons[n:]
	}
	return rows, notes
}

func (f Format) label(name, lang string) string {
	if l, ok := f.ButtonLabels[name]; ok && strings.TrimSpace(l) != "" {
		return l
	}
	if name == ButtonRead {
		if l, ok := readLabels[primaryLanguage(lang)]; ok {
			return l
		}
	}
	if name == ButtonRead {
		return "Read"
	}
	return share.Name(name)
}

func (f Format) utmFor(name string) UTM {
	if u, ok := f.UTM[name]; ok {
		return u
	}
	return f.UTM["default"]
}

// withUTM adds campaign parameters to an article link, keeping any the
// link already has.
func withUTM(link string, utm UTM) string {
	if utm == (UTM{}) {
		return link
	}
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	q := u.Query()
	for k, v := range map[string]string{"utm_source": utm.Source, "utm_medium": utm.Medium, "utm_campaign": utm.Campaign} {
		if v != "" && q.Get(k) == "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func primaryLanguage(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}
