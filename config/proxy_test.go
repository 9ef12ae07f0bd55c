package config

import (
	"io/fs"
	"strings"
	"testing"
)

// Proxy settings are read per group of clients, from literals, ${ENV}
// references and _file siblings, and "direct" is kept as written.
func TestProxySettings(t *testing.T) {
	doc := minimal + `network:
  feeds:
    proxy: ${FEEDS_PROXY}
    no_proxy: example.org,.internal
  media:
    proxy_file: /run/secrets/proxy
  platforms:
    proxy: direct
`
	cfg, err := Parse("c.yaml", []byte(doc), LoadOptions{
		Getenv: mapEnv(map[string]string{"FEEDS_PROXY": "http://op:hunter2@proxy.internal:3128"}),
		ReadFile: func(name string) ([]byte, error) {
			if name == "/run/secrets/proxy" {
				return []byte("socks5://op:pw@10.0.0.1:1080\n"), nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Network
	if got := n.Feeds.ProxySettings(); got.Proxy.Value() != "http://op:hunter2@proxy.internal:3128" || got.NoProxy == nil || *got.NoProxy != "example.org,.internal" {
		t.Errorf("feeds proxy %q, no_proxy %v", got.Proxy.Value(), got.NoProxy)
	}
	if got := n.Media.ProxySettings(); got.Proxy.Value() != "socks5://op:pw@10.0.0.1:1080" || got.NoProxy != nil {
		t.Errorf("media proxy %q, no_proxy %v", got.Proxy.Value(), got.NoProxy)
	}
	if got := n.Platforms; got.Proxy.Value() != "direct" || got.NoProxy != nil {
		t.Errorf("platforms proxy %q, no_proxy %v", got.Proxy.Value(), got.NoProxy)
	}
	// Unset, nothing overrides the environment.
	cfg, err = Parse("c.yaml", []byte(minimal), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Network.Media.ProxySettings(); !p.Proxy.IsZero() || p.NoProxy != nil {
		t.Errorf("default media proxy %q, no_proxy %v", p.Proxy.Value(), p.NoProxy)
	}
}

// A proxy URL that cannot be used is reported at its line, without its
// value, which may hold a password.
func TestProxyProblems(t *testing.T) {
	doc := minimal + `network:
  feeds:
    proxy: ftp://op:hunter2@proxy:21
  media:
    proxy: http://op:hunter2@proxy:3128/path
  platforms:
    proxy: "http://op:hunter2@:3128"
`
	got := problems(t, doc)
	want := []string{
		`16:12: network.feeds.proxy: must be "direct" or a proxy URL like http://host:3128 or socks5://host:1080 (invalid proxy: scheme must be http, https, socks5 or socks5h)`,
		`18:12: network.media.proxy: must be "direct" or a proxy URL like http://host:3128 or socks5://host:1080 (invalid proxy: a proxy URL has no path, query or fragment)`,
		`20:12: network.platforms.proxy: must be "direct" or a proxy URL like http://host:3128 or socks5://host:1080 (invalid proxy: no host)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(strings.Join(got, "\n"), "hunter2") {
		t.Error("a problem shows the proxy password")
	}
}
