// Package imagecheck tells whether an image URL loads as an image before a
// post hands it to a platform, so that a deleted upload, a web page or a
// broken src never becomes a refused photo. A check is a HEAD request, or a
// small ranged GET where HEAD is refused or says too little, made through
// the guarded media client; answers are cached per URL for a while.
package imagecheck

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // feeds carry GIF, JPEG, PNG and WebP images
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "golang.org/x/image/webp"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
	"github.com/syndicate-bot/syndicate/syndicate/imagehead"
)

// Defaults used when an Options field is zero.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultCacheSize = 4096
	DefaultPassTTL   = time.Hour
	DefaultFailTTL   = 10 * time.Minute
	// SniffBytes is how much of an image a ranged GET reads: enough for
	// the type signatures and the header of common formats.
	SniffBytes = 16 << 10
)

// Reasons a check fails besides the client's own errors (guard.ErrBlockedAddress,
// network errors); they are wrapped, test with errors.Is.
var (
	// ErrNotImage: the URL serves something other than an image.
	ErrNotImage = errors.New("not an image")
	// ErrTooLarge: the image is larger than the checker's limit.
	ErrTooLarge = errors.New("image too large")
)

// StatusError is an answer that is not a success, such as 404 for a
// deleted upload.
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string { return "http " + strconv.Itoa(e.Code) }

// Options configure a Checker.
type Options struct {
	// Client makes the requests (required): the media client, which refuses
	// private addresses and caps time and size.
	Client *guard.Client
	// MaxBytes is the largest image that passes (default: the client's cap,
	// as a larger one could not be downloaded for upload anyway).
	MaxBytes int64
	// Timeout bounds one check, both requests included (default 10s).
	Timeout time.Duration
	// CacheSize bounds the URLs remembered (default 4096).
	CacheSize int
	// PassTTL and FailTTL are how long a pass and a failure are remembered
	// (default 1h and 10m: an upload may appear a little after its article).
	PassTTL time.Duration
	FailTTL time.Duration
	// Clock is the engine's clock, so cache expiry follows a test's clock
	// (default the system clock).
	Clock syndicate.Clock
}

// Checker checks image URLs; it implements syndicate.ImageChecker and is
// safe for concurrent use.
type Checker struct {
	client   *guard.Client
	maxBytes int64
	timeout  time.Duration
	passTTL  time.Duration
	failTTL  time.Duration
	clock    syndicate.Clock

	mu      sync.Mutex
	cache   *cache
	flights map[string]*flight
}

var _ syndicate.ImageChecker = (*Checker)(nil)

// New returns a Checker.
func New(o Options) (*Checker, error) {
	if o.Client == nil {
		return nil, errors.New("imagecheck: a client is required")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = o.Client.MaxBytes()
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.PassTTL <= 0 {
		o.PassTTL = DefaultPassTTL
	}
	if o.FailTTL <= 0 {
		o.FailTTL = DefaultFailTTL
	}
	if o.Clock == nil {
		o.Clock = syndicate.SystemClock
	}
	return &Checker{
		client: o.Client, maxBytes: o.MaxBytes, timeout: o.Timeout,
		passTTL: o.PassTTL, failTTL: o.FailTTL, clock: o.Clock,
		cache: newCache(o.CacheSize), flights: map[string]*flight{},
	}, nil
}

// flight is a check in progress that callers of the same URL wait for.
type flight struct {
	done chan struct{}
	res  result
}

type result struct {
	info syndicate.ImageInfo
	err  error
}

// CheckImage returns what rawURL serves when it is an image no larger than
// the limit; otherwise the error says why not (ErrNotImage, ErrTooLarge, a
// *StatusError, or the client's error). A check cut short by ctx is not
// remembered.
func (c *Checker) CheckImage(ctx context.Context, rawURL string) (syndicate.ImageInfo, error) {
	c.mu.Lock()
	if r, ok := c.cache.get(rawURL, c.clock.Now()); ok {
		c.mu.Unlock()
		return r.info, r.err
	}
	if f, ok := c.flights[rawURL]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.res.info, f.res.err
		case <-ctx.Done():
			return syndicate.ImageInfo{}, fmt.Errorf("image %s: %w", guard.Redact(rawURL), ctx.Err())
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[rawURL] = f
	c.mu.Unlock()

	info, err := c.check(ctx, rawURL)
	if err != nil {
		err = fmt.Errorf("image %s: %w", guard.Redact(rawURL), err)
	}
	f.res = result{info: info, err: err}

	c.mu.Lock()
	delete(c.flights, rawURL)
	if ctx.Err() == nil {
		ttl := c.passTTL
		if err != nil {
			ttl = c.failTTL
		}
		c.cache.put(rawURL, f.res, c.clock.Now().Add(ttl))
	}
	c.mu.Unlock()
	close(f.done)
	return info, err
}

// check asks with HEAD and falls back to a ranged GET where HEAD is refused
// or leaves the type or size unsaid.
func (c *Checker) check(ctx context.Context, rawURL string) (syndicate.ImageInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodHead, rawURL, nil)
	if err != nil {
		return syndicate.ImageInfo{}, err
	}
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented ||
		code == http.StatusForbidden || code == http.StatusBadRequest:
		// Servers and signed CDN URLs that take GET only.
		return c.rangedGet(ctx, rawURL)
	case code < 200 || code > 299:
		return syndicate.ImageInfo{}, &StatusError{Code: code}
	}
	t := mediaType(resp.Header)
	switch {
	case generic(t):
		return c.rangedGet(ctx, rawURL)
	case !picture(t):
		return syndicate.ImageInfo{}, fmt.Errorf("%w: served as %s", ErrNotImage, t)
	case resp.ContentLength > c.maxBytes:
		return syndicate.ImageInfo{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, resp.ContentLength, c.maxBytes)
	case resp.ContentLength <= 0:
		// No size from HEAD: the ranged GET may give the total.
		return c.rangedGet(ctx, rawURL)
	}
	return syndicate.ImageInfo{Type: t, Bytes: resp.ContentLength}, nil
}

// rangedGet reads the first bytes of the URL: the type from the answer or,
// when it names none, from the bytes; the size from Content-Range or
// Content-Length, else from the bytes when they are all there is.
func (c *Checker) rangedGet(ctx context.Context, rawURL string) (syndicate.ImageInfo, error) {
	resp, err := c.do(ctx, http.MethodGet, rawURL, http.Header{"Range": {"bytes=0-" + strconv.Itoa(SniffBytes-1)}})
	if err != nil {
		return syndicate.ImageInfo{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return syndicate.ImageInfo{}, &StatusError{Code: resp.StatusCode}
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, SniffBytes+1))
	if err != nil {
		return syndicate.ImageInfo{}, fmt.Errorf("read: %w", err)
	}
	info := syndicate.ImageInfo{Type: mediaType(resp.Header)}
	switch {
	case generic(info.Type):
		info.Type, info.Sniffed = sniff(head), true
		if info.Type == "" {
			return syndicate.ImageInfo{}, fmt.Errorf("%w: the first bytes are %s", ErrNotImage, http.DetectContentType(head))
		}
	case !picture(info.Type):
		return syndicate.ImageInfo{}, fmt.Errorf("%w: served as %s", ErrNotImage, info.Type)
	}
	info.Bytes = size(resp, len(head))
	if info.Bytes > c.maxBytes {
		return syndicate.ImageInfo{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, info.Bytes, c.maxBytes)
	}
	// The first bytes usually hold the header: a canvas too large to
	// decode is refused here, so the next image gets its chance.
	if _, err := imagehead.Check(head, 0); errors.Is(err, imagehead.ErrTooManyPixels) {
		return syndicate.ImageInfo{}, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return info, nil
}

func (c *Checker) do(ctx context.Context, method, rawURL string, h http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.client.Do(req)
	if errors.Is(err, guard.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.ToLower(method), err)
	}
	return resp, nil
}

// mediaType is the answer's media type in lower case, "" when absent or
// unreadable.
func mediaType(h http.Header) string {
	t, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return strings.ToLower(t)
}

// generic reports a type that says nothing about the content: the bytes
// must tell.
func generic(t string) bool {
	switch t {
	case "", "application/octet-stream", "binary/octet-stream", "application/binary", "application/unknown":
		return true
	}
	return false
}

// picture reports an image type a post can show: vector drawings and icons
// are images no platform takes as a photo.
func picture(t string) bool {
	switch t {
	case "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon":
		return false
	}
	return strings.HasPrefix(t, "image/")
}

// sniff returns the image type of the first bytes of a file, "" when they
// are not a picture.
func sniff(head []byte) string {
	if t := http.DetectContentType(head); picture(t) {
		return t
	}
	if _, format, err := image.DecodeConfig(bytes.NewReader(head)); err == nil {
		return "image/" + format
	}
	return ""
}

// size is the whole file's size: the total of a Content-Range, else the
// Content-Length of a whole answer, else the bytes read when they were all
// of it; 0 when unknown.
func size(resp *http.Response, read int) int64 {
	if resp.StatusCode == http.StatusPartialContent {
		cr := resp.Header.Get("Content-Range")
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(strings.TrimSpace(cr[i+1:]), 10, 64); err == nil && n > 0 {
				return n
			}
		}
		return 0
	}
	if resp.ContentLength > 0 {
		return resp.ContentLength
	}
	if read <= SniffBytes {
		return int64(read)
	}
	return 0
}

// cache remembers recent answers, the least recently used going first
// when it is full.
type cache struct {
	max   int
	order *list.List
	byURL map[string]*list.Element
}

type cached struct {
	url     string
	res     result
	expires time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, order: list.New(), byURL: map[string]*list.Element{}}
}

func (c *cache) get(url string, now time.Time) (result, bool) {
	el, ok := c.byURL[url]
	if !ok {
		return result{}, false
	}
	e := el.Value.(*cached)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.byURL, url)
		return result{}, false
	}
	c.order.MoveToFront(el)
	return e.res, true
}

func (c *cache) put(url string, res result, expires time.Time) {
	if el, ok := c.byURL[url]; ok {
		el.Value = &cached{url: url, res: res, expires: expires}
		c.order.MoveToFront(el)
		return
	}
	c.byURL[url] = c.order.PushFront(&cached{url: url, res: res, expires: expires})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byURL, last.Value.(*cached).url)
	}
}
