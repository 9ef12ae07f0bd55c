package previewpage

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// pageMarkup is every element and attribute the converters may write.
var pageMarkup = map[string][]string{
	"b": nil, "i": nil, "u": nil, "s": nil, "code": nil, "p": nil, "br": nil,
	"span":       {"class"},
	"blockquote": {"class"},
	"a":          {"href", "rel", "target", "class"},
}

// assertMarkup checks that converted text holds only the converters' own
// markup, with links only where the page allows them.
func assertMarkup(t *testing.T, in, out string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		allowed, ok := pageMarkup[tok.Data]
		if !ok {
			t.Fatalf("%q gave element <%s>: %q", in, tok.Data, out)
		}
		for _, a := range tok.Attr {
			if !strings.Contains(" "+strings.Join(allowed, " ")+" ", " "+a.Key+" ") {
				t.Fatalf("%q gave <%s %s=%q>: %q", in, tok.Data, a.Key, a.Val, out)
			}
			if a.Key == "href" && !linkable(a.Val) {
				t.Fatalf("%q gave a link to %q: %q", in, a.Val, out)
			}
		}
	}
}

func FuzzTelegramHTML(f *testing.F) {
	for _, s := range []string{
		`<b><a href="https://e.org/?a=1&amp;b=2">t</a></b>`, `<tg-spoiler>x</tg-spoiler><pre><code class="language-go">x</code></pre>`,
		`<a href="javascript:alert(1)">x</a>`, `<img src=x onerror=alert(1)>`, `<script>alert(1)</script>`, `<b><i>x`, "<a href='https://e.org/\"onclick=\"x'>y</a>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, _ := telegramHTML(s)
		assertMarkup(t, s, string(out))
	})
}

func FuzzMastodonHTML(f *testing.F) {
	for _, s := range []string{
		"Title\n\nhttps://e.org/a?b=1&c=2 #tag", `<script>alert(1)</script> https://e.org/"onmouseover="x #a"b`, "\u200f#حقوق_زنان (https://e.org/x)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		assertMarkup(t, s, string(mastodonHTML(s, "https://s.example")))
	})
}
