package mastodon

import (
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// ShareLink is one "share on …" deep link in a status footer.
type ShareLink struct {
	Name string
	URL  string
}

// shareNames are the share targets in the order they are shown; e-mail is
// not offered because Mastodon links only http(s) URLs, so a mailto: link
// would show as long dead text.
var shareNames = map[string]string{
	"telegram":  "Telegram",
	"whatsapp":  "WhatsApp",
	"x":         "X",
	"facebook":  "Facebook",
	"pinterest": "Pinterest",
	"linkedin":  "LinkedIn",
}

// ShareURL returns the share intent of target for an article, or false for
// a target that cannot be offered on Mastodon (unknown, e-mail, or
// Pinterest without an image).
func ShareURL(target, link, title, image string) (string, bool) {
	q := escapeStrict
	switch target {
	case "telegram":
		return "https://t.me/share/url?url=" + q(link) + "&text=" + q(title), true
	case "whatsapp":
		return "https://wa.me/?text=" + q(title+" "+link), true
	case "x":
		return "https://twitter.com/intent/tweet?text=" + q(title) + "&url=" + q(link), true
	case "facebook":
		return "https://www.facebook.com/sharer/sharer.php?u=" + q(link), true
	case "pinterest":
		if image == "" {
			return "", false
		}
		return "https://www.pinterest.com/pin/create/button/?url=" + q(link) + "&media=" + q(image) + "&description=" + q(title), true
	case "linkedin":
		return "https://www.linkedin.com/sharing/share-offsite/?url=" + q(link), true
	}
	return "", false
}

// ValidShareTarget reports whether target names a share link this package
// can render, for validating configuration.
func ValidShareTarget(target string) bool {
	_, ok := shareNames[target]
	return ok
}

// escapeStrict percent-encodes everything but letters, digits, '-' and '_',
// so that the server's URL parser sees the whole share link as one URL and
// never stops early at a character it treats as trailing punctuation.
func escapeStrict(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// TelegramPostURL returns the public link of a message in a Telegram
// channel: t.me/<username>/<id> for a public channel, t.me/c/<id>/<id> for
// a private one given by its -100… chat id.
func TelegramPostURL(channel, messageID string) string {
	channel = strings.TrimPrefix(channel, "@")
	if channel == "" || messageID == "" {
		return ""
	}
	if rest, ok := strings.CutPrefix(channel, "-100"); ok {
		return "https://t.me/c/" + escapeStrict(rest) + "/" + escapeStrict(messageID)
	}
	return "https://t.me/" + escapeStrict(channel) + "/" + escapeStrict(messageID)
}

// safeURLByte lists the bytes kept unescaped in links placed in a status:
// the ones every URL parser treats as part of a URL.
func safeURLByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#=&+,;$%", c) >= 0
}

// endsURL lists the bytes a URL may end with and still be taken whole by
// the server's parser (it drops trailing punctuation such as '.' or ',').
func endsURL(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("=_#/+-", c) >= 0
}

// CleanLink returns an http(s) link in a form the server links whole: ASCII
// host (IDNA), percent-encoded path and query, no user info, UTM parameters
// added; false for anything else (javascript:, relative, malformed).
func CleanLink(raw string, utm UTM) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	host, err := idna.Lookup.ToASCII(u.Hostname())
	if err != nil || host == "" {
		return "", false
	}
	if p := u.Port(); p != "" {
		host += ":" + p
	}
	u.User = nil
	u.Host = strings.ToLower(host)
	if utm != (UTM{}) {
		q := u.Query()
		for k, v := range map[string]string{"utm_source": utm.Source, "utm_medium": utm.Medium, "utm_campaign": utm.Campaign} {
			if v != "" {
				q.Set(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	s := u.Scheme + "://" + u.Host + reescape(u.EscapedPath())
	if u.RawQuery != "" {
		s += "?" + reescape(u.RawQuery)
	}
	if u.Fragment != "" {
		s += "#" + reescape(u.EscapedFragment())
	}
	if !endsURL(s[len(s)-1]) {
		c := s[len(s)-1]
		s = s[:len(s)-1] + "%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15]))
	}
	return s, true
}

// reescape percent-encodes the bytes of an already escaped URL part that
// are not in safeURLByte.
func reescape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if safeURLByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
