package previewpage

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
)

func TestTelegramHTML(t *testing.T) {
	for _, c := range []struct {
		name, in, html, text string
		// accepted says Telegram takes the text, so its visible text must
		// be what the stand-in's parser reads from it.
		accepted bool
	}{
		{"plain", "a &amp; b &lt;c&gt; &quot;d&quot;", "a &amp; b &lt;c&gt; &#34;d&#34;", `a & b <c> "d"`, true},
		{"newlines kept", "one\n\ntwo\nthree", "one\n\ntwo\nthree", "one\n\ntwo\nthree", true},
		{"styles", "<b>b</b><strong>B</strong><i>i</i><em>I</em><u>u</u><ins>U</ins><s>s</s><strike>S</strike><del>D</del>",
			"<b>b</b><b>B</b><i>i</i><i>I</i><u>u</u><u>U</u><s>s</s><s>S</s><s>D</s>", "bBiIuUsSD", true},
		{"link", `<b><a href="https://example.org/a?x=1&amp;y=2">title</a></b>`,
			`<b><a href="https://example.org/a?x=1&amp;y=2" rel="nofollow noopener noreferrer" target="_blank">title</a></b>`, "title", true},
		{"tg link", `<a href="tg://resolve?domain=x">x</a>`,
			`<a href="tg://resolve?domain=x" rel="nofollow noopener noreferrer" target="_blank">x</a>`, "x", true},
		{"spoilers", `<tg-spoiler>a</tg-spoiler><span class="tg-spoiler">b</span>`,
			`<span class="tg-spoiler">a</span><span class="tg-spoiler">b</span>`, "ab", true},
		{"code and pre", `<code>x&lt;y</code> <pre><code class="language-go">f()</code></pre>`,
			`<code>x&lt;y</code> <span class="tg-pre"><code>f()</code></span>`, "x<y f()", true},
		{"quotes", `<blockquote>q</blockquote><blockquote expandable>long</blockquote>`,
			`<blockquote class="tg-quote">q</blockquote><blockquote class="tg-quote expandable">long</blockquote>`, "qlong", true},
		{"emoji and time", `<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> <tg-time unix="1700000000" format="d">Nov 14</tg-time>`,
			`<span class="tg-emoji">👍</span> <span class="tg-time">Nov 14</span>`, "👍 Nov 14", true},
		{"numeric references", "&#39;&#x41;", "&#39;A", "'A", true},
		// What Telegram would refuse still shows only text and page markup.
		{"script", `<script>alert(1)</script>x`, "alert(1)x", "alert(1)x", false},
		{"image with handler", `<img src=x onerror="alert(1)">x`, "x", "x", false},
		{"javascript link", `<a href="javascript:alert(1)">x</a>`, "x", "x", false},
		{"data link", `<a href="data:text/html,<script>alert(1)</script>">x</a>`, "x", "x", false},
		{"attribute breakout", `<a href="https://e.org/&quot;onmouseover=&quot;alert(1)">x</a>`,
			`<a href="https://e.org/&#34;onmouseover=&#34;alert(1)" rel="nofollow noopener noreferrer" target="_blank">x</a>`, "x", false},
		{"style attribute dropped", `<b style="position:fixed">x</b>`, "<b>x</b>", "x", false},
		{"unclosed tags closed", "<b><i>x", "<b><i>x</i></b>", "x", false},
		{"stray end tag", "x</b>y", "xy", "xy", false},
		{"misnested", "<b>a<i>b</b>c</i>", "<b>a<i>b</i></b>c", "abc", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, text := telegramHTML(c.in)
			if string(h) != c.html || text != c.text {
				t.Errorf("telegramHTML(%q)\n = %q, %q\nwant %q, %q", c.in, h, text, c.html, c.text)
			}
			if !c.accepted {
				return
			}
			want, _, err := telegramfake.ParseHTML(c.in)
			if err != nil {
				t.Fatalf("the stand-in refuses %q: %v", c.in, err)
			}
			if text != want {
				t.Errorf("visible text %q, Telegram shows %q", text, want)
			}
		})
	}
}

func TestMastodonHTML(t *testing.T) {
	const server = "https://social.example"
	tag := func(name string) string {
		return `<a href="https://social.example/tags/` + url.PathEscape(name) + `" class="mention hashtag" rel="tag nofollow noopener noreferrer" target="_blank">#<span>` + name + `</span></a>`
	}
	link := func(href, prefix, shown, class, hidden string) string {
		return `<a href="` + href + `" rel="nofollow noopener noreferrer" target="_blank"><span class="invisible">` + prefix +
			`</span><span class="` + class + `">` + shown + `</span><span class="invisible">` + hidden + `</span></a>`
	}
	for _, c := range []struct{ name, in, want string }{
		{"paragraphs and lines", "Title\n\nOne\ntwo\n\n\nthree", "<p>Title</p><p>One<br>two</p><p>three</p>"},
		{"escaped", `<script>alert("x")</script> & <b>`, "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;</p>"},
		{"short url", "see https://example.org/a.",
			"<p>see " + link("https://example.org/a", "https://", "example.org/a", "", "") + ".</p>"},
		{"www and long url", "https://www.example.org/2026/11/a-very-long-article-slug/",
			"<p>" + link("https://www.example.org/2026/11/a-very-long-article-slug/", "https://www.", "example.org/2026/11/a-very-lon", "ellipsis", "g-article-slug/") + "</p>"},
		{"url in parentheses", "(http://example.org/x)",
			"<p>(" + link("http://example.org/x", "http://", "example.org/x", "", "") + ")</p>"},
		{"url glued to a word", "abchttps://example.org/", "<p>abchttps://example.org/</p>"},
		{"hashtags", "#News #Press_Freedom #2026 a#b", "<p>" + tag("News") + " " + tag("Press_Freedom") + " #2026 a#b</p>"},
		{"right to left hashtags", "\u200f#أخبار #حقوق_العمال", "<p>\u200f" + tag("أخبار") + " " + tag("حقوق_العمال") + "</p>"},
		{"fragment is no hashtag", "https://example.org/#top",
			"<p>" + link("https://example.org/#top", "https://", "example.org/#top", "", "") + "</p>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := string(mastodonHTML(c.in, server))
			if got != c.want {
				t.Errorf("mastodonHTML(%q)\n = %s\nwant %s", c.in, got, c.want)
			}
		})
	}
}

// TestMastodonLinksAgreeWithServer: the page links the URLs and hashtags
// that the Mastodon stand-in, which models the server, finds in the text.
func TestMastodonLinksAgreeWithServer(t *testing.T) {
	for _, text := range []string{
		"Statement on the shutdown\n\nhttp://127.0.0.1:8737/statement/\n\n#Statements #HumanRights",
		"\u200fالموجز\n\n\u200f⁦http://127.0.0.1:8737/ar/weekly-digest-47/⁩\n\n\u200f#الموجز",
		"\u200f#حقوق_زنان #نامه\u200cها_و_بیانیه\u200cها",
		"▶ https://www.youtube.com/watch?v=dQw4w9WgXcQ\n📄 PDF https://example.org/a.pdf",
		"See (https://example.org/x), and https://example.org/y. #tag1 #1 x#y",
		"http://#0 https://localhost/x http://a.example:8080/p?q=1&r=2",
	} {
		h := string(mastodonHTML(text, "https://s.example"))
		var hrefs, tags []string
		for _, a := range strings.Split(h, `<a href="`)[1:] {
			href, _, _ := strings.Cut(a, `"`)
			href = strings.ReplaceAll(href, "&amp;", "&")
			if name, ok := strings.CutPrefix(href, "https://s.example/tags/"); ok {
				tags = append(tags, name)
				continue
			}
			hrefs = append(hrefs, href)
		}
		if want := mastodonfake.URLs(text); !slices.Equal(hrefs, want) {
			t.Errorf("%q: links %q, the server links %q", text, hrefs, want)
		}
		var want []string
		for _, name := range mastodonfake.Hashtags(text) {
			want = append(want, url.PathEscape(name))
		}
		if !slices.Equal(tags, want) {
			t.Errorf("%q: hashtags %q, the server files %q", text, tags, want)
		}
	}
}

func TestDirection(t *testing.T) {
	for _, c := range []struct{ lang, text, want string }{
		{"en", "Hello", "ltr"},
		{"ar", "\u200f<b>عنوان</b>", "rtl"},
		{"fa", "123 نامه", "rtl"},
		// The first strong letter decides, as in the clients: a Latin
		// word first makes a line left to right whatever the language.
		{"ar", "Reuters: عنوان", "ltr"},
		{"ar", "", "rtl"},
		{"fa", "2026", "rtl"},
		{"en", "2026", "ltr"},
		{"", "", "ltr"},
	} {
		if got := direction(c.lang, c.text); got != c.want {
			t.Errorf("direction(%q, %q) = %s, want %s", c.lang, c.text, got, c.want)
		}
	}
}
