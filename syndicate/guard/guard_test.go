package guard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBlocked(t *testing.T) {
	tests := []struct {
		ip      string
		blocked bool
	}{
		{"127.0.0.1", true},
		{"127.5.6.7", true},
		{"::1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"fe80::1", true},
		{"0.0.0.0", true},
		{"::", true},
		{"224.0.0.1", true},
		{"ff02::1", true},
		{"100.64.0.1", true},
		{"100.127.255.254", true},
		{"255.255.255.255", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"64:ff9b::a00:1", true},   // NAT64 of 10.0.0.1
		{"2002:c0a8:101::1", true}, // 6to4 of 192.168.1.1
		{"198.18.0.1", true},
		// Public addresses pass.
		{"93.184.216.34", false},
		{"8.8.8.8", false},
		{"100.128.0.1", false},
		{"172.32.0.1", false},
		{"2606:4700::1111", false},
		{"::ffff:93.184.216.34", false},
		{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", false},  // 6to4 of 8.8.8.8
	}
	for _, tt := range tests {
		if got := Blocked(netip.MustParseAddr(tt.ip)); got != tt.blocked {
			t.Errorf("Blocked(%s) = %v, want %v", tt.ip, got, tt.blocked)
		}
	}
}

func okServer(t *testing.T, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	srv := okServer(t, "hello")
	ctx := context.Background()

	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	urls := []string{
		srv.URL,                          // 127.0.0.1
		"http://localhost:" + port + "/", // resolved by DNS, checked after resolution
	}
	for _, u := range urls {
		c := New(Options{})
		resp, err := c.Get(ctx, u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s with AllowPrivate=false succeeded", u)
		}
		if !errors.Is(err, ErrBlockedAddress) {
			t.Fatalf("GET %s: error %v, want ErrBlockedAddress", u, err)
		}
	}

	c := New(Options{AllowPrivate: true})
	resp, err := c.Get(ctx, srv.URL)
	if err != nil {
		t.Fatalf("GET with AllowPrivate=true: %v", err)
	}
	b, err := ReadAll(resp)
	if err != nil || string(b) != "hello" {
		t.Fatalf("body = %q, %v", b, err)
	}
}

func TestSchemeRefused(t *testing.T) {
	c := New(Options{AllowPrivate: true})
	for _, u := range []string{"file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/"} {
		_, err := c.Get(context.Background(), u)
		if !errors.Is(err, ErrScheme) {
			t.Errorf("GET %s: error %v, want ErrScheme", u, err)
		}
	}
}

func TestRedirectToOtherSchemeRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	}))
	defer srv.Close()
	_, err := New(Options{AllowPrivate: true}).Get(context.Background(), srv.URL)
	if !errors.Is(err, ErrScheme) {
		t.Fatalf("error %v, want ErrScheme", err)
	}
}

// chainServer redirects /0 → /1 → … → /n and answers "end" at /n.
func chainServer(t *testing.T, n int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		fmt.Sscanf(r.URL.Path, "/%d", &i)
		if i < n {
			http.Redirect(w, r, fmt.Sprintf("/%d", i+1), http.StatusFound)
			return
		}
		io.WriteString(w, "end")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirectCap(t *testing.T) {
	tests := []struct {
		name      string
		max       int
		redirects int
		ok        bool
	}{
		{"default allows 5", 0, 5, true},
		{"default refuses 6", 0, 6, false},
		{"cap 2 allows 2", 2, 2, true},
		{"cap 2 refuses 3", 2, 3, false},
		{"none refuses 1", -1, 1, false},
		{"none allows 0", -1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := chainServer(t, tt.redirects)
			c := New(Options{AllowPrivate: true, MaxRedirects: tt.max})
			resp, err := c.Get(context.Background(), srv.URL+"/0")
			if tt.ok {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				b, _ := ReadAll(resp)
				if string(b) != "end" {
					t.Fatalf("body %q", b)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("redirect chain over the cap was followed")
			}
			if !errors.Is(err, ErrTooManyRedirects) {
				t.Fatalf("error %v, want ErrTooManyRedirects", err)
			}
		})
	}
}

func TestSizeCap(t *testing.T) {
	body := strings.Repeat("x", 1000)
	tests := []struct {
		name    string
		max     int64
		chunked bool
		ok      bool
	}{
		{"exactly the cap", 1000, false, true},
		{"over the cap, declared length", 999, false, false},
		{"over the cap, chunked", 999, true, false},
		{"under the cap, chunked", 1000, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !tt.chunked {
					w.Header().Set("Content-Length", fmt.Sprint(len(body)))
				}
				io.WriteString(w, body[:500])
				w.(http.Flusher).Flush()
				io.WriteString(w, body[500:])
			}))
			defer srv.Close()
			c := New(Options{AllowPrivate: true, MaxBytes: tt.max})
			resp, err := c.Get(context.Background(), srv.URL)
			var b []byte
			if err == nil {
				b, err = ReadAll(resp)
			}
			if tt.ok {
				if err != nil || len(b) != len(body) {
					t.Fatalf("got %d bytes, %v", len(b), err)
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v, want ErrTooLarge", err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(Options{AllowPrivate: true, Timeout: 50 * time.Millisecond})
	_, err := c.Get(context.Background(), srv.URL)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v, want a timeout", err)
	}
}

func TestTimeoutWhileReadingBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "start")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(Options{AllowPrivate: true, Timeout: 50 * time.Millisecond})
	resp, err := c.Get(context.Background(), srv.URL)
	if err != nil {
		t.Fatalf("headers: %v", err)
	}
	if _, err := ReadAll(resp); err == nil {
		t.Fatal("reading a stalled body did not time out")
	}
}

func TestUserAgent(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.UserAgent()
	}))
	defer srv.Close()
	c := New(Options{AllowPrivate: true, UserAgent: "syndicate-test/1"})
	resp, err := c.Get(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ua := <-got; ua != "syndicate-test/1" {
		t.Errorf("User-Agent %q", ua)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("User-Agent", "own")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ua := <-got; ua != "own" {
		t.Errorf("User-Agent %q, want the request's own", ua)
	}
}

func TestErrorsHideQueryAndCredentials(t *testing.T) {
	c := New(Options{})
	_, err := c.Get(context.Background(), "http://user:secret@127.0.0.1:1/feed?token=hunter2")
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"secret", "hunter2"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err, s)
		}
	}
}

func TestTransportOverride(t *testing.T) {
	var called bool
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		called = true
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("0123456789")), Request: r}, nil
	})
	c := New(Options{Transport: rt, MaxBytes: 4})
	resp, err := c.Get(context.Background(), "https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(resp); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge through a custom transport", err)
	}
	if !called {
		t.Fatal("transport not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkReadAll reads a 44 KB feed, as polls do: with its declared
// length the buffer is sized once.
func BenchmarkReadAll(b *testing.B) {
	body := bytes.Repeat([]byte("<item>x</item>"), 44<<10/14)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer srv.Close()
	c := New(Options{AllowPrivate: true})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get(ctx, srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		got, err := ReadAll(resp)
		if err != nil || len(got) != len(body) {
			b.Fatalf("read %d bytes, %v", len(got), err)
		}
	}
}
