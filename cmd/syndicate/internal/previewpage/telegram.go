package previewpage

import (
	"html/template"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// element is how one tag of Telegram's HTML subset is shown on the page:
// the page's own opening and closing markup, never the feed's.
type element struct{ open, close string }

// telegramElement maps a tag of Telegram's HTML mode (Bot API "HTML style":
// b/strong, i/em, u/ins, s/strike/del, tg-spoiler or span.tg-spoiler, a
// href, code, pre, blockquote [expandable], tg-emoji, tg-time) to page
// markup, and any other tag to none, since it makes no entity.
func telegramElement(tok html.Token) element {
	attr := func(name string) (string, bool) {
		for _, a := range tok.Attr {
			if a.Key == name {
				return a.Val, true
			}
		}
		return "", false
	}
	switch tok.Data {
	case "b", "strong":
		return element{"<b>", "</b>"}
	case "i", "em":
		return element{"<i>", "</i>"}
	case "u", "ins":
		return element{"<u>", "</u>"}
	case "s", "strike", "del":
		return element{"<s>", "</s>"}
	case "tg-spoiler":
		return element{`<span class="tg-spoiler">`, "</span>"}
	case "span":
		if c, _ := attr("class"); c == "tg-spoiler" {
			return element{`<span class="tg-spoiler">`, "</span>"}
		}
	case "a":
		if href, _ := attr("href"); linkable(href) {
			return element{`<a href="` + html.EscapeString(href) + `" rel="nofollow noopener noreferrer" target="_blank">`, "</a>"}
		}
	case "code":
		return element{"<code>", "</code>"}
	case "pre":
		// A block of its own, but not an HTML <pre>, which would drop a
		// newline that follows it where Telegram keeps it.
		return element{`<span class="tg-pre">`, "</span>"}
	case "blockquote":
		if _, ok := attr("expandable"); ok {
			return element{`<blockquote class="tg-quote expandable">`, "</blockquote>"}
		}
		return element{`<blockquote class="tg-quote">`, "</blockquote>"}
	case "tg-emoji":
		return element{`<span class="tg-emoji">`, "</span>"}
	case "tg-time":
		return element{`<span class="tg-time">`, "</span>"}
	}
	return element{}
}

// linkable accepts the links Telegram opens from a message or a button:
// http(s) URLs with a host, and tg: links.
func linkable(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "tg":
		return true
	}
	return false
}

// telegramHTML turns a message text in Telegram's HTML mode into page HTML
// showing its entities as clients do (with the visible text), escaping
// every text again and rewriting every tag so that nothing a feed put in
// the text can act on the page.
func telegramHTML(s string) (template.HTML, string) {
	z := html.NewTokenizer(strings.NewReader(s))
	var (
		out, text strings.Builder
		stack     []struct {
			name  string
			close string
		}
	)
	closeTo := func(i int) {
		for j := len(stack) - 1; j >= i; j-- {
			out.WriteString(stack[j].close)
		}
		stack = stack[:i]
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			closeTo(0)
			return template.HTML(out.String()), text.String()
		case html.TextToken:
			t := string(z.Text())
			text.WriteString(t)
			out.WriteString(html.EscapeString(t))
		case html.StartTagToken:
			tok := z.Token()
			e := telegramElement(tok)
			out.WriteString(e.open)
			stack = append(stack, struct {
				name  string
				close string
			}{tok.Data, e.close})
		case html.SelfClosingTagToken:
			// An empty entity shows nothing.
		case html.EndTagToken:
			name := z.Token().Data
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i].name == name {
					closeTo(i)
					break
				}
			}
		}
	}
}
