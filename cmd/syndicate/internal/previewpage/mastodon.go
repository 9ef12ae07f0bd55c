package previewpage

import (
	"html"
	"html/template"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mastodon stores a status as plain text and shows it as HTML it makes
// itself: paragraphs at blank lines, line breaks, links for URLs and
// hashtags. These rules follow its text formatter closely enough for a
// preview: a URL shows without its scheme and "www.", cut after 30
// characters with an ellipsis; a hashtag links to the server's tag page.

var (
	statusURL  = regexp.MustCompile(`(?i)https?://[^\s\p{Zs}<>"\x{2028}\x{2029}]+`)
	paragraphs = regexp.MustCompile(`\n{2,}`)
)

// urlDisplayMax is how many characters of a URL Mastodon shows before the
// ellipsis.
const urlDisplayMax = 30

// mastodonHTML shows a status text as Mastodon's web interface does, with
// hashtags linking to server's tag pages.
func mastodonHTML(text, server string) template.HTML {
	var b strings.Builder
	for _, p := range paragraphs.Split(strings.Trim(text, "\n"), -1) {
		b.WriteString("<p>")
		for i, line := range strings.Split(p, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			writeLinked(&b, line, server)
		}
		b.WriteString("</p>")
	}
	return template.HTML(b.String())
}

// writeLinked writes one line with its URLs and hashtags as links.
func writeLinked(b *strings.Builder, line, server string) {
	last := 0
	for _, m := range statusURL.FindAllStringIndex(line, -1) {
		start, end := m[0], m[0]+len(trimURL(line[m[0]:m[1]]))
		if start > 0 {
			// A URL glued to a word is not linked.
			if r, _ := utf8.DecodeLastRuneInString(line[:start]); r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("@$#", r)) {
				continue
			}
		}
		if !linkedByServer(line[start:end]) {
			continue
		}
		writeTags(b, line[last:start], server)
		writeURL(b, line[start:end])
		last = end
	}
	writeTags(b, line[last:], server)
}

// trimURL drops the punctuation that ends a sentence rather than the URL,
// and a closing parenthesis that opens nowhere in it.
func trimURL(u string) string {
	for {
		t := strings.TrimRight(u, ".,:;!?'\"*")
		if strings.HasSuffix(t, ")") && strings.Count(t, "(") < strings.Count(t, ")") {
			t = t[:len(t)-1]
		}
		if t == u {
			return u
		}
		u = t
	}
}

// linkedByServer reports whether Mastodon links a URL it found: one with a
// host name of at least two labels.
func linkedByServer(u string) bool {
	p, err := url.Parse(u)
	return err == nil && linkable(u) && strings.Contains(strings.Trim(p.Hostname(), "."), ".")
}

func writeURL(b *strings.Builder, u string) {
	prefix := ""
	lower := strings.ToLower(u)
	for _, p := range []string{"https://www.", "http://www.", "https://", "http://"} {
		if strings.HasPrefix(lower, p) {
			prefix = u[:len(p)]
			break
		}
	}
	rest := []rune(u[len(prefix):])
	shown, hidden := string(rest), ""
	class := ""
	if len(rest) > urlDisplayMax {
		shown, hidden, class = string(rest[:urlDisplayMax]), string(rest[urlDisplayMax:]), "ellipsis"
	}
	b.WriteString(`<a href="` + html.EscapeString(u) + `" rel="nofollow noopener noreferrer" target="_blank">`)
	b.WriteString(`<span class="invisible">` + html.EscapeString(prefix) + `</span>`)
	b.WriteString(`<span class="` + class + `">` + html.EscapeString(shown) + `</span>`)
	b.WriteString(`<span class="invisible">` + html.EscapeString(hidden) + `</span></a>`)
}

// hashtagJoiners may join the words of a hashtag besides "_" (Mastodon's
// Tag::HASHTAG_SEPARATORS), but not end it.
const hashtagJoiners = "\u00B7\u30FB\u200C"

// writeTags writes text with its hashtags as links.
func writeTags(b *strings.Builder, s, server string) {
	last := 0
	for i, r := range s {
		if (r != '#' && r != '＃') || i < last {
			continue
		}
		if i > 0 {
			p, _ := utf8.DecodeLastRuneInString(s[:i])
			if strings.ContainsRune("=/)", p) || unicode.IsLetter(p) || unicode.IsNumber(p) {
				continue
			}
		}
		rest := s[i+utf8.RuneLen(r):]
		end := strings.IndexFunc(rest, func(c rune) bool { return !hashtagRune(c) })
		if end < 0 {
			end = len(rest)
		}
		name := strings.TrimRight(rest[:end], hashtagJoiners)
		if !strings.ContainsFunc(name, unicode.IsLetter) {
			continue
		}
		b.WriteString(html.EscapeString(s[last:i]))
		href := strings.TrimRight(server, "/") + "/tags/" + url.PathEscape(name)
		b.WriteString(`<a href="` + html.EscapeString(href) + `" class="mention hashtag" rel="tag nofollow noopener noreferrer" target="_blank">#<span>` + html.EscapeString(name) + `</span></a>`)
		last = i + utf8.RuneLen(r) + len(name)
	}
	b.WriteString(html.EscapeString(s[last:]))
}

func hashtagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || unicode.Is(unicode.Pc, r) || strings.ContainsRune(hashtagJoiners, r)
}
