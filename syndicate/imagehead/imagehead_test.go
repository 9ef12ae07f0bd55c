package imagehead

import (
	"errors"
	"runtime"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate/imagehead/imagetest"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want Header
		err  error
	}{
		{"plain JPEG", imagetest.JPEG(2000, 1500), Header{Format: "jpeg", Width: 2000, Height: 1500}, nil},
		{"still GIF", imagetest.GIF(40, 30, 1), Header{Format: "gif", Width: 40, Height: 30}, nil},
		{"animated GIF", imagetest.GIF(40, 30, 3), Header{Format: "gif", Width: 40, Height: 30, Animated: true}, nil},
		{"animated GIF, first bytes only", imagetest.GIF(40, 30, 3)[:800], Header{Format: "gif", Width: 40, Height: 30, Animated: true}, nil},
		{"still PNG", imagetest.BombPNG(640, 480), Header{Format: "png", Width: 640, Height: 480}, nil},
		{"APNG", imagetest.APNG(640, 480), Header{Format: "png", Width: 640, Height: 480, Animated: true}, nil},
		{"animated WebP", imagetest.AnimatedWebP(800, 600), Header{Format: "webp", Width: 800, Height: 600, Animated: true}, nil},
		{"at the budget", imagetest.BombPNG(10000, 5000), Header{Format: "png", Width: 10000, Height: 5000}, nil},
		{"one row over the budget", imagetest.BombPNG(10000, 5001), Header{Format: "png", Width: 10000, Height: 5001}, ErrTooManyPixels},
		{"decompression bomb", imagetest.BombPNG(100000, 100000), Header{Format: "png", Width: 100000, Height: 100000}, ErrTooManyPixels},
		{"SVG", imagetest.SVG(), Header{}, ErrSVG},
		{"SVG without declaration", []byte("\n  <svg xmlns='http://www.w3.org/2000/svg'/>"), Header{}, ErrSVG},
		{"HTML page", []byte("<!doctype html><html><body>gone</body></html>"), Header{}, ErrUnreadable},
		{"empty", nil, Header{}, ErrUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Check(tt.data, 0)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if h != tt.want {
				t.Fatalf("header %+v, want %+v", h, tt.want)
			}
		})
	}
}

// A bomb is judged from its header alone: checking it allocates nothing
// like its canvas (40 GB), nor even a row of it.
func TestBombIsNotDecoded(t *testing.T) {
	bomb := imagetest.BombPNG(100000, 100000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Check(bomb, 0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("error %v, want ErrTooManyPixels", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 256<<10 {
		t.Fatalf("checking a %d-byte bomb allocated %d bytes", len(bomb), got)
	}
}
