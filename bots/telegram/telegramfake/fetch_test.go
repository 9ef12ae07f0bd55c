package telegramfake

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// imageHost serves the answers photo URLs get in the wild and counts the
// fetches of each path.
type imageHost struct {
	*httptest.Server
	mu      sync.Mutex
	fetches map[string]int
}

func (h *imageHost) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fetches[path]
}

func newImageHost(t *testing.T) *imageHost {
	t.Helper()
	photo, narrow := pngOf(t, 120, 80), pngOf(t, 10, 400)
	big := append(append([]byte(nil), photo...), make([]byte, maxPhotoByURL)...)
	h := &imageHost{fetches: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.fetches[r.URL.Path]++
		h.mu.Unlock()
		switch r.URL.Path {
		case "/photo.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(photo)
		case "/narrow.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(narrow)
		case "/big.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(big)
		case "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html><title>News</title>"))
		case "/html-as-png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("<!doctype html><title>News</title>"))
		case "/error":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func TestPhotoURLsFetched(t *testing.T) {
	host := newImageHost(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name string
		url  string
		want string // description; "" for success
	}{
		{"image", host.URL + "/photo.png", ""},
		{"deleted upload", host.URL + "/gone.jpg", FailedToGetURL},
		{"server error", host.URL + "/error", FailedToGetURL},
		{"unreachable host", closed.URL + "/photo.png", FailedToGetURL},
		{"web page", host.URL + "/page", WrongContentType},
		{"not an image under an image type", host.URL + "/html-as-png", WrongContentType},
		{"over the by-URL photo limit", host.URL + "/big.png", WrongFileIdentifier},
		{"outside the photo dimensions", host.URL + "/narrow.png", InvalidDimensions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Options{FetchURLs: true})
			r := postJSON(t, s, "sendPhoto", map[string]any{"chat_id": -1001, "photo": tt.url})
			if r.Description != tt.want || r.OK != (tt.want == "") {
				t.Fatalf("answer ok=%v %q, want %q", r.OK, r.Description, tt.want)
			}
			if tt.want != "" {
				if r.ErrorCode != http.StatusBadRequest {
					t.Errorf("error code %d", r.ErrorCode)
				}
				if n := len(s.Refused()); n != 1 {
					t.Errorf("%d refused calls recorded", n)
				}
				return
			}
			var m Message
			if err := json.Unmarshal(r.Result, &m); err != nil {
				t.Fatal(err)
			}
			if len(m.Photo) != 1 || m.Photo[0].Width != 120 || m.Photo[0].Height != 80 {
				t.Errorf("photo sizes %+v", m.Photo)
			}
			if len(s.Refused()) != 0 {
				t.Errorf("refused calls %+v", s.Refused())
			}
		})
	}
}

func TestFailedFetchIsRemembered(t *testing.T) {
	host := newImageHost(t)
	s := newServer(t, Options{FetchURLs: true})
	u := host.URL + "/gone.jpg"
	for range 2 {
		if r := postJSON(t, s, "sendPhoto", map[string]any{"chat_id": -1001, "photo": u}); r.Description != FailedToGetURL {
			t.Fatalf("answer %q", r.Description)
		}
	}
	if n := host.count("/gone.jpg"); n != 1 {
		t.Errorf("fetched %d times; Telegram keeps a failed fetch", n)
	}
}

func TestAlbumWithOneBadURL(t *testing.T) {
	host := newImageHost(t)
	s := newServer(t, Options{FetchURLs: true})
	media, _ := json.Marshal([]map[string]string{
		{"type": "photo", "media": host.URL + "/photo.png"},
		{"type": "photo", "media": host.URL + "/page"},
	})
	r := postJSON(t, s, "sendMediaGroup", map[string]any{"chat_id": -1001, "media": string(media)})
	if r.Description != WrongContentType {
		t.Fatalf("answer %q", r.Description)
	}
	if n := len(s.Messages("@news")); n != 0 {
		t.Errorf("%d messages stored from a refused album", n)
	}
}

func TestPhotoURLsUnseenWithoutFetch(t *testing.T) {
	host := newImageHost(t)
	s := newServer(t, Options{})
	if r := postJSON(t, s, "sendPhoto", map[string]any{"chat_id": -1001, "photo": host.URL + "/page"}); !r.OK {
		t.Fatalf("answer %q", r.Description)
	}
	if n := host.count("/page"); n != 0 {
		t.Errorf("fetched %d times without FetchURLs", n)
	}
}
