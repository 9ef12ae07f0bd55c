package feed

import (
	"net/url"
	"path"
	"strings"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// maxURLLen bounds URLs taken from feeds; longer ones are junk or hostile.
const maxURLLen = 4096

// resolve makes ref absolute against base and accepts only http and https
// URLs, so that javascript:, data: and file: links never leave the feed.
func resolve(base *url.URL, ref string) (*url.URL, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > maxURLLen {
		return nil, false
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme == "" && u.Host != "" {
		u.Scheme = "https"
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	u.Host = strings.ToLower(u.Host)
	return u, true
}

// trackingParams are query parameters that only identify a campaign or a
// click, never the page.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "mc_cid": true, "mc_eid": true, "_hsenc": true, "_hsmi": true,
	"__hstc": true, "__hssc": true, "__hsfp": true, "hsctatracking": true,
	"igshid": true, "yclid": true, "ref_src": true, "ref_url": true, "_ga": true,
	"_gl": true, "mkt_tok": true, "oly_anon_id": true, "oly_enc_id": true,
	"rb_clickid": true, "s_cid": true, "vero_conv": true, "vero_id": true,
	"wickedid": true, "twclid": true, "ttclid": true, "srsltid": true,
	"xtor": true, "spm": true, "ncid": true, "cmpid": true, "at_medium": true,
	"at_campaign": true, "ns_mchannel": true, "ns_campaign": true, "ns_source": true,
	"ns_linkname": true, "ns_fee": true,
}

func isTrackingParam(name string) bool {
	name = strings.ToLower(name)
	return strings.HasPrefix(name, "utm_") || trackingParams[name]
}

// canonicalLink returns the article URL as the site means it: host
// lowercased, default port, tracking parameters and (unless keepFragment)
// the fragment removed; other parameters keep their order and encoding.
func canonicalLink(u *url.URL, keepFragment bool) string {
	c := *u
	c.User = nil
	c.Host = strings.ToLower(c.Host)
	if p := c.Port(); (p == "80" && c.Scheme == "http") || (p == "443" && c.Scheme == "https") {
		c.Host = c.Hostname()
		if strings.Contains(c.Host, ":") {
			c.Host = "[" + c.Host + "]"
		}
	}
	if c.Path == "" && c.RawPath == "" {
		c.Path = "/"
	}
	if c.RawQuery != "" {
		kept := make([]string, 0, 4)
		for _, part := range strings.Split(c.RawQuery, "&") {
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if !isTrackingParam(name) {
				kept = append(kept, part)
			}
		}
		c.RawQuery = strings.Join(kept, "&")
	}
	c.ForceQuery = false
	if !keepFragment || trackingFragment(c.Fragment) {
		c.Fragment = ""
		c.RawFragment = ""
	}
	return c.String()
}

// trackingFragment reports fragments that carry parameters (#xtor=RSS-1,
// #utm_source=…) rather than naming a place in the page.
func trackingFragment(f string) bool {
	return strings.Contains(f, "=")
}

// video recognises the watch page of an embedded or linked video.
func video(u *url.URL) (syndicate.Video, bool) {
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	host = strings.TrimPrefix(host, "m.")
	p := strings.Trim(u.EscapedPath(), "/")
	switch host {
	case "youtube.com", "youtube-nocookie.com":
		var id string
		switch {
		case p == "embed" || p == "embed/videoseries" || p == "playlist":
			return youtubePlaylist(u.Query().Get("list"))
		case strings.HasPrefix(p, "embed/"):
			id = strings.TrimPrefix(p, "embed/")
		case strings.HasPrefix(p, "v/"):
			id = strings.TrimPrefix(p, "v/")
		case strings.HasPrefix(p, "shorts/"):
			id = strings.TrimPrefix(p, "shorts/")
		case p == "watch":
			id = u.Query().Get("v")
		}
		return youtube(id)
	case "youtu.be":
		return youtube(p)
	case "player.vimeo.com", "vimeo.com":
		id := path.Base(p)
		if host == "player.vimeo.com" && !strings.HasPrefix(p, "video/") {
			return syndicate.Video{}, false
		}
		if id == "" || strings.Trim(id, "0123456789") != "" {
			return syndicate.Video{}, false
		}
		return syndicate.Video{URL: "https://vimeo.com/" + id, Provider: "vimeo", ID: id}, true
	}
	return syndicate.Video{}, false
}

func youtube(id string) (syndicate.Video, bool) {
	if len(id) != 11 {
		return syndicate.Video{}, false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return syndicate.Video{}, false
		}
	}
	return syndicate.Video{URL: "https://www.youtube.com/watch?v=" + id, Provider: "youtube", ID: id}, true
}

func youtubePlaylist(list string) (syndicate.Video, bool) {
	if list == "" || len(list) > 64 {
		return syndicate.Video{}, false
	}
	for _, c := range list {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return syndicate.Video{}, false
		}
	}
	return syndicate.Video{URL: "https://www.youtube.com/playlist?list=" + list, Provider: "youtube"}, true
}

// isPDF reports whether u names a PDF document by its path.
func isPDF(u *url.URL) bool {
	return strings.EqualFold(path.Ext(u.Path), ".pdf")
}

var imageExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".avif": true,
}

func hasImageExt(u *url.URL) bool {
	return imageExts[strings.ToLower(path.Ext(u.Path))]
}

// trackerHosts serve counting pixels, share buttons and avatars, never an
// article's picture.
var trackerHosts = []string{
	"feeds.feedburner.com", "feedproxy.google.com", "feeds.feedblitz.com",
	"assets.feedblitz.com", "stats.wordpress.com", "pixel.wp.com",
	"doubleclick.net", "google-analytics.com", "googletagmanager.com",
	"feedsportal.com", "scorecardresearch.com", "quantserve.com",
	"gravatar.com", "facebook.com", "linkedin.com", "addtoany.com",
	"sharethis.com", "addthis.com", "feedburner.google.com", "rss.buysellads.com",
	"srv.buysellads.com", "pi.feedsportal.com", "piwik.pro", "counter.yadro.ru",
	"flattr.com",
}

// trackerPaths are path fragments of pixels, emoji and avatars.
var trackerPaths = []string{
	"/images/core/emoji/", "/wp-includes/images/smilies/", "/wp-includes/images/",
	"/avatar/", "/avatars/", "/~r/", "/~ff/", "/pixel.gif", "/pixel.png",
	"/spacer.gif", "/blank.gif", "/transparent.gif", "/1x1.gif", "/1x1.png",
	"/tracking/", "/beacon/", "favicon", "apple-touch-icon", "/plugins/flattr/",
}

// decorative reports images that are not content: counting pixels,
// emoji, avatars, icons and share buttons.
func decorative(u *url.URL, width, height int, class string) bool {
	if (width > 0 && width < 64) || (height > 0 && height < 64) {
		return true
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range trackerHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	for _, p := range []string{"pixel.", "stats.", "stat.", "tracking.", "track."} {
		if strings.HasPrefix(host, p) {
			return true
		}
	}
	lp := strings.ToLower(u.Path)
	for _, p := range trackerPaths {
		if strings.Contains(lp, p) {
			return true
		}
	}
	if host == "s.w.org" {
		return true
	}
	// Neither platform shows SVG as a photo; in articles they are logos,
	// icons and rendered formulas.
	if strings.HasSuffix(lp, ".svg") {
		return true
	}
	for _, c := range strings.Fields(strings.ToLower(class)) {
		switch c {
		case "avatar", "emoji", "wp-smiley", "gravatar", "icon":
			return true
		}
	}
	return false
}
