package mastodon

import (
	"bytes"
	"errors"
	"image"
	"runtime"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate/imagehead/imagetest"
)

// Images are judged by their header before anything is decoded or
// converted: what may go goes as it is, what is too large for the server
// is scaled or recompressed, and what tries to hurt is skipped.
func TestPrepareImage(t *testing.T) {
	small := DefaultLimits()
	small.ImageSizeLimit = 200 << 10
	small.ImageMatrixLimit = 1_000_000
	animated := imagetest.GIF(320, 240, 3)
	tests := []struct {
		name string
		data []byte
		lim  Limits
		// same: sent unchanged; else the type and size it becomes.
		same      bool
		wantType  string
		maxPixels int64
		skipped   bool
	}{
		{"plain 2000x1500 JPEG goes as it is", imagetest.JPEG(2000, 1500), DefaultLimits(), true, "image/jpeg", 0, false},
		{"over the server's pixels: scaled down", imagetest.JPEG(2000, 1500), small, false, "image/jpeg", 1_000_000, false},
		{"animated GIF within limits goes as it is", animated, DefaultLimits(), true, "image/gif", 0, false},
		{"animated GIF the server refuses: a still of its first frame", animated, Limits{ImageSizeLimit: 10 << 20, ImageMatrixLimit: 1 << 24, SupportedMIMETypes: []string{"image/jpeg"}}, false, "image/jpeg", 320 * 240, false},
		{"SVG is never sent", imagetest.SVG(), DefaultLimits(), false, "", 0, true},
		{"decompression bomb", imagetest.BombPNG(100000, 100000), DefaultLimits(), false, "", 0, true},
		{"over the decoding budget, under any server's bytes", imagetest.BombPNG(8000, 8000), DefaultLimits(), false, "", 0, true},
		{"web page", []byte("<!doctype html><title>404</title>"), DefaultLimits(), false, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ct, err := prepareImage(tt.data, "", tt.lim)
			if tt.skipped {
				if !errors.Is(err, errSkipMedia) {
					t.Fatalf("error %v, want the image skipped", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ct != tt.wantType {
				t.Errorf("type %q, want %q", ct, tt.wantType)
			}
			if tt.same != bytes.Equal(out, tt.data) {
				t.Fatalf("sent unchanged = %v, want %v", !tt.same, tt.same)
			}
			if tt.same {
				return
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if px := int64(cfg.Width) * int64(cfg.Height); px > tt.maxPixels || int64(len(out)) > tt.lim.ImageSizeLimit {
				t.Errorf("converted to %dx%d, %d bytes; limits %d pixels, %d bytes", cfg.Width, cfg.Height, len(out), tt.maxPixels, tt.lim.ImageSizeLimit)
			}
		})
	}
}

// A bomb is refused from its header: preparing it allocates nothing like
// its canvas. Decoding the 8000x8000 one alone would take 256 MB.
func TestPrepareImageNeverDecodesBombs(t *testing.T) {
	for _, bomb := range [][]byte{imagetest.BombPNG(100000, 100000), imagetest.BombPNG(8000, 8000)} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := prepareImage(bomb, "image/png", DefaultLimits())
		runtime.ReadMemStats(&after)
		if !errors.Is(err, errSkipMedia) {
			t.Fatalf("error %v, want the image skipped", err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Fatalf("preparing a %d-byte bomb allocated %d bytes", len(bomb), got)
		}
	}
}
