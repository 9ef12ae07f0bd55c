// Package imagetest crafts the images that test image handling: honest
// ones, and small files whose headers try to hurt.
package imagetest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
)

// JPEG is a plain grey photo of w×h pixels.
func JPEG(w, h int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h)), &jpeg.Options{Quality: 50}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// BombPNG is a PNG of a few dozen bytes that declares an RGBA canvas of
// w×h pixels (a decompression bomb for w = h = 100000: 40 GB decoded);
// its pixel data is one compressed row of zeros, so a decoder that trusts
// the header allocates the whole canvas and then fails.
func BombPNG(w, h uint32) []byte { return png(w, h, false) }

// APNG is an animated PNG of w×h pixels: an acTL chunk before the data
// announces two frames.
func APNG(w, h uint32) []byte { return png(w, h, true) }

func png(w, h uint32, animated bool) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits per sample, RGBA
	chunk(&b, "IHDR", ihdr)
	if animated {
		actl := make([]byte, 8)
		binary.BigEndian.PutUint32(actl, 2) // frames
		chunk(&b, "acTL", actl)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1+4*min(int(w), 64)))
	zw.Close()
	chunk(&b, "IDAT", z.Bytes())
	chunk(&b, "IEND", nil)
	return b.Bytes()
}

func chunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.Write(b, binary.BigEndian, crc.Sum32())
}

// GIF is a GIF of w×h pixels with the given number of frames; with more
// than one it loops forever, as animated GIFs on the web do.
func GIF(w, h, frames int) []byte {
	g := &gif.GIF{}
	for i := range frames {
		img := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		img.Set(i%w, 0, color.White)
		g.Image = append(g.Image, img)
		g.Delay = append(g.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// AnimatedWebP is the header of an extended WebP of w×h pixels with the
// animation flag set (WebP container specification, VP8X chunk).
func AnimatedWebP(w, h int) []byte {
	vp8x := make([]byte, 10)
	vp8x[0] = 0x02 // animation
	put24 := func(p []byte, v int) { p[0], p[1], p[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(vp8x[4:], w-1)
	put24(vp8x[7:], h-1)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+len(vp8x)))
	b.WriteString("WEBPVP8X")
	binary.Write(&b, binary.LittleEndian, uint32(len(vp8x)))
	b.Write(vp8x)
	return b.Bytes()
}

// SVG is a small SVG drawing, as sites use for logos and charts.
func SVG() []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" viewBox="0 0 1200 630"><rect width="1200" height="630" fill="#c00"/></svg>`)
}
