package feed

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

var fakeNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const smallFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>https://site.example/</link>
<item><title>First</title><link>https://site.example/first</link><guid>id-1</guid><description>One.</description></item>
<item><title>Second</title><link>https://site.example/second</link><guid>id-2</guid><description>Two.</description></item>
</channel></rss>`

func newSource(t *testing.T, o guard.Options) (*Source, *bytes.Buffer) {
	t.Helper()
	o.AllowPrivate = true
	if o.UserAgent == "" {
		o.UserAgent = "syndicate-test/1.0 (+https://example.org/bot)"
	}
	var logs bytes.Buffer
	return New(Options{
		Client:     guard.New(o),
		PageClient: guard.New(o),
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
		Now:        func() time.Time { return fakeNow },
	}), &logs
}

func fetchErr(t *testing.T, err error) *syndicate.FetchError {
	t.Helper()
	var fe *syndicate.FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *syndicate.FetchError", err, err)
	}
	return fe
}

// recorder remembers the requests a test server saw.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) add(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
}

func (r *recorder) get(i int) *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[i]
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func TestFetchConditionalGet(t *testing.T) {
	const etag = `"v1"`
	const lastMod = "Sun, 01 Mar 2026 10:00:00 GMT"
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		io.WriteString(w, smallFeed)
	}))
	defer srv.Close()
	src, _ := newSource(t, guard.Options{})
	spec := syndicate.FeedSpec{ID: "site", URL: srv.URL + "/feed"}

	first, err := src.Fetch(context.Background(), spec, syndicate.FeedState{})
	if err != nil {
		t.Fatal(err)
	}
	if first.NotModified || len(first.AllItems()) != 2 || first.ETag != etag || first.LastModified != lastMod || first.Title != "Site" {
		t.Fatalf("first poll: %+v", first)
	}
	if got := rec.get(0).Header.Get("If-None-Match"); got != "" {
		t.Errorf("first poll sent If-None-Match %q", got)
	}

	st := syndicate.FeedState{ETag: first.ETag, LastModified: first.LastModified}
	second, err := src.Fetch(context.Background(), spec, st)
	if err != nil {
		t.Fatal(err)
	}
	r := rec.get(1)
	if r.Header.Get("If-None-Match") != etag || r.Header.Get("If-Modified-Since") != lastMod {
		t.Errorf("second poll sent If-None-Match %q, If-Modified-Since %q", r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"))
	}
	if !second.NotModified || len(second.AllItems()) != 0 {
		t.Fatalf("second poll: NotModified=%v with %d items", second.NotModified, len(second.AllItems()))
	}
	if second.ETag != etag || second.LastModified != lastMod {
		t.Errorf("validators changed on 304: %q %q", second.ETag, second.LastModified)
	}
}

func TestFetchHeaders(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		io.WriteString(w, smallFeed)
	}))
	defer srv.Close()
	src, _ := newSource(t, guard.Options{UserAgent: "syndicate/9.9 (+https://example.org/bot)"})
	if _, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL}, syndicate.FeedState{}); err != nil {
		t.Fatal(err)
	}
	r := rec.get(0)
	if ua := r.UserAgent(); ua != "syndicate/9.9 (+https://example.org/bot)" {
		t.Errorf("User-Agent %q", ua)
	}
	if a := r.Header.Get("Accept"); !strings.Contains(a, "application/rss+xml") || !strings.Contains(a, "application/atom+xml") {
		t.Errorf("Accept %q", a)
	}
}

func TestFetchRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header string
		want   time.Duration
	}{
		{"429 seconds", http.StatusTooManyRequests, "120", 2 * time.Minute},
		{"503 HTTP date", http.StatusServiceUnavailable, fakeNow.Add(90 * time.Minute).Format(http.TimeFormat), 90 * time.Minute},
		{"503 without header", http.StatusServiceUnavailable, "", 0},
		{"429 capped", http.StatusTooManyRequests, "99999999", maxRetryAfter},
		{"429 date in the past", http.StatusTooManyRequests, fakeNow.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"429 date far ahead", http.StatusTooManyRequests, fakeNow.Add(72 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
		{"429 junk", http.StatusTooManyRequests, "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			src, _ := newSource(t, guard.Options{})
			_, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL}, syndicate.FeedState{})
			fe := fetchErr(t, err)
			if fe.StatusCode != tt.status || fe.RetryAfter != tt.want {
				t.Fatalf("status %d retry after %v, want %d %v", fe.StatusCode, fe.RetryAfter, tt.status, tt.want)
			}
		})
	}
}

func TestFetchStatusErrors(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusGone, http.StatusInternalServerError, http.StatusForbidden} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(status)
			io.WriteString(w, "<html>error page</html>")
		}))
		src, _ := newSource(t, guard.Options{})
		_, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL}, syndicate.FeedState{})
		srv.Close()
		fe := fetchErr(t, err)
		if fe.StatusCode != status || fe.RetryAfter != 0 {
			t.Errorf("status %d: got FetchError{%d, %v}", status, fe.StatusCode, fe.RetryAfter)
		}
	}
}

func TestFetchBodyCap(t *testing.T) {
	big := strings.Replace(smallFeed, "One.", strings.Repeat("x", 4096), 1)
	for _, declared := range []bool{true, false} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !declared {
				w.(http.Flusher).Flush() // no Content-Length: chunked
			}
			io.WriteString(w, big)
		}))
		src, _ := newSource(t, guard.Options{MaxBytes: 1024})
		_, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL}, syndicate.FeedState{})
		srv.Close()
		fetchErr(t, err)
		if !errors.Is(err, guard.ErrTooLarge) {
			t.Errorf("declared length %v: error %v, want ErrTooLarge", declared, err)
		}
	}
}

func TestFetchGzip(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	io.WriteString(zw, smallFeed)
	zw.Close()
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r)
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "gzip only", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(zipped.Bytes())
	}))
	defer srv.Close()
	src, _ := newSource(t, guard.Options{})
	res, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL}, syndicate.FeedState{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.AllItems()) != 2 || res.AllItems()[0].Title != "First" {
		t.Fatalf("items %+v", res.AllItems())
	}
}

func TestFetchGzipBombCapped(t *testing.T) {
	// 2 MiB of zeros compress to a few KiB; the cap applies to what is
	// decompressed.
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(make([]byte, 2<<20))
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(zipped.Bytes())
	}))
	defer srv.Close()
	src, _ := newSource(t, guard.Options{MaxBytes: 1 << 20})
	_, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL}, syndicate.FeedState{})
	if !errors.Is(err, guard.ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
}

func TestFetchRedirects(t *testing.T) {
	tests := []struct {
		name  string
		chain []int // statuses of the hops before /feed
		moved bool
	}{
		{"301", []int{301}, true},
		{"308", []int{308}, true},
		{"301 then 301", []int{301, 301}, true},
		{"302", []int{302}, false},
		{"307", []int{307}, false},
		{"301 then 302", []int{301, 302}, false},
		{"302 then 301", []int{302, 301}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			for i, status := range tt.chain {
				next := "/feed"
				if i+1 < len(tt.chain) {
					next = "/hop" + string(rune('a'+i+1))
				}
				mux.HandleFunc("/hop"+string(rune('a'+i)), func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, next, status)
				})
			}
			mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, smallFeed) })
			srv := httptest.NewServer(mux)
			defer srv.Close()
			src, logs := newSource(t, guard.Options{})
			res, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "news", URL: srv.URL + "/hopa"}, syndicate.FeedState{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.AllItems()) != 2 {
				t.Fatalf("%d items", len(res.AllItems()))
			}
			if !tt.moved {
				if res.MovedTo != "" || logs.Len() != 0 {
					t.Fatalf("MovedTo %q, logs %q after a temporary redirect", res.MovedTo, logs)
				}
				return
			}
			if res.MovedTo != srv.URL+"/feed" {
				t.Fatalf("MovedTo %q", res.MovedTo)
			}
			for _, want := range []string{"feed moved permanently", "feed=news", "from=" + srv.URL + "/hopa", "to=" + srv.URL + "/feed"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log %q lacks %q", logs, want)
				}
			}
		})
	}
}

func TestFetchMovedOnNotModified(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusMovedPermanently) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	src, _ := newSource(t, guard.Options{})
	res, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL + "/old"}, syndicate.FeedState{ETag: `"a"`})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NotModified || res.MovedTo != srv.URL+"/new" {
		t.Fatalf("%+v", res)
	}
}

func TestFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	src, _ := newSource(t, guard.Options{Timeout: 50 * time.Millisecond})
	_, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL}, syndicate.FeedState{})
	fetchErr(t, err)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v, want a timeout", err)
	}
}

func TestFetchNotAFeed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><head><title>Just a moment...</title></head><body>challenge</body></html>")
	}))
	defer srv.Close()
	src, _ := newSource(t, guard.Options{})
	_, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL}, syndicate.FeedState{})
	fe := fetchErr(t, err)
	if fe.StatusCode != 0 || !strings.Contains(err.Error(), "not an RSS, Atom or JSON feed (text/html") {
		t.Fatalf("error %v", err)
	}
}

func TestFetchRelativeLinksUseFinalURL(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old/feed", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/blog/feed", http.StatusFound) })
	mux.HandleFunc("/blog/feed", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<rss version="2.0"><channel><title>t</title>
<item><title>A</title><link>post-a</link></item></channel></rss>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	src, _ := newSource(t, guard.Options{})
	res, err := src.Fetch(context.Background(), syndicate.FeedSpec{ID: "x", URL: srv.URL + "/old/feed"}, syndicate.FeedState{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.AllItems()[0].Link; got != srv.URL+"/blog/post-a" {
		t.Fatalf("link %q", got)
	}
}

func pageServer(t *testing.T, contentType, body string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/article/1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		io.WriteString(w, body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestPageImage(t *testing.T) {
	tests := []struct {
		name string
		head string
		want *syndicate.Image // URL relative to the server
	}{
		{
			"og:image with alt and size",
			`<meta property="og:image" content="/media/lead.jpg"><meta property="og:image:alt" content="A &amp; B"><meta property="og:image:width" content="1200"><meta property="og:image:height" content="630"><meta name="twitter:image" content="/tw.jpg">`,
			&syndicate.Image{URL: "/media/lead.jpg", Alt: "A & B", Width: 1200, Height: 630, Source: "page"},
		},
		{
			"twitter:image when no og:image",
			`<meta name="twitter:image" content="https://cdn.example/tw.jpg"><meta name="twitter:image:alt" content="tweet pic">`,
			&syndicate.Image{URL: "https://cdn.example/tw.jpg", Alt: "tweet pic", Source: "page"},
		},
		{
			"javascript URL ignored",
			`<meta property="og:image" content="javascript:alert(1)">`,
			nil,
		},
		{"none", `<meta name="description" content="x">`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pageServer(t, "text/html; charset=utf-8", "<!doctype html><html><head>"+tt.head+"</head><body><p>text</p></body></html>")
			src, _ := newSource(t, guard.Options{})
			got, err := src.PageImage(context.Background(), srv.URL+"/article/1")
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if got != nil {
					t.Fatalf("got %+v, want none", got)
				}
				return
			}
			want := *tt.want
			if strings.HasPrefix(want.URL, "/") {
				want.URL = srv.URL + want.URL
			}
			if got == nil || *got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestPageImageErrors(t *testing.T) {
	srv := pageServer(t, "application/pdf", "%PDF-1.4")
	src, _ := newSource(t, guard.Options{})
	if _, err := src.PageImage(context.Background(), srv.URL+"/article/1"); err == nil {
		t.Error("a PDF page gave no error")
	}
	if _, err := src.PageImage(context.Background(), srv.URL+"/missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing page: %v", err)
	}
	noPages := New(Options{Client: guard.New(guard.Options{AllowPrivate: true})})
	if _, err := noPages.PageImage(context.Background(), srv.URL+"/article/1"); !errors.Is(err, ErrNoPageClient) {
		t.Errorf("without a page client: %v", err)
	}
	guarded := New(Options{PageClient: guard.New(guard.Options{})})
	if _, err := guarded.PageImage(context.Background(), srv.URL+"/article/1"); !errors.Is(err, guard.ErrBlockedAddress) {
		t.Errorf("page on a private address: %v, want ErrBlockedAddress", err)
	}
}

func TestPageImageReadsOnlyTheHead(t *testing.T) {
	// A page far larger than the read cap still yields its og:image.
	body := `<html><head><meta property="og:image" content="/a.jpg"></head><body>` + strings.Repeat("<p>filler</p>", 200000) + `</body></html>`
	srv := pageServer(t, "text/html", body)
	src, _ := newSource(t, guard.Options{})
	got, err := src.PageImage(context.Background(), srv.URL+"/article/1")
	if err != nil || got == nil || got.URL != srv.URL+"/a.jpg" {
		t.Fatalf("%+v, %v", got, err)
	}
}
