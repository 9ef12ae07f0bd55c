// Package guard is the one HTTP client for every download whose URL comes
// from outside (feeds, article pages, media): it bounds time, body size and
// redirects, and refuses private and loopback addresses when the socket is
// dialled, so that neither DNS answers nor redirects can point a download at
// internal services.
package guard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
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
	// Transport replaces the guarded transport, for tests; the address
	// check is then up to that transport.
	Transport http.RoundTripper
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
		tr = newTransport(o.AllowPrivate, max(o.IdleConnsPerHost, 4))
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

// newTransport builds a transport whose dialer checks every address it
// connects to. Environment proxies are not used: through a proxy the
// address check would see the proxy, not the target.
func newTransport(allowPrivate bool, idlePerHost int) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = controlDial
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(50, 2*idlePerHost),
		MaxIdleConnsPerHost:   idlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
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
