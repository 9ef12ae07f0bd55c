package feed

import (
	"bytes"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// prepare turns a fetched feed body into a UTF-8 document that the feed
// parser accepts, repairing the damage real feeds show (byte order marks,
// text before the XML declaration, legacy or mislabelled encodings, junk
// after the root element) without guessing beyond what the bytes support.
// Entities that only HTML defines and bare ampersands need no repair: the
// parser reads XML leniently and decodes text with HTML's entity table.
//
// lang is the operator's language for the feed, if any: bytes that are not
// UTF-8 and carry no usable label are read in the legacy encoding of that
// language, else of the one the feed declares, else as windows-1252.
func prepare(body []byte, contentType, lang string) []byte {
	body, fromBOM := decodeBOM(body)
	body = trimLeadingSpace(body)
	if len(body) > 0 && body[0] == '{' {
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	// Anything before the first tag (stray text, whitespace) is dropped.
	if i := bytes.IndexByte(body, '<'); i > 0 {
		body = body[i:]
	}
	declared := ""
	body, declared = cutDeclaration(body)
	if !fromBOM {
		body = toUTF8(body, declared, contentCharset(contentType), lang)
	}
	body = cutAfterRoot(body)
	body = flattenDeep(body)
	return dropNonCharacters(body)
}

// decodeBOM strips a UTF-8 byte order mark and decodes UTF-16 marked by
// one (or recognisable by its zero bytes around "<"). It reports whether
// the encoding is certain from it.
func decodeBOM(b []byte) ([]byte, bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return bytes.ToValidUTF8(b[3:], []byte("\uFFFD")), true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{'<', 0, '?', 0}):
		return decodeWith(unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), b), true
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}), bytes.HasPrefix(b, []byte{0, '<', 0, '?'}):
		return decodeWith(unicode.UTF16(unicode.BigEndian, unicode.UseBOM), b), true
	}
	return b, false
}

func decodeWith(enc encoding.Encoding, b []byte) []byte {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return bytes.ToValidUTF8(out, []byte("\uFFFD"))
}

func trimLeadingSpace(b []byte) []byte {
	return bytes.TrimLeft(b, " \t\r\n\f\x00")
}

// cutDeclaration removes the XML declarations that stand before the root
// element (one after a comment or blank lines is an error for strict
// parsers; a doubled one, or one garbled as "<?xml?xml ...??>", would
// make the parser decode the text a second time by its encoding) and
// returns the encoding the first of them names. The result needs no
// declaration: it is UTF-8.
func cutDeclaration(b []byte) ([]byte, string) {
	limit := min(len(b), 4096)
	var cuts [][2]int
	for i := 0; i < limit; {
		j := bytes.Index(b[i:limit], []byte("<?xml"))
		if j < 0 {
			break
		}
		i += j
		if i+5 >= len(b) || !isXMLSpace(b[i+5]) && b[i+5] != '?' {
			i += 5 // another instruction, such as xml-stylesheet
			continue
		}
		// A declaration holds no "<": one that does not end with "?>"
		// before the next tag is garbled and ends at its ">".
		next := len(b)
		if k := bytes.IndexByte(b[i+1:], '<'); k >= 0 {
			next = i + 1 + k
		}
		end := bytes.Index(b[i:next], []byte("?>")) + 2
		if end < 2 {
			if end = bytes.IndexByte(b[i:next], '>') + 1; end < 1 {
				break
			}
		}
		cuts = append(cuts, [2]int{i, i + end})
		i += end
	}
	if len(cuts) == 0 {
		return b, ""
	}
	// Only declarations before the first element count.
	if j := firstElement(b); j >= 0 {
		for len(cuts) > 0 && cuts[len(cuts)-1][0] > j {
			cuts = cuts[:len(cuts)-1]
		}
	}
	enc := ""
	for _, c := range cuts {
		if enc = pseudoAttr(string(b[c[0]:c[1]]), "encoding"); enc != "" {
			break
		}
	}
	switch {
	case len(cuts) == 0:
		return b, ""
	case len(cuts) == 1 && cuts[0][0] == 0:
		// The usual case: nothing before the declaration, nothing to copy.
		return trimLeadingSpace(b[cuts[0][1]:]), enc
	}
	out := make([]byte, 0, len(b))
	from := 0
	for _, c := range cuts {
		out = append(out, b[from:c[0]]...)
		from = c[1]
	}
	out = append(out, b[from:]...)
	return trimLeadingSpace(out), enc
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// firstElement returns the offset of the first start tag, skipping
// processing instructions, comments and the doctype.
func firstElement(b []byte) int {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return -1
		}
		i += j
		rest := b[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			k := bytes.Index(rest, []byte("?>"))
			if k < 0 {
				return -1
			}
			i += k + 2
		case bytes.HasPrefix(rest, []byte("<!--")):
			k := bytes.Index(rest[4:], []byte("-->"))
			if k < 0 {
				return -1
			}
			i += 4 + k + 3
		case bytes.HasPrefix(rest, []byte("<!")):
			k := bytes.IndexByte(rest, '>')
			if k < 0 {
				return -1
			}
			i += k + 1
		default:
			if len(rest) > 1 && isNameStart(rest[1]) {
				return i
			}
			i++
		}
	}
	return -1
}

func isNameStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// pseudoAttr reads one pseudo-attribute of an XML declaration.
func pseudoAttr(decl, name string) string {
	i := strings.Index(decl, name)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len(name):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	end := strings.IndexByte(rest[1:], q)
	if end < 0 {
		return ""
	}
	return strings.TrimSpace(rest[1 : 1+end])
}

func contentCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return params["charset"]
}

// toUTF8 decodes b by the declared encoding, else by the HTTP charset.
// Bytes that are valid UTF-8 (with non-ASCII in them) are taken as UTF-8
// whatever the labels say: legacy text practically never validates, and
// mislabelled feeds are common. Invalid UTF-8 without a usable label is
// read in the legacy encoding of the feed's language (lang, else the one
// the document declares), unless it is mostly UTF-8 with a few stray
// bytes: a Russian or Arabic feed wrongly labelled UTF-8 was written in
// windows-1251 or windows-1256, not in windows-1252.
func toUTF8(b []byte, declared, header, lang string) []byte {
	if utf8.Valid(b) {
		return b
	}
	// A download cut inside a character is still UTF-8: the partial
	// character goes, and the text before it keeps its meaning.
	if whole := trimPartialRune(b); len(whole) < len(b) && utf8.Valid(whole) {
		return whole
	}
	for _, label := range []string{declared, header} {
		if enc := legacyEncoding(label); enc != nil {
			return decodeWith(enc, b)
		}
	}
	if mostlyUTF8(b) {
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	if lang == "" {
		lang = documentLanguage(b)
	}
	return decodeWith(languageEncoding(lang), b)
}

// languageRE finds the language a feed declares: RSS's <language> or an
// xml:lang attribute.
var languageRE = regexp.MustCompile(`<language>\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)\s*</language>|xml:lang\s*=\s*["']([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)["']`)

// documentLanguage returns the language declared near the start of a
// document (the channel's, before the items), or "".
func documentLanguage(b []byte) string {
	m := languageRE.FindSubmatch(b[:min(len(b), 8192)])
	if m == nil {
		return ""
	}
	return string(m[1]) + string(m[2])
}

// languageEncoding returns the encoding that documents in a language were
// commonly written in before UTF-8, as the HTML standard suggests browsers
// default to per locale; windows-1252 for the rest.
func languageEncoding(lang string) encoding.Encoding {
	tag := strings.ToLower(strings.ReplaceAll(lang, "_", "-"))
	base, region, _ := strings.Cut(tag, "-")
	switch base {
	case "ar", "fa", "ur":
		return charmap.Windows1256
	case "ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "tg", "tt", "ba", "sah":
		return charmap.Windows1251
	case "el":
		return charmap.ISO8859_7
	case "he", "iw":
		return charmap.Windows1255
	case "tr", "ku":
		return charmap.Windows1254
	case "cs", "sk", "hr":
		return charmap.Windows1250
	case "hu", "pl", "sl":
		return charmap.ISO8859_2
	case "lt", "lv", "et":
		return charmap.Windows1257
	case "th":
		return charmap.Windows874
	case "vi":
		return charmap.Windows1258
	case "ja":
		return japanese.ShiftJIS
	case "ko":
		return korean.EUCKR
	case "zh":
		if strings.Contains(region, "tw") || strings.Contains(region, "hk") || strings.Contains(tag, "hant") {
			return traditionalchinese.Big5
		}
		return simplifiedchinese.GB18030
	}
	return charmap.Windows1252
}

// trimPartialRune cuts the start of a multi-byte UTF-8 sequence that b
// ends in before its last byte.
func trimPartialRune(b []byte) []byte {
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < utf8.RuneSelf {
			return b
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

// legacyEncoding returns the decoder for a label that names an encoding
// other than UTF-8 and the UTF-16/32 family (a document whose bytes made
// it this far is ASCII-compatible, so a UTF-16 label is a mistake).
func legacyEncoding(label string) encoding.Encoding {
	if label == "" {
		return nil
	}
	enc, name := charset.Lookup(label)
	if enc == nil {
		return nil
	}
	switch name {
	case "utf-8", "utf-16le", "utf-16be", "replacement", "x-user-defined":
		return nil
	}
	return enc
}

// mostlyUTF8 reports whether the well-formed multi-byte sequences in b
// outnumber the invalid bytes.
func mostlyUTF8(b []byte) bool {
	valid, invalid := 0, 0
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			invalid++
		} else {
			valid++
		}
		b = b[n:]
	}
	return valid > invalid
}

// cutAfterRoot drops what follows the root element's end tag (analytics
// scripts appended by proxies, a second document).
func cutAfterRoot(b []byte) []byte {
	start := firstElement(b)
	if start < 0 {
		return b
	}
	name := b[start+1:]
	n := bytes.IndexAny(name, " \t\r\n/>")
	if n <= 0 {
		return b
	}
	closing := append([]byte("</"), name[:n]...)
	i := bytes.LastIndex(b, closing)
	if i < 0 {
		return b
	}
	j := i + len(closing)
	for j < len(b) && isXMLSpace(b[j]) {
		j++
	}
	if j < len(b) && b[j] == '>' {
		return b[:j+1]
	}
	return b
}

// dropNonCharacters removes U+FFFE and U+FFFF, which XML forbids and the
// parser rejects; control bytes are filtered by the parser itself.
func dropNonCharacters(b []byte) []byte {
	if !bytes.Contains(b, []byte("\xEF\xBF\xBE")) && !bytes.Contains(b, []byte("\xEF\xBF\xBF")) {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("\xEF\xBF\xBE"), nil)
	return bytes.ReplaceAll(b, []byte("\xEF\xBF\xBF"), nil)
}

// maxDepth is how deep elements may nest when the parser sees them; real
// feeds, the XHTML of an Atom entry included, stay far below it.
const maxDepth = 256

// flattenDeep drops the tags of elements nested deeper than maxDepth and
// keeps their text: the parser spends a stack frame and a few maps per
// level of an extension element, so a hundred thousand levels in a
// couple of megabytes would cost it a hundred times that in memory.
// Documents within the depth are returned as they are.
func flattenDeep(b []byte) []byte {
	deep := false
	deepTags(b, func(int, int) bool {
		deep = true
		return false
	})
	if !deep {
		return b
	}
	out := make([]byte, 0, len(b))
	last := 0
	deepTags(b, func(start, end int) bool {
		out = append(out, b[last:start]...)
		last = end
		return true
	})
	return append(out, b[last:]...)
}

// deepTags calls visit with the bounds of each tag nested deeper than
// maxDepth, in order, until visit returns false. An end tag closes the
// elements left open inside its own (as HTML in a description often
// leaves them), so that they do not count forever; one that closes
// nothing is left alone.
func deepTags(b []byte, visit func(start, end int) bool) {
	var open []int // offsets of the start tags of the open elements
	scanMarkup(b, func(start, end int, kind markupKind) bool {
		switch kind {
		case startTag:
			open = append(open, start)
			if len(open) > maxDepth {
				return visit(start, end)
			}
		case emptyTag:
			if len(open) >= maxDepth {
				return visit(start, end)
			}
		case endTag:
			// Looking no further than maxDepth elements down keeps a run
			// of end tags that close nothing linear.
			name := tagName(b[start+2 : end])
			for k := len(open) - 1; k >= 0 && k >= len(open)-maxDepth; k-- {
				if bytes.Equal(tagName(b[open[k]+1:]), name) {
					open = open[:k]
					if k >= maxDepth {
						return visit(start, end)
					}
					break
				}
			}
		}
		return true
	})
}

// tagName reads the element name at the start of a tag's inside.
func tagName(b []byte) []byte {
	if i := bytes.IndexAny(b, " \t\r\n/>"); i >= 0 {
		return b[:i]
	}
	return b
}

// markupKind is what a piece of markup is, for flattenDeep.
type markupKind int

const (
	otherMarkup markupKind = iota // comment, CDATA, declaration, processing instruction, stray '<'
	startTag
	endTag
	emptyTag
)

// scanMarkup calls visit with the bounds and kind of each piece of markup
// in b, in order, until visit returns false. Quoted attribute values may
// hold '>'; CDATA sections and comments are one piece each.
func scanMarkup(b []byte, visit func(start, end int, kind markupKind) bool) {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return
		}
		start := i + j
		end, kind := markupAt(b, start)
		if !visit(start, end, kind) {
			return
		}
		i = end
	}
}

// markupAt returns the end and kind of the markup that starts at b[i] ('<').
func markupAt(b []byte, i int) (int, markupKind) {
	rest := b[i:]
	until := func(from int, delim string) int {
		k := bytes.Index(rest[from:], []byte(delim))
		if k < 0 {
			return len(b)
		}
		return i + from + k + len(delim)
	}
	switch {
	case bytes.HasPrefix(rest, []byte("<!--")):
		return until(4, "-->"), otherMarkup
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		return until(9, "]]>"), otherMarkup
	case bytes.HasPrefix(rest, []byte("<?")):
		return until(2, "?>"), otherMarkup
	case bytes.HasPrefix(rest, []byte("<!")):
		// A doctype's internal subset holds '>' between brackets.
		inSubset := false
		for k := 2; k < len(rest); k++ {
			switch rest[k] {
			case '[':
				inSubset = true
			case ']':
				inSubset = false
			case '>':
				if !inSubset {
					return i + k + 1, otherMarkup
				}
			}
		}
		return len(b), otherMarkup
	case bytes.HasPrefix(rest, []byte("</")):
		return until(2, ">"), endTag
	case len(rest) > 1 && isNameStart(rest[1]):
		var quote byte
		for k := 1; k < len(rest); k++ {
			c := rest[k]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '>':
				if rest[k-1] == '/' {
					return i + k + 1, emptyTag
				}
				return i + k + 1, startTag
			}
		}
		return len(b), startTag
	}
	return i + 1, otherMarkup
}
