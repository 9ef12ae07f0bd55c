package mastodon

import (
	"net/url"
	"strings"

	"golang.org/x/net/idna"

	"github.com/syndicate-bot/syndicate/syndicate/share"
)

// ShareLink is one "share on …" deep link in a status footer.
type ShareLink struct {
	Name string
	URL  string
}

// ShareURL returns the share link of target for an article, or false for
// a target Mastodon cannot offer: unknown, e-mail (Mastodon links only
// http(s) URLs, so a mailto: link would show as long dead text), or one
// the article cannot fill (Pinterest without an image).
func ShareURL(target, link, title, image string) (string, bool) {
	if !ValidShareTarget(target) {
		return "", false
	}
	return share.URL(target, share.Article{Link: link, Title: title, Image: image})
}

// ValidShareTarget reports whether target names a share link Mastodon can
// show, for validating configuration.
func ValidShareTarget(target string) bool {
	return share.Web(target)
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
		return "https://t.me/c/" + share.Escape(rest) + "/" + share.Escape(messageID)
	}
	return "https://t.me/" + share.Escape(channel) + "/" + share.Escape(messageID)
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
		s = s[:len(s)-1] + share.PercentEncode(string(c), func(byte) bool { return false })
	}
	return s, true
}

// reescape percent-encodes the bytes of an already escaped URL part that
// are not in safeURLByte.
func reescape(s string) string {
	return share.PercentEncode(s, safeURLByte)
}
