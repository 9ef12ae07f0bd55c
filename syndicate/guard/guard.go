// Package guard is the one HTTP client for every download whose URL comes
// from outside (feeds, article pages, media): it bounds time, body size and
// redirects, and refuses private and loopback addresses when the socket is
// dialled, so that neither DNS answers nor redirects can point a download at
// internal services.
//
// Through an outbound proxy the socket goes to the proxy, which dials the
// target itself; so before a request is handed to a proxy, on every
// redirect hop, the guard resolves the target's host and refuses it when
// any address it resolves to is not allowed. The proxy resolves the name
// again: a name whose answers change between the two lookups (DNS
// rebinding) can still reach what the proxy can reach, which the proxy's
// own rules must refuse.
package guard

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate/proxy"
)

// Defaults used when an Options field is zero.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBytes     = 10 << 20
	DefaultMaxRedirects = 5
)

// Errors a download can fail with; they are wrapped, test with errors.Is.
var (
	// ErrBlockedAddress: the host resolved to an address that is not
	// allowed (loopback, private, link-local, …).
	ErrBlockedAddress = errors.New("address not allowed")
	// ErrScheme: the URL (or a redirect target) is not http or https.
	ErrScheme = errors.New("only http and https URLs are allowed")
	// ErrTooManyRedirects: the redirect chain was longer than allowed.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrTooLarge: the response body is larger than allowed.
	ErrTooLarge = errors.New("response body too large")
)

// Options bound the downloads of one Client.
type Options struct {
	// Timeout bounds a whole request, reading the body included (default 30s).
	Timeout time.Duration
	// MaxBytes caps a response body (default 10 MiB).
	MaxBytes int64
	// MaxRedirects is how many redirects are followed: 0 means the default
	// (5), a negative number means none.
	MaxRedirects int
	// AllowPrivate allows loopback, private, link-local and other
	// non-public addresses (for feeds the operator chose themselves).
	AllowPrivate bool
	// UserAgent is sent with every request that does not set its own.
	UserAgent string
	// IdleConnsPerHost is how many connections to one host are kept open
	// between requests (default 4); set it to the requests made to one
	// host at once, so that polls reuse connections instead of opening
	// new ones.
	IdleConnsPerHost int
	// Proxy chooses the outbound proxy of each request (default none:
	// every connection is dialled directly).
	Proxy proxy.Func
	// Resolver looks up a proxied target's addresses for the address
	// check (default net.DefaultResolver).
	Resolver Resolver
	// RootCAs replaces the system's trusted certificates (tests, or a
	// proxy that inspects TLS with its own authority).
	RootCAs *x509.CertPool
	// Transport replaces the guarded transport, for tests; the address
	// check is then up to that transport.
	Transport http.RoundTripper
}

// Resolver looks up the addresses of a host; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Client performs guarded downloads; it is safe for concurrent use.
type Client struct {
	hc        *http.Client
	maxBytes  int64
	userAgent string
}

// New returns a Client with the limits of o.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	maxRedirects := o.MaxRedirects
	switch {
	case maxRedirects == 0:
		maxRedirects = DefaultMaxRedirects
	case maxRedirects < 0:
		maxRedirects = 0
	}
	tr := o.Transport
	if tr == nil {
		tr = newRoundTripper(o)
	}
	return &Client{
		hc: &http.Client{
			Transport: tr,
			Timeout:   o.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > maxRedirects {
					return fmt.Errorf("%w (more than %d)", ErrTooManyRedirects, maxRedirects)
				}
				return checkScheme(req.URL)
			},
		},
		maxBytes:  o.MaxBytes,
		userAgent: o.UserAgent,
	}
}

// newRoundTripper builds the transport of o: direct connections are
// checked when dialled, proxied ones before they are handed to the proxy.
func newRoundTripper(o Options) http.RoundTripper {
	idle := max(o.IdleConnsPerHost, 4)
	if o.Proxy == nil {
		return newTransport(!o.AllowPrivate, idle, o.RootCAs)
	}
	if o.AllowPrivate {
		tr := newTransport(false, idle, o.RootCAs)
		tr.Proxy = func(r *http.Request) (*url.URL, error) { return o.Proxy(r.URL) }
		return tr
	}
	res := o.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	// Two pools: the proxied one never dials anything but a proxy, which
	// the operator chose and may well be on a private address; the direct
	// one checks every address it dials.
	proxied := newTransport(false, idle, o.RootCAs)
	proxied.Proxy = func(r *http.Request) (*url.URL, error) {
		u, err := o.Proxy(r.URL)
		if err == nil && u == nil {
			err = errors.New("no proxy for a request routed to one")
		}
		return u, err
	}
	return &viaProxy{choose: o.Proxy, resolver: res, direct: newTransport(true, idle, o.RootCAs), proxied: proxied}
}

// newTransport builds a transport that uses no proxy; with check, its
// dialer checks every address it connects to. Proxies come only from
// Options.Proxy, never from the process environment at request time.
func newTransport(check bool, idlePerHost int, roots *x509.CertPool) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if check {
		d.Control = controlDial
	}
	var tlsConf *tls.Config
	if roots != nil {
		tlsConf = &tls.Config{RootCAs: roots}
	}
	return &http.Transport{
		Proxy:                 nil,
		TLSClientConfig:       tlsConf,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(50, 2*idlePerHost),
		MaxIdleConnsPerHost:   idlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// viaProxy sends each request directly or through its proxy, checking a
// proxied target's addresses first, since the guard never sees the socket
// the proxy opens.
type viaProxy struct {
	choose   proxy.Func
	resolver Resolver
	direct   *http.Transport
	proxied  *http.Transport
}

func (t *viaProxy) RoundTrip(req *http.Request) (*http.Response, error) {
	p, err := t.choose(req.URL)
	if err != nil {
		closeBody(req)
		return nil, fmt.Errorf("choose proxy: %w", err)
	}
	if p == nil {
		return t.direct.RoundTrip(req)
	}
	if err := checkHost(req.Context(), t.resolver, req.URL.Hostname()); err != nil {
		closeBody(req)
		return nil, err
	}
	return t.proxied.RoundTrip(req)
}

// checkHost refuses a host that is, or resolves to, an address that is
// not allowed; one such address is enough, as the proxy may pick any.
func checkHost(ctx context.Context, r Resolver, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		if Blocked(ip) {
			return fmt.Errorf("%w: %s", ErrBlockedAddress, ip)
		}
		return nil
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("resolve %s for the address check: %w", host, err)
	}
	if len(ips) == 0 {
		return fmt.Errorf("resolve %s for the address check: no addresses", host)
	}
	for _, ip := range ips {
		if Blocked(ip) {
			return fmt.Errorf("%w: %s resolves to %s", ErrBlockedAddress, host, ip)
		}
	}
	return nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// MaxBytes returns the body cap of the client.
func (c *Client) MaxBytes() int64 { return c.maxBytes }

// Do sends req. The returned body fails with ErrTooLarge once it exceeds
// the cap, and a declared Content-Length above the cap fails at once.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if err := checkScheme(req.URL); err != nil {
		return nil, err
	}
	if c.userAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, redactURLError(err)
	}
	if resp.ContentLength > c.maxBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: content length %d exceeds %d bytes", ErrTooLarge, resp.ContentLength, c.maxBytes)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: c.maxBytes, limit: c.maxBytes}
	return resp, nil
}

// Get fetches rawURL.
func (c *Client) Get(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	return c.Do(req)
}

// ReadAll reads and closes the body of a response from Do; the cap of the
// client applies.
func ReadAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	// A declared length sizes the buffer at once (io.ReadAll doubles its
	// way up, about twice the garbage for a 44 KB feed), but never beyond
	// the client's cap: the header is the sender's word, not a promise.
	size := int64(512)
	if lb, ok := resp.Body.(*limitedBody); ok && resp.ContentLength > 0 {
		// ReadFrom wants MinRead bytes free before every read.
		size = min(resp.ContentLength, lb.limit) + bytes.MinRead
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, redactURLError(err)
	}
	return buf.Bytes(), nil
}

func checkScheme(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return nil
	}
	return fmt.Errorf("%w: %q", ErrScheme, u.Scheme)
}

// limitedBody fails instead of truncating, so that a cut-off document is
// never mistaken for a complete one.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		n = int(b.left)
		b.left = -1
		return n, b.tooLarge()
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) tooLarge() error {
	return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, b.limit)
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// redactURLError keeps credentials and query strings (which may carry
// tokens) out of error texts.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		cp := *ue
		cp.URL = Redact(ue.URL)
		return &cp
	}
	return err
}

// Redact returns rawURL without user info, query and fragment, for logs
// and errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return u.String()
}

// CloseIdleConnections closes the idle connections of both pools.
func (t *viaProxy) CloseIdleConnections() {
	t.direct.CloseIdleConnections()
	t.proxied.CloseIdleConnections()
}
