package telegram

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate"
)

func jpegOf(t testing.TB, w, h, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	if pad := size - buf.Len(); pad > 0 {
		buf.Write(make([]byte, pad))
	}
	return buf.Bytes()
}

// photoHost serves images for the fake to fetch by URL.
func photoHost(t *testing.T, files map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", http.DetectContentType(data))
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func checkedItem(images ...syndicate.Image) syndicate.Item {
	it := syndicate.Item{Key: "guid:1", Link: "https://news.example/2026/story/", Title: "A story", Summary: "What happened today."}
	it.Image = &images[0]
	it.Images = images[1:]
	return it
}

func TestCheckedPhotoByURLOrUpload(t *testing.T) {
	const mb = 1 << 20
	small, big := jpegOf(t, 800, 600, 0), jpegOf(t, 800, 600, 6*mb)
	huge := jpegOf(t, 800, 600, 11*mb)
	host := photoHost(t, map[string][]byte{"/small.jpg": small, "/big.jpg": big, "/huge.jpg": huge, "/pic.webp": small, "/octet.jpg": small})
	checked := func(path, typ string, size int64) syndicate.Image {
		return syndicate.Image{URL: host + path, Checked: true, Type: typ, Bytes: size}
	}
	tests := []struct {
		name  string
		image syndicate.Image
		// media is what the posted photo came from: "url", "upload" or
		// "" for a text post.
		media    string
		download bool
	}{
		{"checked JPEG within 5 MB: by URL", checked("/small.jpg", "image/jpeg", int64(len(small))), "url", false},
		{"over the 5 MB by-URL limit: uploaded", checked("/big.jpg", "image/jpeg", int64(len(big))), "upload", true},
		{"size unknown: uploaded", checked("/small.jpg", "image/jpeg", 0), "upload", true},
		{"WebP: uploaded", checked("/pic.webp", "image/webp", int64(len(small))), "upload", true},
		{"type only sniffed: uploaded", syndicate.Image{URL: host + "/octet.jpg", Checked: true, Type: "image/jpeg", Bytes: int64(len(small)), Sniffed: true}, "upload", true},
		{"over the 10 MB upload limit too: text post", checked("/huge.jpg", "image/jpeg", int64(len(huge))), "", true},
		{"unchecked: by URL as before", syndicate.Image{URL: host + "/small.jpg"}, "url", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{fake: telegramfake.Options{FetchURLs: true}})
			for path, data := range map[string][]byte{"/small.jpg": small, "/big.jpg": big, "/huge.jpg": huge, "/pic.webp": small, "/octet.jpg": small} {
				e.dl.data[host+path] = data
			}
			if _, err := e.ch.Publish(context.Background(), job(checkedItem(tt.image))); err != nil {
				t.Fatal(err)
			}
			if r := e.srv.Refused(); len(r) != 0 {
				t.Errorf("refused calls: %+v", r)
			}
			msgs := e.srv.Messages("@news_en")
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			m := msgs[0]
			switch tt.media {
			case "url":
				if m.Media != tt.image.URL {
					t.Errorf("photo from %q, want the URL", m.Media)
				}
			case "upload":
				if !strings.HasPrefix(m.Media, "upload:") {
					t.Errorf("photo from %q, want an upload", m.Media)
				}
			default:
				if m.Photo != nil || m.Text == "" {
					t.Errorf("not a text post: %+v", m)
				}
			}
			if got := len(e.dl.calls) > 0; got != tt.download {
				t.Errorf("downloaded %v, want download %v", e.dl.calls, tt.download)
			}
		})
	}
}

func TestCheckedAlbumPerImage(t *testing.T) {
	const mb = 1 << 20
	small, big := jpegOf(t, 800, 600, 0), jpegOf(t, 800, 600, 6*mb)
	host := photoHost(t, map[string][]byte{"/a.jpg": small, "/b.jpg": big, "/c.jpg": small, "/d.jpg": big})
	img := func(path string, size int) syndicate.Image {
		return syndicate.Image{URL: host + path, Checked: true, Type: "image/jpeg", Bytes: int64(size)}
	}

	t.Run("the big image uploaded, the others by URL", func(t *testing.T) {
		e := newEnv(t, envOptions{format: Format{Album: true}, fake: telegramfake.Options{FetchURLs: true}})
		e.dl.data[host+"/b.jpg"] = big
		it := checkedItem(img("/a.jpg", len(small)), img("/b.jpg", len(big)), img("/c.jpg", len(small)))
		if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
			t.Fatal(err)
		}
		if r := e.srv.Refused(); len(r) != 0 {
			t.Errorf("refused calls: %+v", r)
		}
		var got []string
		for _, m := range e.srv.Messages("@news_en") {
			got = append(got, m.Media)
		}
		want := []string{host + "/a.jpg", "upload:photo2.jpg", host + "/c.jpg"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("album media %q, want %q", got, want)
		}
	})

	t.Run("an image that can be neither fetched nor uploaded is left out", func(t *testing.T) {
		e := newEnv(t, envOptions{format: Format{Album: true}, fake: telegramfake.Options{FetchURLs: true}})
		it := checkedItem(img("/a.jpg", len(small)), img("/d.jpg", len(big)), img("/c.jpg", len(small)))
		if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
			t.Fatal(err)
		}
		if r := e.srv.Refused(); len(r) != 0 {
			t.Errorf("refused calls: %+v", r)
		}
		var got []string
		for _, m := range e.srv.Messages("@news_en") {
			got = append(got, m.Media)
		}
		if want := host + "/a.jpg " + host + "/c.jpg"; strings.Join(got, " ") != want {
			t.Errorf("album media %q, want %q", got, want)
		}
	})

	t.Run("one image left: a photo post", func(t *testing.T) {
		e := newEnv(t, envOptions{format: Format{Album: true}, fake: telegramfake.Options{FetchURLs: true}})
		it := checkedItem(img("/a.jpg", len(small)), img("/d.jpg", len(big)))
		if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
			t.Fatal(err)
		}
		if r := e.srv.Refused(); len(r) != 0 {
			t.Errorf("refused calls: %+v", r)
		}
		msgs := e.srv.Messages("@news_en")
		if len(msgs) != 1 || msgs[0].Media != host+"/a.jpg" || msgs[0].MediaGroupID != "" || msgs[0].Caption == "" {
			t.Errorf("messages %+v", msgs)
		}
	})
}

// An edit whose new photo is over the by-URL limit uploads it at once.
func TestEditUploadsCheckedBigPhoto(t *testing.T) {
	const mb = 1 << 20
	small, big := jpegOf(t, 800, 600, 0), jpegOf(t, 800, 600, 6*mb)
	host := photoHost(t, map[string][]byte{"/small.jpg": small, "/big.jpg": big})
	e := newEnv(t, envOptions{fake: telegramfake.Options{FetchURLs: true}})
	it := checkedItem(syndicate.Image{URL: host + "/small.jpg", Checked: true, Type: "image/jpeg", Bytes: int64(len(small))})
	r, err := e.ch.Publish(context.Background(), job(it))
	if err != nil {
		t.Fatal(err)
	}
	e.dl.data[host+"/big.jpg"] = big
	it.Image = &syndicate.Image{URL: host + "/big.jpg", Checked: true, Type: "image/jpeg", Bytes: int64(len(big))}
	if _, err := e.ch.Publish(context.Background(), editJob(it, r.MessageIDs)); err != nil {
		t.Fatal(err)
	}
	if r := e.srv.Refused(); len(r) != 0 {
		t.Errorf("refused calls: %+v", r)
	}
	msgs := e.srv.Messages("@news_en")
	if len(msgs) != 1 || msgs[0].Media != "upload:photo" || msgs[0].Edits != 1 {
		t.Errorf("messages %+v", msgs)
	}
}
