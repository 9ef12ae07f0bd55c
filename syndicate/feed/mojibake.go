package feed

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// mojibakeMarkers are what UTF-8 looks like after being read as
// windows-1252 and encoded again: curly quotes and dashes ("â€™"),
// accented letters ("Ã©"), no-break spaces ("Â "), emoji ("ðŸ"), and
// Cyrillic and Arabic letters. None of them occurs in real text.
var mojibakeMarkers = []string{
	"â€", "â„¢", "Ã©", "Ã¨", "Ã\u00a0", "Ã¢", "Ã§", "Ã¤", "Ã¶", "Ã¼", "ÃŸ", "Ã±", "Ã¡",
	"Ã³", "Ãº", "Ã­", "Ã‰", "Ã¯", "Ã®", "Ã´", "Ã»", "Ã«", "Ãª", "Ã£", "Ãµ",
	"Â\u00a0", "Â«", "Â»", "Â©", "Â®", "Â°", "Â·", "Â£", "ðŸ",
	"Ð°", "Ð¾", "Ðµ", "Ð¸", "Ñ€", "Ñ‚", "Ø§", "Ù„", "Ù…", "Ú©",
}

// fixMojibake undoes a double UTF-8 encoding in texts that show its
// unmistakable marks: each run of characters whose windows-1252 bytes form
// one valid UTF-8 sequence becomes that character. Texts without the
// marks are left alone, so real "Gruß“" or "CAFÉ’S" never change.
func fixMojibake(s string) string {
	if !hasMojibake(s) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(rs); {
		if r, n := sequenceAt(rs[i:]); n > 0 {
			b.WriteRune(r)
			i += n
			continue
		}
		b.WriteRune(rs[i])
		i++
	}
	return b.String()
}

// sequenceAt decodes the runes at the start of rs that, as windows-1252
// bytes, spell one valid multi-byte UTF-8 sequence; n is 0 if they do not.
func sequenceAt(rs []rune) (r rune, n int) {
	lead, ok := cp1252Byte(rs[0])
	if !ok {
		return 0, 0
	}
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		n = 2
	case lead >= 0xE0 && lead <= 0xEF:
		n = 3
	case lead >= 0xF0 && lead <= 0xF4:
		n = 4
	default:
		return 0, 0
	}
	if len(rs) < n {
		return 0, 0
	}
	var buf [4]byte
	buf[0] = lead
	for i, c := range rs[1:n] {
		cb, ok := cp1252Byte(c)
		if !ok || cb < 0x80 || cb > 0xBF {
			return 0, 0
		}
		buf[i+1] = cb
	}
	r, size := utf8.DecodeRune(buf[:n])
	if r == utf8.RuneError || size != n {
		return 0, 0
	}
	return r, n
}

// cp1252Byte is the windows-1252 byte of r; the five bytes windows-1252
// leaves undefined come through decoders as C1 controls.
func cp1252Byte(r rune) (byte, bool) {
	if r < 0xA0 {
		return byte(r), true
	}
	return charmap.Windows1252.EncodeRune(r)
}

func hasMojibake(s string) bool {
	// All markers start with a rune from U+00C2 to U+00DF or U+00E2, U+00F0.
	if strings.IndexFunc(s, func(r rune) bool { return r >= 0xC2 && r <= 0xF0 }) < 0 {
		return false
	}
	for _, m := range mojibakeMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
