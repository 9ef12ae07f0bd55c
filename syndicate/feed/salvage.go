package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"slices"
	"strings"

	"golang.org/x/net/html/charset"
)

// maxSalvageItems caps the items a lenient reading keeps, so that a
// damaged body costs at most one ordinary feed's worth of parsing again.
const maxSalvageItems = 500

// maxRootAttrs caps the attributes kept on a rebuilt root tag (namespace
// declarations, version), which keeps the check for repeats cheap.
const maxRootAttrs = 64

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
		if rootEnded {
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

// findRoot finds the first start tag named rss, RDF or feed (any prefix),
// skipping comments, processing instructions (garbled declarations
// included), doctypes, stray text and other elements before it, and
// rebuilds it with only its well-formed attributes, quoted.
func findRoot(doc []byte) (rootTag, bool) {
	for i := 0; i < len(doc); {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			return rootTag{}, false
		}
		i += j
		rest := doc[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			k := bytes.Index(rest[4:], []byte("-->"))
			if k < 0 {
				return rootTag{}, false
			}
			i += 4 + k + 3
		case bytes.HasPrefix(rest, []byte("<?")), bytes.HasPrefix(rest, []byte("<!")):
			// A declaration or instruction ends at "?>", a garbled one at
			// the next tag; a doctype at its first ">" (an internal
			// subset's declarations are then skipped one by one).
			next := len(rest)
			if k := bytes.IndexByte(rest[1:], '<'); k >= 0 {
				next = 1 + k
			}
			if k := bytes.IndexByte(rest[:next], '>'); k >= 0 {
				next = k + 1
			}
			i += next
		default:
			n := nameLen(rest[1:])
			if n == 0 {
				i++
				continue
			}
			name := rest[1 : 1+n]
			local := name[bytes.LastIndexByte(name, ':')+1:]
			item := ""
			switch strings.ToLower(string(local)) {
			case "rss", "rdf":
				item = "item"
			case "feed":
				item = "entry"
			}
			if item == "" {
				i++
				continue
			}
			tag, end, ok := rebuildStartTag(name, rest[1+n:])
			if !ok {
				return rootTag{}, false
			}
			return rootTag{name: name, tag: tag, end: i + 1 + n + end, item: item}, true
		}
	}
	return rootTag{}, false
}

// rebuildStartTag reads the attributes after an element's name up to the
// tag's ">" and writes the tag again: unquoted values are quoted, and
// attributes without a value, with a malformed or repeated name are left
// out. It returns where the tag ended in attrs, and false for a tag cut
// off or closed by "/>" (a root without content holds no items).
func rebuildStartTag(name, attrs []byte) ([]byte, int, bool) {
	out := append([]byte{'<'}, name...)
	var seen []string
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
		if p >= len(attrs) || attrs[p] != '=' {
			continue // no value
		}
		p = skipXMLSpace(attrs, p+1)
		if p >= len(attrs) {
			return nil, 0, false
		}
		var val []byte
		if c := attrs[p]; c == '"' || c == '\'' {
			k := bytes.IndexByte(attrs[p+1:], c)
			if k < 0 {
				return nil, 0, false
			}
			val, p = attrs[p+1:p+1+k], p+2+k
		} else {
			q := p
			for q < len(attrs) && !isXMLSpace(attrs[q]) && attrs[q] != '>' {
				q++
			}
			val, p = attrs[p:q], q
		}
		if nameLen(attr) != len(attr) || !isNameStart(attr[0]) || len(seen) >= maxRootAttrs || slices.Contains(seen, string(attr)) {
			continue
		}
		seen = append(seen, string(attr))
		out = append(append(append(out, ' '), attr...), '=', '"')
		out = append(append(out, attrEscaper.Replace(string(val))...), '"')
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

func skipXMLSpace(b []byte, p int) int {
	for p < len(b) && isXMLSpace(b[p]) {
		p++
	}
	return p
}

// salvageJSON keeps the members of a JSON Feed's top-level object and the
// elements of its items array that are whole, up to the first damage (a
// truncated download ends inside one), and closes the array and object.
func salvageJSON(doc []byte) (rescue, bool) {
	d := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return rescue{}, false
	}
	out := []byte{'{'}
	member := func(key string) {
		if len(out) > 1 {
			out = append(out, ',')
		}
		k, _ := json.Marshal(key) // a string always marshals
		out = append(append(out, k...), ':')
	}
	items, sawItems, cut := 0, false, false
	for !cut && d.More() {
		tok, err := d.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			cut = true
			break
		}
		if key == "items" && !sawItems {
			sawItems = true
			if tok, err := d.Token(); err != nil || tok != json.Delim('[') {
				cut = true
				break
			}
			member(key)
			out = append(out, '[')
			for d.More() {
				var raw json.RawMessage
				if items == maxSalvageItems || d.Decode(&raw) != nil {
					cut = true
					break
				}
				if items > 0 {
					out = append(out, ',')
				}
				out = append(out, raw...)
				items++
			}
			out = append(out, ']')
			if !cut {
				if _, err := d.Token(); err != nil {
					cut = true
				}
			}
			continue
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			cut = true
			break
		}
		if key != "items" {
			member(key)
			out = append(out, raw...)
		}
	}
	if !cut {
		if _, err := d.Token(); err != nil {
			cut = true
		}
	}
	if items == 0 {
		return rescue{}, false
	}
	return rescue{doc: append(out, '}'), items: items, cut: cut}, true
}
