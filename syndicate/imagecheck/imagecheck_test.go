package imagecheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
	"github.com/syndicate-bot/syndicate/syndicate/imagehead/imagetest"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now().Add(d)
	return ch
}

func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// site is an image server on loopback that records what it was asked.
type site struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
}

func (s *site) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *site) reset() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

const (
	mb         = 1 << 20
	rangeAsked = "bytes=0-16383"
)

// newSite serves the paths the tests use: each is a way real servers
// answer for an image URL.
func newSite(t *testing.T) *site {
	t.Helper()
	pic := pngBytes(t, 40, 30)
	photo := jpegBytes(t, 64, 48)
	page := []byte("<!doctype html><html><head><title>Not found</title></head><body>Sorry</body></html>")
	s := &site{}
	mux := http.NewServeMux()
	serve := func(ct string, data []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
		}
	}
	headRefused := func(code int, next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				w.WriteHeader(code)
				return
			}
			next(w, r)
		}
	}
	mux.HandleFunc("/ok.jpg", serve("image/jpeg", photo))
	mux.HandleFunc("/ok.png", serve("image/png", pic))
	mux.HandleFunc("/head405.png", headRefused(http.StatusMethodNotAllowed, serve("image/png", pic)))
	mux.HandleFunc("/head501.png", headRefused(http.StatusNotImplemented, serve("image/png", pic)))
	mux.HandleFunc("/signed.jpg", headRefused(http.StatusForbidden, serve("image/jpeg", photo)))
	mux.HandleFunc("/head405-gone.png", headRefused(http.StatusMethodNotAllowed, http.NotFound))
	mux.HandleFunc("/gone.jpg", http.NotFound)
	mux.HandleFunc("/broken.jpg", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream failed", http.StatusBadGateway)
	})
	mux.HandleFunc("/article/", serve("text/html; charset=utf-8", page))
	mux.HandleFunc("/octet.png", serve("application/octet-stream", pic))
	mux.HandleFunc("/untyped.png", func(w http.ResponseWriter, r *http.Request) {
		// Some servers name no type at all; Go's server would sniff one.
		w.Header()["Content-Type"] = nil
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(pic))
	})
	mux.HandleFunc("/octet-page", serve("application/octet-stream", page))
	mux.HandleFunc("/logo.svg", serve("image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`)))
	mux.HandleFunc("/big.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(6*mb))
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusOK)
			w.Write(bytes.Repeat([]byte{0}, 6*mb))
		}
	})
	mux.HandleFunc("/big-ranged.jpg", headRefused(http.StatusMethodNotAllowed, func(w http.ResponseWriter, r *http.Request) {
		head := append(append([]byte(nil), photo...), make([]byte, SniffBytes-len(photo))...)
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", SniffBytes-1, 6*mb))
		w.Header().Set("Content-Length", strconv.Itoa(SniffBytes))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(head)
	}))
	// Streams without a length, ignoring Range: the size stays unknown
	// unless the whole image fits in what is read.
	stream := func(data []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodHead {
				return
			}
			w.(http.Flusher).Flush()
			w.Write(data)
		}
	}
	// A decompression bomb behind a server without HEAD, and one that
	// names no type: the ranged GET's bytes show the canvas.
	mux.HandleFunc("/bomb.png", headRefused(http.StatusMethodNotAllowed, serve("image/png", imagetest.BombPNG(100000, 100000))))
	mux.HandleFunc("/bomb-octet", serve("application/octet-stream", imagetest.BombPNG(100000, 100000)))
	mux.HandleFunc("/drawing", serve("application/octet-stream", imagetest.SVG()))
	// Declares 10 GB and would stream forever: refused by its header.
	mux.HandleFunc("/huge-length.jpg", headRefused(http.StatusMethodNotAllowed, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(10<<30))
		w.WriteHeader(http.StatusOK)
		for range 1 << 20 {
			if _, err := w.Write(make([]byte, 64<<10)); err != nil {
				return
			}
		}
	}))
	mux.HandleFunc("/nolength-small.png", stream(pic))
	mux.HandleFunc("/nolength-large.png", stream(append(append([]byte(nil), pic...), make([]byte, 3*SniffBytes)...)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		entry := r.Method + " " + r.URL.Path
		if rg := r.Header.Get("Range"); rg != "" {
			entry += " " + rg
		}
		s.requests = append(s.requests, entry)
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.Server = srv
	return s
}

func newChecker(t *testing.T, o Options) *Checker {
	t.Helper()
	if o.Client == nil {
		o.Client = guard.New(guard.Options{AllowPrivate: true, Timeout: 5 * time.Second})
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckImage(t *testing.T) {
	s := newSite(t)
	pic, photo := pngBytes(t, 40, 30), jpegBytes(t, 64, 48)
	tests := []struct {
		name     string
		path     string
		maxBytes int64
		want     syndicate.ImageInfo
		wantErr  error
		status   int
		requests []string
	}{
		{name: "HEAD answers", path: "/ok.jpg",
			want: syndicate.ImageInfo{Type: "image/jpeg", Bytes: int64(len(photo))}, requests: []string{"HEAD /ok.jpg"}},
		{name: "HEAD refused with 405: ranged GET", path: "/head405.png",
			want:     syndicate.ImageInfo{Type: "image/png", Bytes: int64(len(pic))},
			requests: []string{"HEAD /head405.png", "GET /head405.png " + rangeAsked}},
		{name: "HEAD not implemented: ranged GET", path: "/head501.png",
			want:     syndicate.ImageInfo{Type: "image/png", Bytes: int64(len(pic))},
			requests: []string{"HEAD /head501.png", "GET /head501.png " + rangeAsked}},
		{name: "signed URL refusing HEAD with 403: ranged GET", path: "/signed.jpg",
			want:     syndicate.ImageInfo{Type: "image/jpeg", Bytes: int64(len(photo))},
			requests: []string{"HEAD /signed.jpg", "GET /signed.jpg " + rangeAsked}},
		{name: "deleted upload", path: "/gone.jpg", status: 404, requests: []string{"HEAD /gone.jpg"}},
		{name: "deleted upload behind a server without HEAD", path: "/head405-gone.png", status: 404,
			requests: []string{"HEAD /head405-gone.png", "GET /head405-gone.png " + rangeAsked}},
		{name: "server error", path: "/broken.jpg", status: 502, requests: []string{"HEAD /broken.jpg"}},
		{name: "HTML page", path: "/article/photo.jpg", wantErr: ErrNotImage, requests: []string{"HEAD /article/photo.jpg"}},
		// <img src=x> resolves against the article to a page of the site.
		{name: "src=x resolved against the article", path: "/article/x", wantErr: ErrNotImage, requests: []string{"HEAD /article/x"}},
		{name: "octet-stream sniffed as PNG", path: "/octet.png",
			want:     syndicate.ImageInfo{Type: "image/png", Bytes: int64(len(pic)), Sniffed: true},
			requests: []string{"HEAD /octet.png", "GET /octet.png " + rangeAsked}},
		{name: "no type at all, sniffed", path: "/untyped.png",
			want:     syndicate.ImageInfo{Type: "image/png", Bytes: int64(len(pic)), Sniffed: true},
			requests: []string{"HEAD /untyped.png", "GET /untyped.png " + rangeAsked}},
		{name: "SVG drawing", path: "/logo.svg", wantErr: ErrNotImage, requests: []string{"HEAD /logo.svg"}},
		{name: "octet-stream that is a page", path: "/octet-page", wantErr: ErrNotImage,
			requests: []string{"HEAD /octet-page", "GET /octet-page " + rangeAsked}},
		{name: "image too big by HEAD: no GET", path: "/big.jpg", maxBytes: 5 * mb, wantErr: ErrTooLarge,
			requests: []string{"HEAD /big.jpg"}},
		{name: "image too big by Content-Range total", path: "/big-ranged.jpg", maxBytes: 5 * mb, wantErr: ErrTooLarge,
			requests: []string{"HEAD /big-ranged.jpg", "GET /big-ranged.jpg " + rangeAsked}},
		{name: "big image within a larger cap", path: "/big-ranged.jpg", maxBytes: 8 * mb,
			want:     syndicate.ImageInfo{Type: "image/jpeg", Bytes: 6 * mb},
			requests: []string{"HEAD /big-ranged.jpg", "GET /big-ranged.jpg " + rangeAsked}},
		{name: "decompression bomb", path: "/bomb.png", wantErr: ErrTooLarge,
			requests: []string{"HEAD /bomb.png", "GET /bomb.png " + rangeAsked}},
		{name: "decompression bomb without a type", path: "/bomb-octet", wantErr: ErrTooLarge,
			requests: []string{"HEAD /bomb-octet", "GET /bomb-octet " + rangeAsked}},
		{name: "SVG without a type", path: "/drawing", wantErr: ErrNotImage,
			requests: []string{"HEAD /drawing", "GET /drawing " + rangeAsked}},
		{name: "declared length of 10 GB", path: "/huge-length.jpg", wantErr: ErrTooLarge,
			requests: []string{"HEAD /huge-length.jpg", "GET /huge-length.jpg " + rangeAsked}},
		{name: "no Content-Length, small image read whole", path: "/nolength-small.png",
			want:     syndicate.ImageInfo{Type: "image/png", Bytes: int64(len(pic))},
			requests: []string{"HEAD /nolength-small.png", "GET /nolength-small.png " + rangeAsked}},
		{name: "no Content-Length, size stays unknown", path: "/nolength-large.png",
			want:     syndicate.ImageInfo{Type: "image/png"},
			requests: []string{"HEAD /nolength-large.png", "GET /nolength-large.png " + rangeAsked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.reset()
			c := newChecker(t, Options{MaxBytes: tt.maxBytes})
			got, err := c.CheckImage(context.Background(), s.URL+tt.path)
			switch {
			case tt.status != 0:
				var se *StatusError
				if !errors.As(err, &se) || se.Code != tt.status {
					t.Fatalf("error %v, want http %d", err, tt.status)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("error %v", err)
			case got != tt.want:
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if diff := strings.Join(s.log(), "\n"); diff != strings.Join(tt.requests, "\n") {
				t.Errorf("requests:\n%s\nwant:\n%s", diff, strings.Join(tt.requests, "\n"))
			}
		})
	}
}

func TestURLsThatCannotBeFetched(t *testing.T) {
	c := newChecker(t, Options{})
	for _, u := range []string{"x", "javascript:alert(1)", "data:image/gif;base64,R0lGOD", "ftp://files.example/a.jpg"} {
		if _, err := c.CheckImage(context.Background(), u); err == nil {
			t.Errorf("%q passed", u)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A public image host that redirects to an internal address must not make
// the checker fetch from it: the guard refuses the connection.
func TestRedirectToPrivateAddressRefused(t *testing.T) {
	s := newSite(t)
	// The redirect's first hop is served in process, as if from a public
	// address; every other request goes through a guarded client that
	// allows no private address, which is what dials the loopback site.
	strict := guard.New(guard.Options{MaxRedirects: -1})
	public := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.URL+"/ok.jpg", http.StatusFound)
	})
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "images.example" {
			rec := httptest.NewRecorder()
			public.ServeHTTP(rec, r)
			resp := rec.Result()
			resp.Request = r
			return resp, nil
		}
		return strict.Do(r)
	})
	c := newChecker(t, Options{Client: guard.New(guard.Options{Transport: rt})})
	_, err := c.CheckImage(context.Background(), "https://images.example/photo.jpg")
	if !errors.Is(err, guard.ErrBlockedAddress) {
		t.Fatalf("error %v, want guard.ErrBlockedAddress", err)
	}
	if got := s.log(); len(got) != 0 {
		t.Errorf("the internal address was reached: %v", got)
	}
}

func TestCache(t *testing.T) {
	s := newSite(t)
	clock := &fakeClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	c := newChecker(t, Options{Clock: clock})
	ctx := context.Background()
	requests := func() int { return len(s.log()) }

	if _, err := c.CheckImage(ctx, s.URL+"/ok.jpg"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckImage(ctx, s.URL+"/gone.jpg"); err == nil {
		t.Fatal("deleted upload passed")
	}
	if n := requests(); n != 2 {
		t.Fatalf("%d requests for two URLs", n)
	}

	steps := []struct {
		after    time.Duration
		requests int // total so far
	}{
		{0, 2},                               // both remembered
		{9 * time.Minute, 2},                 // the failure still remembered
		{time.Minute, 3},                     // 10 min: the failure is asked again
		{49*time.Minute + 59*time.Second, 4}, // 59:59: the failure again, the pass still remembered
		{time.Second, 5},                     // 1 h: the pass is asked again
	}
	for i, st := range steps {
		clock.advance(st.after)
		info, err := c.CheckImage(ctx, s.URL+"/ok.jpg")
		if err != nil || info.Type != "image/jpeg" {
			t.Fatalf("step %d: pass became %+v, %v", i, info, err)
		}
		var se *StatusError
		if _, err := c.CheckImage(ctx, s.URL+"/gone.jpg"); !errors.As(err, &se) || se.Code != 404 {
			t.Fatalf("step %d: failure became %v", i, err)
		}
		if n := requests(); n != st.requests {
			t.Errorf("step %d: %d requests, want %d (%v)", i, n, st.requests, s.log())
		}
	}
}

func TestCacheIsBounded(t *testing.T) {
	s := newSite(t)
	c := newChecker(t, Options{CacheSize: 2})
	ctx := context.Background()
	for _, p := range []string{"/ok.jpg", "/ok.png", "/ok.jpg", "/octet.png"} {
		if _, err := c.CheckImage(ctx, s.URL+p); err != nil {
			t.Fatal(err)
		}
	}
	// ok.png was the least recently used when octet.png came in.
	s.reset()
	for _, p := range []string{"/ok.jpg", "/octet.png", "/ok.png"} {
		if _, err := c.CheckImage(ctx, s.URL+p); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(s.log(), ","); got != "HEAD /ok.png" {
		t.Errorf("requests %q, want only ok.png asked again", got)
	}
}

func TestCancelledCheckNotRemembered(t *testing.T) {
	s := newSite(t)
	c := newChecker(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.CheckImage(ctx, s.URL+"/ok.jpg"); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if _, err := c.CheckImage(context.Background(), s.URL+"/ok.jpg"); err != nil {
		t.Fatalf("after a cancelled check: %v", err)
	}
}

func TestConcurrentChecks(t *testing.T) {
	s := newSite(t)
	c := newChecker(t, Options{CacheSize: 3})
	paths := []string{"/ok.jpg", "/ok.png", "/gone.jpg", "/octet.png", "/head405.png"}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(paths))
	for range 8 {
		for _, p := range paths {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.CheckImage(context.Background(), s.URL+p)
				if (err == nil) == (p == "/gone.jpg") {
					errs <- fmt.Errorf("%s: %v", p, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNewNeedsClient(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a client succeeded")
	}
}

// BenchmarkCheckImage measures a check answered by the server (HEAD over
// loopback) and one answered from the cache.
func BenchmarkCheckImage(b *testing.B) {
	photo := jpegBytes(b, 64, 48)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(photo))
	}))
	defer srv.Close()
	client := guard.New(guard.Options{AllowPrivate: true})
	ctx := context.Background()
	b.Run("uncached", func(b *testing.B) {
		c, _ := New(Options{Client: client, CacheSize: 1})
		for i := 0; b.Loop(); i++ {
			if _, err := c.CheckImage(ctx, fmt.Sprintf("%s/p%d.jpg", srv.URL, i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		c, _ := New(Options{Client: client})
		if _, err := c.CheckImage(ctx, srv.URL+"/p.jpg"); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := c.CheckImage(ctx, srv.URL+"/p.jpg"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
