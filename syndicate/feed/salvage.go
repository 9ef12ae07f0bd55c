package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// maxSalvageItems caps the items a lenient reading keeps, so that a
// damaged body costs at most one ordinary feed's worth of parsing again.
const maxSalvageItems = 500

// maxRootTag is the longest root start tag worth rebuilding: the parser
// looks for the root in the first 4 KB of a document only.
const maxRootTag = 4096

// attrEscaper makes an attribute value safe inside double quotes; an
// ampersand is left alone, as the parser reads a bare one leniently.
var attrEscaper = strings.NewReplacer(`"`, "&quot;", "<", "&lt;")

// rescue is what a lenient reading recovered from a document the feed
// parser rejected.
type rescue struct {
	// doc is a well-formed document holding the feed's prologue and its
	// complete items only, for the feed parser to read again.
	doc []byte
	// items counts the complete items in doc.
	items int
	// cut reports that damage (or the item cap) ended the reading before
	// the end of the document, so that what followed was left out.
	cut bool
}

// salvage reads a prepared document that did not parse leniently and
// rebuilds it from what is whole; false when no complete item is found.
// It runs in time linear in the document: the size cap on the body is the
// cap on its cost.
func salvage(doc []byte) (rescue, bool) {
	if len(doc) > 0 && doc[0] == '{' {
		return salvageJSON(doc)
	}
	return salvageXML(doc)
}

// rootTag is the start tag of a feed's root element, found past whatever
// broken prologue precedes it.
type rootTag struct {
	// name is the element name as written, prefix included.
	name []byte
	// tag is the start tag rebuilt well-formed.
	tag []byte
	// end is the offset just past the start tag in the document.
	end int
	// item is the local name of the feed's item elements.
	item string
}

// salvageXML keeps the prologue and the complete item elements of an RSS,
// RDF or Atom document, as the XML reader the feed parser uses sees them,
// up to the first damage (an element cut off, a CDATA section never
// closed, any syntax error), and closes the open channel and root.
func salvageXML(doc []byte) (rescue, bool) {
	root, ok := findRoot(doc)
	if !ok {
		return rescue{}, false
	}
	body := doc[root.end:]
	d := xml.NewDecoder(io.MultiReader(bytes.NewReader(root.tag), bytes.NewReader(body)))
	// As the feed parser reads it, so that "whole" means the same thing.
	d.Strict = false
	d.CharsetReader = charset.NewReaderLabel
	if _, err := d.Token(); err != nil {
		return rescue{}, false
	}
	base := d.InputOffset()
	var (
		depth     int    // open elements inside the root
		inChannel bool   // the open child of the root is the channel
		channel   []byte // the channel's name, as written
		items     int
		safe      int64 // offset in body after the last whole child of the root or channel
		safeInCh  bool  // whether the channel was open at safe
		rootEnded bool
		mismatch  bool
	)
	for items < maxSalvageItems {
		at := d.InputOffset() - base
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 && t.Name.Local == "channel" {
				inChannel, channel = true, elementName(body[at:])
			}
		case xml.EndElement:
			if d.InputOffset()-base > at && !closes(body[at:], t.Name.Local) {
				// An end tag for another element, which the reader takes
				// as closing every element up to it: an element left
				// without its end tag is damage.
				mismatch = true
				break
			}
			if depth == 0 {
				rootEnded, safe, safeInCh = true, at, false
				break
			}
			depth--
			if depth == 0 {
				inChannel = false
			}
			if (depth == 0 || depth == 1 && inChannel) && strings.EqualFold(t.Name.Local, root.item) {
				items++
			}
		}
		if rootEnded || mismatch {
			break
		}
		if depth == 0 || depth == 1 && inChannel {
			safe, safeInCh = d.InputOffset()-base, inChannel
		}
	}
	if items == 0 {
		return rescue{}, false
	}
	out := make([]byte, 0, len(root.tag)+int(safe)+len(channel)+len(root.name)+8)
	out = append(out, root.tag...)
	out = append(out, body[:safe]...)
	if safeInCh {
		out = append(append(append(out, "</"...), channel...), '>')
	}
	out = append(append(append(out, "</"...), root.name...), '>')
	return rescue{doc: out, items: items, cut: !rootEnded}, true
}

// closes reports whether the end tag b starts with names the element of
// the given local name.
func closes(b []byte, local string) bool {
	if !bytes.HasPrefix(b, []byte("</")) {
		return false
	}
	name := b[2 : 2+nameLen(b[2:])]
	return string(name[bytes.LastIndexByte(name, ':')+1:]) == local
}

// findRoot finds the first start tag named rss, RDF or feed (any prefix),
// skipping comments, processing instructions, doctypes, stray text and
// other elements before it, and rebuilds it with its attributes quoted.
// Instructions are first taken to end at "?>", as the parser reads them;
// when that finds no root, a garbled one ends at the next tag instead.
func findRoot(doc []byte) (rootTag, bool) {
	if r, ok := scanRoot(doc, false); ok {
		return r, true
	}
	return scanRoot(doc, true)
}

func scanRoot(doc []byte, garbled bool) (rootTag, bool) {
	for i := 0; i < len(doc); {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			return rootTag{}, false
		}
		i += j
		rest := doc[i:]
		var k int
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			k = skipPast(rest, 4, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			k = skipPast(rest, 9, "]]>")
		case bytes.HasPrefix(rest, []byte("<!")):
			k = directiveLen(rest)
		case bytes.HasPrefix(rest, []byte("<?")) && !garbled:
			k = skipPast(rest, 2, "?>")
		case bytes.HasPrefix(rest, []byte("<?")):
			k = len(rest)
			if n := bytes.IndexByte(rest[1:], '<'); n >= 0 {
				k = 1 + n
			}
			if n := bytes.IndexByte(rest[:k], '>'); n >= 0 {
				k = n + 1
			}
		default:
			n := nameLen(rest[1:])
			name := rest[1 : 1+n]
			item := ""
			switch strings.ToLower(string(name[bytes.LastIndexByte(name, ':')+1:])) {
			case "rss", "rdf":
				item = "item"
			case "feed":
				item = "entry"
			}
			if item == "" {
				k = 1 // stray "<" or another element
				break
			}
			tag, end, ok := rebuildStartTag(name, rest[1+n:])
			if !ok {
				return rootTag{}, false
			}
			return rootTag{name: name, tag: tag, end: i + 1 + n + end, item: item}, true
		}
		if k < 0 {
			return rootTag{}, false
		}
		i += k
	}
	return rootTag{}, false
}

// skipPast returns the length of b up to and including the first end at
// or after from, or -1 when there is none.
func skipPast(b []byte, from int, end string) int {
	k := bytes.Index(b[from:], []byte(end))
	if k < 0 {
		return -1
	}
	return from + k + len(end)
}

// directiveLen returns the length of the <!...> directive b starts with,
// such as a doctype with its internal subset: nested angle brackets and
// quoted text are skipped as the parser does; -1 when it never ends.
func directiveLen(b []byte) int {
	depth := 0
	var quote byte
	for i := 2; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '<':
			depth++
		case c == '>':
			if depth == 0 {
				return i + 1
			}
			depth--
		}
	}
	return -1
}

// rebuildStartTag reads the attributes after an element's name up to the
// tag's ">" and writes the tag again as the parser would read it, only
// well-formed: a value is quoted, an attribute without one gets its local
// name as the parser gives it, and a malformed name is left out. It
// returns where the tag ended in attrs, and false for a tag cut off,
// closed by "/>" (a root without content holds no items) or too long for
// the parser to find it.
func rebuildStartTag(name, attrs []byte) ([]byte, int, bool) {
	if len(name) >= maxRootTag {
		return nil, 0, false
	}
	out := append([]byte{'<'}, name...)
	for p := 0; ; {
		p = skipXMLSpace(attrs, p)
		if p >= len(attrs) {
			return nil, 0, false
		}
		switch attrs[p] {
		case '>':
			return append(out, '>'), p + 1, true
		case '/':
			if p+1 < len(attrs) && attrs[p+1] == '>' {
				return nil, 0, false
			}
			p++
			continue
		}
		q := p
		for q < len(attrs) && !isXMLSpace(attrs[q]) && attrs[q] != '=' && attrs[q] != '>' && attrs[q] != '/' && attrs[q] != '<' {
			q++
		}
		if q == p {
			p++ // a stray "<"
			continue
		}
		attr := attrs[p:q]
		p = skipXMLSpace(attrs, q)
		var val []byte
		switch {
		case p >= len(attrs) || attrs[p] != '=':
			val = attr[bytes.LastIndexByte(attr, ':')+1:]
		default:
			p = skipXMLSpace(attrs, p+1)
			if p >= len(attrs) {
				return nil, 0, false
			}
			if c := attrs[p]; c == '"' || c == '\'' {
				k := bytes.IndexByte(attrs[p+1:], c)
				if k < 0 {
					return nil, 0, false
				}
				val, p = attrs[p+1:p+1+k], p+2+k
			} else {
				// An unquoted value ends where the parser ends it; what
				// follows is read as the next attribute, as it does.
				q := p
				for q < len(attrs) && isUnquotedByte(attrs[q]) {
					q++
				}
				val, p = attrs[p:q], q
			}
		}
		if nameLen(attr) != len(attr) || !isNameStart(attr[0]) {
			continue
		}
		out = append(append(append(out, ' '), attr...), '=', '"')
		out = append(append(out, attrEscaper.Replace(string(val))...), '"')
		if len(out) > maxRootTag {
			return nil, 0, false
		}
	}
}

// nameLen is the length of the XML name b starts with, as the feed
// parser's reader accepts names.
func nameLen(b []byte) int {
	n := 0
	for n < len(b) && isNameByte(b[n]) {
		n++
	}
	return n
}

func isNameByte(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-'
}

// elementName is the name of the start tag b begins with, as written.
func elementName(b []byte) []byte {
	i := bytes.IndexByte(b, '<')
	if i < 0 {
		return nil
	}
	return b[i+1 : i+1+nameLen(b[i+1:])]
}

// isUnquotedByte reports whether the parser reads c as part of an unquoted
// attribute value (the HTML 4 set).
func isUnquotedByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '-'
}

func skipXMLSpace(b []byte, p int) int {
	for p < len(b) && isXMLSpace(b[p]) {
		p++
	}
	return p
}

// salvageJSON keeps the members of a JSON Feed's top-level object and the
// elements of its items array that are whole, up to the first damage (a
// truncated download ends inside one), and closes the array and object.
// Keys match as the parser matches them (case aside, the last one wins).
func salvageJSON(doc []byte) (rescue, bool) {
	d := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return rescue{}, false
	}
	var (
		members []byte            // the whole members but items, each followed by a comma
		items   []json.RawMessage // the whole elements of the last items array
		cut     bool
	)
	for !cut && d.More() {
		tok, err := d.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			cut = true
			break
		}
		if !strings.EqualFold(key, "items") {
			var raw json.RawMessage
			if err := d.Decode(&raw); err != nil {
				cut = true
				break
			}
			k, _ := json.Marshal(key) // a string always marshals
			members = append(append(append(append(members, k...), ':'), raw...), ',')
			continue
		}
		if tok, err := d.Token(); err != nil || tok != json.Delim('[') {
			// Not an array: the parser rejects the feed whatever follows.
			return rescue{}, false
		}
		items = items[:0]
		for d.More() {
			var raw json.RawMessage
			if len(items) == maxSalvageItems || d.Decode(&raw) != nil {
				cut = true
				break
			}
			items = append(items, raw)
		}
		if !cut {
			if _, err := d.Token(); err != nil {
				cut = true
			}
		}
	}
	if !cut {
		if _, err := d.Token(); err != nil {
			cut = true
		}
	}
	if len(items) == 0 {
		return rescue{}, false
	}
	out := append(append([]byte{'{'}, members...), `"items":[`...)
	for i, raw := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, raw...)
	}
	return rescue{doc: append(out, "]}"...), items: len(items), cut: cut}, true
}
