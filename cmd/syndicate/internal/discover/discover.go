// Package discover finds the feeds of a web site from one of its pages: the
// feeds the page announces (<link rel="alternate">), and the WordPress
// conventions (the /feed/ of the page's section and of the site, and the
// /feed/ of each language edition the page names with hreflang). Every
// candidate is fetched and parsed as the worker would, so what it reports
// is what the worker can poll.
package discover

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

// How a candidate was found.
const (
	// ViaSelf: the URL given is a feed itself.
	ViaSelf = "self"
	// ViaLink: the page announces it with <link rel="alternate">.
	ViaLink = "link"
	// ViaSection: the WordPress /feed/ of the page's own section.
	ViaSection = "wordpress"
	// ViaSite: the WordPress /feed/ at the root of the site.
	ViaSite = "wordpress-site"
	// ViaEdition: the WordPress /feed/ of an edition the page names with
	// hreflang.
	ViaEdition = "edition"
)

// Candidate is a URL that may be a feed of the site.
type Candidate struct {
	URL string
	// Via says how it was found (ViaLink, …).
	Via string
	// Title is the title the page gave the link.
	Title string
	// Language is the hreflang the page gave it, else the page's own
	// language for the feeds of the page itself; empty when unknown.
	Language string
}

// Candidates lists the URLs worth checking for a page, without duplicates,
// in this order: the page's feed links, the /feed/ of the page's section,
// the /feed/ of the site, the /feed/ of each edition. WordPress comment
// feeds are left out: they carry comments, not articles.
func Candidates(p Page, pageURL *url.URL) []Candidate {
	var out []Candidate
	index := map[string]int{}
	add := func(c Candidate) {
		if isCommentFeed(c.URL) {
			return
		}
		if i, ok := index[c.URL]; ok {
			// The same feed named twice: keep what each way knew.
			if out[i].Language == "" {
				out[i].Language = c.Language
			}
			if out[i].Title == "" {
				out[i].Title = c.Title
			}
			return
		}
		index[c.URL] = len(out)
		out = append(out, c)
	}
	for _, l := range p.Feeds {
		add(Candidate{URL: l.URL, Via: ViaLink, Title: l.Title, Language: l.Language})
	}
	section, inEdition := editionRoot(pageURL, p.Lang)
	if u := wordpressFeed(section); u != "" {
		add(Candidate{URL: u, Via: ViaSection})
	}
	root := &url.URL{Scheme: pageURL.Scheme, Host: pageURL.Host, Path: "/feed/"}
	add(Candidate{URL: root.String(), Via: ViaSite})
	for _, e := range p.Editions {
		if strings.EqualFold(e.Language, "x-default") {
			continue
		}
		u, err := url.Parse(e.URL)
		if err != nil {
			continue
		}
		front, ok := editionRoot(u, e.Language)
		if !ok && inEdition {
			// A site whose editions are directories named by language
			// keeps its main edition at the root.
			front = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}
		}
		if f := wordpressFeed(front); f != "" {
			add(Candidate{URL: f, Via: ViaEdition, Language: e.Language})
		}
	}
	// The page's language is that of the feeds of the page itself, when
	// nothing more precise said otherwise.
	if p.Lang != "" {
		for i := range out {
			if out[i].Language == "" && (out[i].Via == ViaLink || out[i].Via == ViaSection) {
				out[i].Language = p.Lang
			}
		}
	}
	return out
}

// wordpressFeed is the WordPress feed of the section a page is in: its
// directory followed by "feed/", without query or fragment.
func wordpressFeed(page *url.URL) string {
	dir := page.Path
	if i := strings.LastIndexByte(dir, '/'); i >= 0 {
		dir = dir[:i+1]
	} else {
		dir = "/"
	}
	if strings.HasSuffix(dir, "/feed/") {
		return ""
	}
	u := &url.URL{Scheme: page.Scheme, Host: page.Host, Path: dir + "feed/"}
	return u.String()
}

// editionRoot is the front page of the edition a page belongs to, and
// true, when its path starts with the edition's language ("/ar/some-post/"
// in Arabic is in the edition "/ar/"), as multilingual WordPress sites lay
// editions out; otherwise the page itself and false.
func editionRoot(page *url.URL, lang string) (*url.URL, bool) {
	first, _, _ := strings.Cut(strings.TrimPrefix(page.Path, "/"), "/")
	primary, _, _ := strings.Cut(lang, "-")
	if first != "" && lang != "" && (strings.EqualFold(first, lang) || strings.EqualFold(first, primary)) {
		return &url.URL{Scheme: page.Scheme, Host: page.Host, Path: "/" + first + "/"}, true
	}
	return page, false
}

func isCommentFeed(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && strings.HasSuffix(strings.TrimSuffix(u.Path, "/")+"/", "/comments/feed/")
}

// Feed is what a check learnt of a feed.
type Feed struct {
	// URL is where the feed now lives: the checked URL, or where it
	// permanently moved.
	URL string
	// Title is the feed's own title.
	Title string
	// Items is how many items it holds.
	Items int
	// Language is the language the feed declares at channel level; empty
	// when it declares none.
	Language string
}

// errNotFeed is a document that parsed but has neither a title nor an
// item: a JSON object is read as a JSON Feed whatever it holds.
var errNotFeed = errors.New("no title and no items: not a feed")

// Check fetches url with src, unconditionally, as the worker would poll
// it, and reports what the feed holds.
func Check(ctx context.Context, src syndicate.Source, rawURL string) (Feed, error) {
	res, err := src.Fetch(ctx, syndicate.FeedSpec{ID: "check", URL: rawURL}, syndicate.FeedState{})
	if err != nil {
		return Feed{}, err
	}
	n := len(res.Entries)
	if res.Normalise == nil {
		n = len(res.Items)
	}
	if res.Title == "" && n == 0 {
		return Feed{}, errNotFeed
	}
	f := Feed{URL: rawURL, Title: res.Title, Items: n}
	if res.MovedTo != "" {
		f.URL = res.MovedTo
	}
	// The channel's declaration is what its items inherit; an item that
	// declares its own says nothing about the feed.
	items := res.Items
	if res.Normalise != nil {
		idx := make([]int, min(n, 5))
		for i := range idx {
			idx[i] = i
		}
		items = res.Normalise(idx)
	}
	for _, it := range items {
		if it.LanguageFrom == syndicate.LanguageFromFeed {
			f.Language = it.Language
			break
		}
	}
	return f, nil
}

// Checked is the outcome of one check.
type Checked struct {
	Feed Feed
	Err  error
}

// Progress is told of each check as it ends (from several goroutines, one
// at a time).
type Progress func(rawURL string, c Checked)

// CheckAll checks the URLs, at most concurrency at once, and returns the
// outcomes in the order of urls.
func CheckAll(ctx context.Context, src syndicate.Source, urls []string, concurrency int, progress Progress) []Checked {
	out := make([]Checked, len(urls))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(concurrency, 1))
	for i, u := range urls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f, err := Check(ctx, src, u)
			out[i] = Checked{Feed: f, Err: err}
			if progress != nil {
				mu.Lock()
				progress(u, out[i])
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// Options configure Find.
type Options struct {
	// Client fetches the page.
	Client *guard.Client
	// Source checks the candidates.
	Source syndicate.Source
	// Concurrency is how many candidates are checked at once (default 4).
	Concurrency int
	// Start is told how many candidates will be checked; Progress of each
	// check (both optional).
	Start    func(total int)
	Progress Progress
}

// Found is a candidate that is a feed.
type Found struct {
	Candidate
	Feed Feed
}

// Rejected is a candidate that is not a feed, with why.
type Rejected struct {
	Candidate
	Err error
}

// Result is what Find learnt of a page.
type Result struct {
	// Page is the URL of the page after redirects.
	Page     string
	Found    []Found
	Rejected []Rejected
}

// Find fetches the page at pageURL, lists its candidates and checks them.
// When the URL is not an HTML page it is checked as a feed itself.
func Find(ctx context.Context, o Options, pageURL string) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return Result{}, fmt.Errorf("page %s: %w", guard.Redact(pageURL), err)
	}
	req.Header.Set("Accept", "text/html, application/xhtml+xml;q=0.9, */*;q=0.5")
	resp, err := o.Client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("page %s: %w", guard.Redact(pageURL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Result{}, fmt.Errorf("page %s: http %d", guard.Redact(pageURL), resp.StatusCode)
	}
	final := resp.Request.URL
	res := Result{Page: final.String()}
	body := bufio.NewReader(resp.Body)
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		head, _ := body.Peek(512)
		ct = http.DetectContentType(head)
	}
	var cands []Candidate
	if IsHTML(ct) {
		p, err := ParsePage(body, ct, final)
		if err != nil {
			return Result{}, fmt.Errorf("page %s: read: %w", guard.Redact(pageURL), err)
		}
		cands = Candidates(p, final)
	} else {
		cands = []Candidate{{URL: final.String(), Via: ViaSelf}}
	}
	if o.Start != nil {
		o.Start(len(cands))
	}
	urls := make([]string, len(cands))
	for i, c := range cands {
		urls[i] = c.URL
	}
	concurrency := o.Concurrency
	if concurrency <= 0 {
		concurrency = 4
	}
	checked := CheckAll(ctx, o.Source, urls, concurrency, o.Progress)
	seen := map[string]bool{}
	for i, c := range cands {
		ch := checked[i]
		switch {
		case ch.Err != nil:
			res.Rejected = append(res.Rejected, Rejected{Candidate: c, Err: ch.Err})
		case seen[ch.Feed.URL]:
			// Two candidates redirected to one feed.
		default:
			seen[ch.Feed.URL] = true
			if c.Language == "" {
				c.Language = ch.Feed.Language
			}
			res.Found = append(res.Found, Found{Candidate: c, Feed: ch.Feed})
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}
