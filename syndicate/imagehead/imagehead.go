// Package imagehead reads what an image's header declares (format, pixel
// size, animation) without decoding its pixels, so that an image is judged
// before any decoder allocates for it: a few hundred bytes of PNG may
// declare a 100000×100000 canvas, 40 GB once decoded.
package imagehead

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // the formats feeds carry
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"
)

// PixelBudget is the most pixels an image may have to be decoded at all:
// decoding costs 4 bytes a pixel (8 for 16-bit PNG), so 50 megapixels is
// 200 to 400 MB, and no platform keeps more (Telegram photos have at most
// 25 megapixels, width plus height being at most 10000; Mastodon scales
// images down to about 8.3).
const PixelBudget = 50_000_000

// Errors Read and Check fail with; test with errors.Is.
var (
	// ErrSVG: the data is an SVG drawing, which no platform takes as a
	// photo and which is never rasterised here.
	ErrSVG = errors.New("SVG drawing")
	// ErrUnreadable: the data is no image of a format read here.
	ErrUnreadable = errors.New("not a readable image")
	// ErrTooManyPixels: the image declares more pixels than the budget.
	ErrTooManyPixels = errors.New("too many pixels to decode")
)

// Header is what an image declares about itself.
type Header struct {
	// Format is "jpeg", "png", "gif" or "webp".
	Format        string
	Width, Height int
	// Animated says the image has more than one frame (GIF, APNG or
	// animated WebP); as far as the data given shows.
	Animated bool
}

// Pixels is the image's area.
func (h Header) Pixels() int64 { return int64(h.Width) * int64(h.Height) }

// Read reads the header of data, which may be just the file's beginning.
func Read(data []byte) (Header, error) {
	if isSVG(data) {
		return Header{}, ErrSVG
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Header{}, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	h := Header{Format: format, Width: cfg.Width, Height: cfg.Height}
	switch format {
	case "gif":
		h.Animated = gifAnimated(data)
	case "png":
		h.Animated = pngAnimated(data)
	case "webp":
		h.Animated = webpAnimated(data)
	}
	return h, nil
}

// Check reads the header of data and refuses an image over budget pixels
// (PixelBudget when budget is 0 or less).
func Check(data []byte, budget int64) (Header, error) {
	if budget <= 0 {
		budget = PixelBudget
	}
	h, err := Read(data)
	if err != nil {
		return h, err
	}
	if h.Width <= 0 || h.Height <= 0 {
		return h, fmt.Errorf("%w: %s of %dx%d", ErrUnreadable, h.Format, h.Width, h.Height)
	}
	if h.Pixels() > budget {
		return h, fmt.Errorf("%w: %s of %dx%d is over %d pixels", ErrTooManyPixels, h.Format, h.Width, h.Height, budget)
	}
	return h, nil
}

// isSVG reports an SVG document: markup whose first kilobyte opens an
// <svg> element, with or without an XML declaration or doctype first.
func isSVG(data []byte) bool {
	head := data[:min(len(data), 1024)]
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if !bytes.HasPrefix(head, []byte("<")) {
		return false
	}
	return bytes.Contains(bytes.ToLower(head), []byte("<svg"))
}

// gifAnimated walks the GIF's blocks (GIF89a specification, sections 18
// to 26) and reports two image descriptors, or the NETSCAPE2.0 looping
// extension, which animated GIFs carry before their first frame.
func gifAnimated(d []byte) bool {
	if len(d) < 13 {
		return false
	}
	i := 13
	if d[10]&0x80 != 0 {
		i += 3 << (d[10]&7 + 1)
	}
	frames := 0
	for i < len(d) {
		switch d[i] {
		case 0x21: // extension: label, then data sub-blocks
			if i+2 < len(d) && d[i+1] == 0xff && d[i+2] >= 11 && bytes.HasPrefix(d[i+3:], []byte("NETSCAPE2.0")) {
				return true
			}
			i = skipSubBlocks(d, i+2)
		case 0x2c: // image descriptor, local colour table, LZW code size
			frames++
			if frames > 1 {
				return true
			}
			if i+10 > len(d) {
				return false
			}
			flags := d[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << (flags&7 + 1)
			}
			i = skipSubBlocks(d, i+1)
		default: // trailer or damage
			return false
		}
	}
	return false
}

// skipSubBlocks returns the index after the data sub-blocks starting at i.
func skipSubBlocks(d []byte, i int) int {
	for i < len(d) {
		n := int(d[i])
		i++
		if n == 0 {
			return i
		}
		i += n
	}
	return len(d)
}

// pngAnimated reports an APNG: an acTL chunk before the first IDAT (APNG
// specification, "Structure").
func pngAnimated(d []byte) bool {
	for i := 8; i+8 <= len(d); {
		n := int(binary.BigEndian.Uint32(d[i:]))
		switch string(d[i+4 : i+8]) {
		case "acTL":
			return true
		case "IDAT":
			return false
		}
		if n < 0 || n > len(d) {
			return false
		}
		i += 12 + n
	}
	return false
}

// webpAnimated reports the animation flag of an extended WebP's VP8X
// chunk (WebP container specification, "Extended File Format").
func webpAnimated(d []byte) bool {
	return len(d) >= 21 && string(d[12:16]) == "VP8X" && d[20]&0x02 != 0
}
