package main

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate/proxy"
)

// proxies are the outbound proxies of each group of clients.
type proxies struct {
	feeds, media proxy.Func
	// platforms is the client of the platform APIs, which are not guarded:
	// the operator chose their URLs.
	platforms *http.Client
}

// buildProxies reads the environment's proxy variables once, applies each
// group's configured override and logs what each group uses, credentials
// left out.
func buildProxies(n config.Network, o buildOptions) (proxies, error) {
	env := proxy.FromEnv(o.env.lookup)
	choose := func(group string, c config.Proxy) (proxy.Func, error) {
		s := env.Override(c.Proxy.Value(), c.NoProxy)
		f, err := s.Func()
		if err != nil {
			return nil, fmt.Errorf("network.%s: %w", group, err)
		}
		if f != nil {
			o.logger.Info("outbound proxy", "clients", group,
				"http_proxy", proxy.Redact(s.HTTP), "https_proxy", proxy.Redact(s.HTTPS), "no_proxy", s.NoProxy)
		}
		return f, nil
	}
	var p proxies
	var err error
	if p.feeds, err = choose("feeds", n.Feeds.ProxySettings()); err != nil {
		return proxies{}, err
	}
	if p.media, err = choose("media", n.Media.ProxySettings()); err != nil {
		return proxies{}, err
	}
	api, err := choose("platforms", n.Platforms)
	if err != nil {
		return proxies{}, err
	}
	p.platforms = platformClient(api)
	return p, nil
}

// platformClient is one connection pool for every platform API call, with
// Go's default transport settings but the proxy chosen here instead of the
// one net/http would read from the process environment.
func platformClient(choose proxy.Func) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if choose != nil {
		tr.Proxy = func(r *http.Request) (*url.URL, error) { return choose(r.URL) }
	}
	return &http.Client{Transport: tr}
}
