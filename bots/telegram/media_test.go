package telegram

import (
	"errors"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate/imagehead"
	"github.com/syndicate-bot/syndicate/syndicate/imagehead/imagetest"
)

// Downloaded photos are judged by their header against Telegram's photo
// limits (10 MB, width plus height at most 10000, ratio at most 20).
func TestCheckPhoto(t *testing.T) {
	oversized := append(imagetest.JPEG(100, 100), make([]byte, maxPhotoUpload)...)
	tests := []struct {
		name   string
		data   []byte
		format string
		err    error
	}{
		{"plain 2000x1500 JPEG", imagetest.JPEG(2000, 1500), "jpeg", nil},
		{"animated GIF: Telegram keeps the first frame", imagetest.GIF(320, 240, 3), "gif", nil},
		{"APNG", imagetest.APNG(640, 480), "png", nil},
		{"at width plus height 10000", imagetest.BombPNG(6000, 4000), "png", nil},
		{"over width plus height 10000", imagetest.BombPNG(6000, 4001), "", nil},
		{"ratio over 20", imagetest.BombPNG(2100, 100), "", nil},
		{"decompression bomb", imagetest.BombPNG(100000, 100000), "", nil},
		{"over 10 MB", oversized, "", nil},
		{"SVG", imagetest.SVG(), "", imagehead.ErrSVG},
		{"web page", []byte("<!doctype html><title>gone</title>"), "", imagehead.ErrUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format, err := checkPhoto(tt.data)
			if tt.format != "" {
				if err != nil || format != tt.format {
					t.Fatalf("checkPhoto = %q, %v; want %q", format, err, tt.format)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkPhoto passed a %s photo", format)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
		})
	}
}
