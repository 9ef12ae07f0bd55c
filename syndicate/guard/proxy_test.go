package guard

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate/proxy"
	"github.com/syndicate-bot/syndicate/syndicate/proxy/proxytest"
)

// fakeResolver answers from a table, as DNS would for the test's names.
type fakeResolver map[string][]string

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// names is what the test's DNS says: public names, a private one, and one
// whose answers mix both.
var names = fakeResolver{
	"news.example":     {"93.184.216.34"},
	"example.com":      {"93.184.216.34"},
	"internal.example": {"10.0.0.7"},
	"metadata.example": {"169.254.169.254"},
	"mixed.example":    {"93.184.216.34", "192.168.1.20"},
	"six.example":      {"2606:4700::1111", "fd00::5"},
}

func hostPort(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	return srv.Listener.Addr().String()
}

func proxyFunc(t *testing.T, s proxy.Settings) proxy.Func {
	t.Helper()
	f, err := s.Func()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A proxied download reaches its target through the proxy: absolute-form
// forwarding for http, a CONNECT tunnel for https, with the proxy's
// credentials.
func TestProxyCarriesPublicTargets(t *testing.T) {
	site := okServer(t, "plain")
	tlsSite := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tunnelled")
	}))
	t.Cleanup(tlsSite.Close)
	px := proxytest.New(proxytest.Options{User: "op", Password: "s3cret-pw", Hosts: map[string]string{
		"news.example:80":  hostPort(t, site),
		"example.com:443":  hostPort(t, tlsSite),
		"93.184.216.34:80": hostPort(t, site),
	}})
	t.Cleanup(px.Close)
	pURL := px.URLWithCredentials("op", "s3cret-pw")
	roots := x509.NewCertPool()
	roots.AddCert(tlsSite.Certificate())
	c := New(Options{Proxy: proxyFunc(t, proxy.Settings{HTTP: pURL, HTTPS: pURL}), Resolver: names, RootCAs: roots})

	for _, tt := range []struct{ url, body, method, target string }{
		{"http://news.example/feed", "plain", http.MethodGet, "http://news.example/feed"},
		{"https://example.com/", "tunnelled", http.MethodConnect, "example.com:443"},
		{"http://93.184.216.34/img.jpg", "plain", http.MethodGet, "http://93.184.216.34/img.jpg"},
	} {
		before := len(px.Requests())
		resp, err := c.Get(context.Background(), tt.url)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.url, err)
		}
		b, err := ReadAll(resp)
		if err != nil || string(b) != tt.body {
			t.Fatalf("GET %s: body %q, %v", tt.url, b, err)
		}
		got := px.Requests()[before:]
		if len(got) != 1 || got[0] != (proxytest.Request{Method: tt.method, Target: tt.target, Forwarded: true}) {
			t.Errorf("GET %s: proxy carried %+v, want one %s %s", tt.url, got, tt.method, tt.target)
		}
	}
}

// A target that is, or resolves to, an address the guard refuses never
// reaches the proxy, whether named directly or by a redirect.
func TestProxyNeverAskedForBlockedTargets(t *testing.T) {
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+strings.TrimPrefix(r.URL.Path, "/to/")+"/latest/meta-data/", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	loopback := okServer(t, "private")
	for _, tt := range []struct {
		name, url string
		// asked is how many requests the proxy may see: only the
		// redirect's first hop.
		asked int
	}{
		{"loopback literal", loopback.URL + "/img.jpg", 0},
		{"localhost", "http://localhost:" + loopback.URL[strings.LastIndexByte(loopback.URL, ':')+1:] + "/", 0},
		{"metadata literal", "http://169.254.169.254/latest/meta-data/", 0},
		{"mapped private literal", "http://[::ffff:10.0.0.1]/x.jpg", 0},
		{"name resolving to private", "http://internal.example/x.jpg", 0},
		{"name resolving to metadata, https", "https://metadata.example/x.jpg", 0},
		{"one private answer among public ones", "http://mixed.example/x.jpg", 0},
		{"private IPv6 answer", "https://six.example/x.jpg", 0},
		{"redirect to metadata literal", "http://news.example/to/169.254.169.254", 1},
		{"redirect to private name", "http://news.example/to/internal.example", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			px := proxytest.New(proxytest.Options{Hosts: map[string]string{"news.example:80": hostPort(t, redirector)}})
			defer px.Close()
			c := New(Options{Proxy: proxyFunc(t, proxy.Settings{HTTP: px.URL(), HTTPS: px.URL()}), Resolver: names})
			resp, err := c.Get(context.Background(), tt.url)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s succeeded", tt.url)
			}
			if !errors.Is(err, ErrBlockedAddress) {
				t.Fatalf("GET %s: error %v, want ErrBlockedAddress", tt.url, err)
			}
			if got := px.Requests(); len(got) != tt.asked {
				t.Fatalf("proxy was asked %+v, want %d requests", got, tt.asked)
			}
		})
	}
}

// Hosts in NO_PROXY are dialled directly, under the dial-time check: the
// proxy never sees them.
func TestNoProxyDialsDirectly(t *testing.T) {
	site := okServer(t, "direct")
	px := proxytest.New(proxytest.Options{})
	t.Cleanup(px.Close)
	// With private addresses allowed, the direct connection reaches the
	// loopback listener under a name only NO_PROXY keeps from the proxy.
	o := Options{AllowPrivate: true, Proxy: proxyFunc(t, proxy.Settings{HTTP: px.URL(), NoProxy: "feeds.example"})}
	tr := newRoundTripper(o).(*http.Transport)
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != "feeds.example:80" {
			return nil, fmt.Errorf("dialled %s, want the target itself", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, hostPort(t, site))
	}
	o.Transport = tr
	resp, err := New(o).Get(context.Background(), "http://feeds.example/")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := ReadAll(resp); err != nil || string(b) != "direct" {
		t.Fatalf("body %q, %v", b, err)
	}
	// Without private addresses, a NO_PROXY target is checked at dial
	// time like any direct one.
	c := New(Options{Proxy: proxyFunc(t, proxy.Settings{HTTP: px.URL(), NoProxy: "127.0.0.0/8"}), Resolver: names})
	if _, err := c.Get(context.Background(), site.URL); !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("direct loopback: error %v, want ErrBlockedAddress", err)
	}
	if got := px.Requests(); len(got) != 0 {
		t.Fatalf("proxy was asked %+v", got)
	}
}

// Neither a refused proxy login nor an unreachable proxy puts the proxy's
// credentials into the error.
func TestProxyCredentialsStayOutOfErrors(t *testing.T) {
	site := okServer(t, "x")
	px := proxytest.New(proxytest.Options{User: "op", Password: "right-pw", Hosts: map[string]string{"news.example:80": hostPort(t, site)}})
	t.Cleanup(px.Close)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := "http://op:hunter2-pw@" + hostPort(t, dead)
	dead.Close()
	for _, tt := range []struct{ name, proxyURL, target string }{
		{"wrong password, http", px.URLWithCredentials("op", "hunter2-pw"), "http://news.example/"},
		{"wrong password, https", px.URLWithCredentials("op", "hunter2-pw"), "https://news.example/"},
		{"proxy down", deadURL, "http://news.example/"},
		{"proxy down, https", deadURL, "https://news.example/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{Proxy: proxyFunc(t, proxy.Settings{HTTP: tt.proxyURL, HTTPS: tt.proxyURL}), Resolver: names})
			resp, err := c.Get(context.Background(), tt.target)
			if err == nil {
				if resp.StatusCode == http.StatusProxyAuthRequired {
					resp.Body.Close()
					return
				}
				resp.Body.Close()
				t.Fatalf("status %d through a refusing proxy", resp.StatusCode)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %q shows the proxy password", err)
			}
		})
	}
}
