// Package share builds the "share this article" links (share intents of
// messengers and social networks) that posts offer their readers, so that
// Telegram buttons, Mastodon footers and the configuration agree on the
// targets, their names and their URLs. Which targets a platform can offer
// stays with the platform (Telegram buttons open only http(s) and tg links,
// Mastodon links only http(s) URLs); Web tells them which links are pages.
package share

import "strings"

// The share targets, as the configuration names them.
const (
	Telegram  = "telegram"
	WhatsApp  = "whatsapp"
	X         = "x"
	Facebook  = "facebook"
	Pinterest = "pinterest"
	LinkedIn  = "linkedin"
	Email     = "email"
)

// Targets lists every share target in the order of the site's share bar.
func Targets() []string {
	return []string{Telegram, WhatsApp, X, Facebook, Pinterest, LinkedIn, Email}
}

// Known reports whether target names a share target.
func Known(target string) bool {
	return Name(target) != ""
}

// Name is how a post labels a target, or "" for an unknown one.
func Name(target string) string {
	switch target {
	case Telegram:
		return "Telegram"
	case WhatsApp:
		return "WhatsApp"
	case X:
		return "X"
	case Facebook:
		return "Facebook"
	case Pinterest:
		return "Pinterest"
	case LinkedIn:
		return "LinkedIn"
	case Email:
		return "E-mail"
	}
	return ""
}

// Web reports whether a known target's share link is an https page, which
// Telegram buttons and Mastodon links need (the e-mail link is mailto:).
func Web(target string) bool {
	return Known(target) && target != Email
}

// Article is what a share link carries: the article link (with any
// campaign parameters), its title and its image.
type Article struct {
	Link  string
	Title string
	Image string
}

// URL returns the share link of target for an article, its values escaped
// by Escape, or false for an unknown target, an article without a link, or
// Pinterest without an image (a pin is an image).
func URL(target string, a Article) (string, bool) {
	if a.Link == "" {
		return "", false
	}
	// Each template is the service's share intent: core.telegram.org/widgets/share,
	// wa.me click-to-chat, X's web intent, Facebook's sharer, Pinterest's pin
	// button, LinkedIn's share-offsite and RFC 6068 mailto.
	withTitle := a.Link
	if a.Title != "" {
		withTitle = a.Title + " " + a.Link
	}
	switch target {
	case Telegram:
		return "https://t.me/share/url?" + query("url", a.Link, "text", a.Title), true
	case WhatsApp:
		return "https://wa.me/?" + query("text", withTitle), true
	case X:
		return "https://twitter.com/intent/tweet?" + query("text", a.Title, "url", a.Link), true
	case Facebook:
		return "https://www.facebook.com/sharer/sharer.php?" + query("u", a.Link), true
	case Pinterest:
		if a.Image == "" {
			return "", false
		}
		return "https://www.pinterest.com/pin/create/button/?" + query("url", a.Link, "media", a.Image, "description", a.Title), true
	case LinkedIn:
		return "https://www.linkedin.com/sharing/share-offsite/?" + query("url", a.Link), true
	case Email:
		return "mailto:?" + query("subject", a.Title, "body", a.Link), true // RFC 6068
	}
	return "", false
}

// EmailPageURL returns the e-mail share link as an http(s) page that opens
// the reader's mail program with the subject and body given in its query,
// for platforms that cannot open mailto: links.
func EmailPageURL(page string, a Article) string {
	sep := "?"
	if strings.Contains(page, "?") {
		sep = "&"
	}
	return page + sep + query("subject", a.Title, "body", a.Link)
}

// query joins key/value pairs in the order given, which share pages expect,
// leaving out empty values.
func query(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[i] + "=" + Escape(kv[i+1]))
	}
	return b.String()
}

// Escape percent-encodes every byte but ASCII letters, digits, '-' and '_',
// stricter than a query needs, so that Telegram takes the share link as a
// button URL and Mastodon's URL pattern, which ends a link early at '.',
// ',', '!' or '~' near its end, links it whole.
func Escape(s string) string {
	return PercentEncode(s, func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
	})
}

// PercentEncode percent-encodes every byte of s that keep refuses, so that
// each platform can state which bytes its link parser takes as they are.
func PercentEncode(s string, keep func(c byte) bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
