// Package proxy chooses the outbound proxy of a request, from the
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY environment variables or from the
// configuration, so that operators behind a proxy can reach feeds, media
// and the platforms' APIs. The environment is read once, through the
// lookup function the program was started with.
package proxy

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpproxy"
)

// Direct is the configuration value that turns every proxy off for a group
// of clients, whatever the environment says.
const Direct = "direct"

// ErrInvalid marks a proxy setting that is not a usable proxy URL; its
// messages never repeat the value, which may carry credentials.
var ErrInvalid = errors.New("invalid proxy")

// Settings say which proxy carries which requests; the zero value sends
// every request directly.
type Settings struct {
	// HTTP is the proxy URL for http:// targets ("" for none).
	HTTP string
	// HTTPS is the proxy URL for https:// targets ("" for none).
	HTTPS string
	// NoProxy lists the hosts, domains and address ranges reached
	// directly, in NO_PROXY syntax ("example.org,.internal,10.0.0.0/8").
	NoProxy string
	// source names where the settings came from, for error messages.
	source string
}

// FromEnv reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY (or their lower-case
// forms, which win when both are set, as Go's own net/http does) through
// lookup.
func FromEnv(lookup func(string) (string, bool)) Settings {
	if lookup == nil {
		return Settings{}
	}
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := lookup(n); ok && v != "" {
				return v
			}
		}
		return ""
	}
	return Settings{
		HTTP:    get("http_proxy", "HTTP_PROXY"),
		HTTPS:   get("https_proxy", "HTTPS_PROXY"),
		NoProxy: get("no_proxy", "NO_PROXY"),
		source:  "environment",
	}
}

// Override applies a configured proxy on top of s: a URL replaces both
// proxies, Direct turns them off, "" keeps s; a non-nil noProxy replaces
// the NO_PROXY list.
func (s Settings) Override(proxyURL string, noProxy *string) Settings {
	switch proxyURL {
	case "":
	case Direct:
		s.HTTP, s.HTTPS, s.source = "", "", "configuration"
	default:
		s.HTTP, s.HTTPS, s.source = proxyURL, proxyURL, "configuration"
	}
	if noProxy != nil {
		s.NoProxy = *noProxy
	}
	return s
}

// Enabled reports whether some request may go through a proxy.
func (s Settings) Enabled() bool { return s.HTTP != "" || s.HTTPS != "" }

// Func chooses the proxy of one request: nil means a direct connection.
type Func func(target *url.URL) (*url.URL, error)

// Func validates s and returns the chooser it describes, nil when no proxy
// is set. Requests to localhost and loopback addresses are never proxied.
func (s Settings) Func() (Func, error) {
	if !s.Enabled() {
		return nil, nil
	}
	for _, p := range []struct{ name, value string }{{"http", s.HTTP}, {"https", s.HTTPS}} {
		if p.value == "" {
			continue
		}
		if _, err := Parse(p.value); err != nil {
			src := s.source
			if src == "" {
				src = "settings"
			}
			return nil, fmt.Errorf("%s proxy from the %s: %w", p.name, src, err)
		}
	}
	choose := (&httpproxy.Config{HTTPProxy: s.HTTP, HTTPSProxy: s.HTTPS, NoProxy: s.NoProxy}).ProxyFunc()
	return Func(choose), nil
}

// Parse reads a proxy URL: scheme http, https, socks5 or socks5h, a host,
// and nothing after it but an optional "/". As in the environment
// variables of other programs, a bare "host:port" means http.
func Parse(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		// "proxy.internal:3128" parses as scheme "proxy.internal".
		if u2, err2 := url.Parse("http://" + raw); err2 == nil && u2.Host != "" && !strings.Contains(raw, "://") {
			u, err = u2, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL", ErrInvalid)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("%w: scheme must be http, https, socks5 or socks5h", ErrInvalid)
	}
	switch {
	case u.Hostname() == "":
		return nil, fmt.Errorf("%w: no host", ErrInvalid)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return nil, fmt.Errorf("%w: a proxy URL has no path, query or fragment", ErrInvalid)
	}
	return u, nil
}

// Redact returns a proxy URL without its credentials, for logs.
func Redact(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := Parse(raw)
	if err != nil {
		return "(invalid proxy URL)"
	}
	u.User = nil
	return u.String()
}
