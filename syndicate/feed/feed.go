// Package feed polls RSS, Atom and JSON feeds politely (conditional GET,
// Retry-After, size and time caps through the guarded client), repairs the
// damage real feeds carry, and normalises their entries into
// syndicate.Items that renderers can use without knowing feed formats or
// HTML.
package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

// maxRetryAfter caps how long a server may ask us to stay away.
const maxRetryAfter = 24 * time.Hour

// acceptHeader asks for feeds first, in the formats the parser reads.
const acceptHeader = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"

// Options configure a Source.
type Options struct {
	// Client downloads feeds.
	Client *guard.Client
	// PageClient downloads article pages for PageImage; without it
	// PageImage fails.
	PageClient *guard.Client
	// Logger receives notices such as permanent redirects (default: none).
	Logger *slog.Logger
	// Now is the clock, for Retry-After dates (default time.Now).
	Now func() time.Time
}

// Source fetches and normalises feeds; it implements syndicate.Source and
// syndicate.PageImager and is safe for concurrent use.
type Source struct {
	client *guard.Client
	pages  *guard.Client
	log    *slog.Logger
	now    func() time.Time
}

var (
	_ syndicate.Source     = (*Source)(nil)
	_ syndicate.PageImager = (*Source)(nil)
)

// New returns a Source; o.Client is required.
func New(o Options) *Source {
	if o.Client == nil {
		o.Client = guard.New(guard.Options{})
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Source{client: o.Client, pages: o.PageClient, log: o.Logger, now: o.Now}
}

// Fetch polls the feed with a conditional GET based on st. Every error is
// a *syndicate.FetchError: StatusCode is set for HTTP failures, with
// RetryAfter when the server said when to come back; network, size and
// parse failures have no status.
func (s *Source) Fetch(ctx context.Context, spec syndicate.FeedSpec, st syndicate.FeedState) (syndicate.FetchResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, spec.URL, nil)
	if err != nil {
		return syndicate.FetchResult{}, &syndicate.FetchError{Err: fmt.Errorf("new request: %w", err)}
	}
	req.Header.Set("Accept", acceptHeader)
	if st.ETag != "" {
		req.Header.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		req.Header.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return syndicate.FetchResult{}, &syndicate.FetchError{Err: fmt.Errorf("get feed: %w", err)}
	}
	defer resp.Body.Close()

	res := syndicate.FetchResult{}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		res.NotModified = true
		res.ETag, res.LastModified = st.ETag, st.LastModified
		if v := resp.Header.Get("ETag"); v != "" {
			res.ETag = v
		}
		if v := resp.Header.Get("Last-Modified"); v != "" {
			res.LastModified = v
		}
		res.MovedTo = s.movedTo(spec, resp)
		return res, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		drain(resp.Body)
		return res, &syndicate.FetchError{
			StatusCode: resp.StatusCode,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), s.now()),
			Err:        errors.New(http.StatusText(resp.StatusCode)),
		}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		drain(resp.Body)
		return res, &syndicate.FetchError{StatusCode: resp.StatusCode, Err: errors.New(strings.ToLower(http.StatusText(resp.StatusCode)))}
	}

	body, err := guard.ReadAll(resp)
	if err != nil {
		return res, &syndicate.FetchError{Err: fmt.Errorf("read feed: %w", err)}
	}
	f, salvaged, err := parse(body, resp.Header.Get("Content-Type"), spec.Language)
	if err != nil {
		return res, &syndicate.FetchError{Err: err}
	}
	l := entries(f, spec, requestURL(resp, spec.URL))
	res.Entries, res.Normalise, res.Heads = l.entries, l.normalise, l.heads
	res.Hubs, res.Self = discoverHubs(resp.Header, body, requestURL(resp, spec.URL))
	res.Title = cleanLine(f.Title)
	res.Salvaged = salvaged
	// The validators of a document read only in part would turn the next
	// poll into a 304 and hide the items after the damage until the feed
	// changes: without them the next poll downloads it whole again.
	if salvaged == nil || !salvaged.Dropped {
		res.ETag = resp.Header.Get("ETag")
		res.LastModified = resp.Header.Get("Last-Modified")
	}
	res.MovedTo = s.movedTo(spec, resp)
	return res, nil
}

// parse repairs the body and hands it to the feed parser; lang is the
// operator's language for the feed, if any (see prepare). A document the
// parser rejects is read again leniently: when complete items can be
// recovered, the feed is what they and the prologue make, with a note of
// the salvage; else the parser's error stands.
func parse(body []byte, contentType, lang string) (*gofeed.Feed, *syndicate.Salvage, error) {
	doc := prepare(body, contentType, lang)
	f, err := parseDocument(doc)
	if err == nil {
		return f, nil, nil
	}
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		mt := contentType
		if mt == "" {
			mt = "no content type"
		}
		err = fmt.Errorf("parse feed: not an RSS, Atom or JSON feed (%s)", mt)
	} else {
		err = fmt.Errorf("parse feed: %w", err)
	}
	r, ok := salvage(doc)
	if !ok {
		return nil, nil, err
	}
	sf, serr := parseDocument(r.doc)
	if serr != nil || len(sf.Items) == 0 {
		return nil, nil, err
	}
	return sf, &syndicate.Salvage{Items: len(sf.Items), Dropped: r.cut, Err: err}, nil
}

// parseDocument runs the feed parser on a prepared document.
func parseDocument(doc []byte) (*gofeed.Feed, error) {
	p := gofeed.NewParser()
	// The JSON Feed item language and plain-text content are only on the
	// original items.
	p.KeepOriginalFeed = len(doc) > 0 && doc[0] == '{'
	return p.Parse(bytes.NewReader(doc))
}

// movedTo returns where the feed now lives when every redirect from its
// URL was permanent (301, 308); a temporary hop anywhere in the chain
// means the old URL stays.
func (s *Source) movedTo(spec syndicate.FeedSpec, resp *http.Response) string {
	if resp.Request == nil {
		return ""
	}
	var chain []*http.Response
	for r := resp.Request.Response; r != nil && r.Request != nil; r = r.Request.Response {
		chain = append(chain, r)
	}
	if len(chain) == 0 {
		return ""
	}
	for _, r := range chain {
		if r.StatusCode != http.StatusMovedPermanently && r.StatusCode != http.StatusPermanentRedirect {
			return ""
		}
	}
	to := resp.Request.URL.String()
	if to == spec.URL {
		return ""
	}
	s.log.Info("feed moved permanently", "feed", spec.ID, "from", guard.Redact(spec.URL), "to", guard.Redact(to))
	return to
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// drain reads a little of an unwanted body so the connection can be reused.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
}

// requestURL is the URL of the final request, for resolving relative links.
func requestURL(resp *http.Response, fallback string) *url.URL {
	if resp != nil && resp.Request != nil && resp.Request.URL != nil {
		return resp.Request.URL
	}
	u, _ := url.Parse(fallback)
	return u
}
