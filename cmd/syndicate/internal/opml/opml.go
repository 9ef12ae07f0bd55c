// Package opml reads OPML 1.0 and 2.0 subscription lists, as feed readers
// export them: the feeds of the outlines at any depth, with their titles,
// site links, languages and the categories they are filed under. Errors
// name the line they are on.
package opml

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// Outline is a feed of the list.
type Outline struct {
	// XMLURL is the feed's URL as written (xmlUrl).
	XMLURL string
	// HTMLURL is the site's URL (htmlUrl), Title the title (title, else
	// text), Language the language attribute; empty when absent.
	HTMLURL  string
	Title    string
	Language string
	// Categories are the titles of the outlines it is nested in, outermost
	// first.
	Categories []string
	// Line is the line of the outline's start tag.
	Line int
}

// Error is a list that cannot be read, at a line.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads an OPML document. Attribute names are matched without regard
// to case (exporters write xmlUrl, xmlurl and XMLURL); an outline without
// xmlUrl is a category, whatever its type says.
func Parse(r io.Reader) ([]Outline, error) {
	d := xml.NewDecoder(r)
	d.CharsetReader = charset.NewReaderLabel
	// Exporters copy titles from web pages, HTML entities included.
	d.Entity = xml.HTMLEntity
	var (
		out      []Outline
		stack    []string // element names from the root down
		cats     []string // category titles, one per open outline ("" for a feed)
		rootSeen bool
		bodySeen bool
	)
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &Error{Line: se.Line, Msg: strings.TrimPrefix(se.Msg, "XML syntax error: ")}
			}
			l, _ := d.InputPos()
			return nil, &Error{Line: l, Msg: err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			// line is where the decoder stood before the tag: text and
			// comments before it are tokens of their own, so it is the
			// line of the tag's "<".
			switch {
			case len(stack) == 0:
				if rootSeen {
					return nil, &Error{Line: line, Msg: "a second root element"}
				}
				rootSeen = true
				if name != "opml" {
					return nil, &Error{Line: line, Msg: fmt.Sprintf("not an OPML document: the root element is <%s>, not <opml>", t.Name.Local)}
				}
			case len(stack) == 1 && name == "body":
				bodySeen = true
			case name == "outline" && inBody(stack):
				attrs := attrMap(t.Attr)
				title := attrs["title"]
				if title == "" {
					title = attrs["text"]
				}
				title = strings.Join(strings.Fields(title), " ")
				if u := strings.TrimSpace(attrs["xmlurl"]); u != "" {
					out = append(out, Outline{
						XMLURL: u, HTMLURL: strings.TrimSpace(attrs["htmlurl"]), Title: title,
						Language: strings.TrimSpace(attrs["language"]), Categories: nonEmpty(cats), Line: line,
					})
					cats = append(cats, "")
				} else {
					cats = append(cats, title)
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			if name := strings.ToLower(t.Name.Local); name == "outline" && inBody(stack[:len(stack)-1]) {
				cats = cats[:len(cats)-1]
			}
			stack = stack[:len(stack)-1]
		}
	}
	line, _ := d.InputPos()
	switch {
	case !rootSeen:
		return nil, &Error{Line: line, Msg: "no OPML document (no <opml> element)"}
	case !bodySeen:
		return nil, &Error{Line: line, Msg: "no <body> element in <opml>"}
	}
	return out, nil
}

// inBody reports whether an element under stack is inside <opml><body>.
func inBody(stack []string) bool {
	return len(stack) >= 2 && stack[0] == "opml" && stack[1] == "body"
}

func attrMap(attrs []xml.Attr) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		k := strings.ToLower(a.Name.Local)
		if _, dup := m[k]; !dup {
			m[k] = a.Value
		}
	}
	return m
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
