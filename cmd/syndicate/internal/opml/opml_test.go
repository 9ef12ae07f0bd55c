package opml

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func parseFile(t *testing.T, name string) ([]Outline, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(f)
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []Outline
	}{
		{"nested.opml", []Outline{
			{XMLURL: "https://freedomvoice.example/feed/", HTMLURL: "https://freedomvoice.example/", Title: "Freedom Voice", Language: "en", Categories: []string{"News", "World"}, Line: 9},
			{XMLURL: "https://freedomvoice.example/ar/feed/", HTMLURL: "https://freedomvoice.example/ar/", Title: "صوت الحرية", Language: "ar", Categories: []string{"News", "World"}, Line: 10},
			{XMLURL: "http://www.daily.example/rss.xml", Title: "Tom & Jerry Daily", Categories: []string{"News"}, Line: 12},
			{XMLURL: "https://blog.example/atom.xml", Title: "Top level", Line: 14},
		}},
		{"v1.opml", []Outline{
			{XMLURL: "http://cafe.example/index.xml", HTMLURL: "http://cafe.example/", Title: "Café news", Line: 5},
			{XMLURL: "http://scripting.example/rss.xml", Title: "Scripting News", Line: 6},
		}},
		{"bom.opml", []Outline{
			{XMLURL: "https://bom.example/feed/", Title: "With a byte order mark", Line: 3},
		}},
		{"latin1.opml", []Outline{
			{XMLURL: "http://latin1.example/feed", Title: "Café", Line: 3},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := parseFile(t, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("outlines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		line             int
		msg              string
	}{
		{name: "mismatched end tag", file: "broken.opml", line: 6, msg: "element <outline> closed by </outlin>"},
		{name: "unquoted attribute", file: "unquoted.opml", line: 4, msg: "unquoted or missing attribute value"},
		{name: "a web page", file: "html.opml", line: 2, msg: "not an OPML document: the root element is <html>"},
		{name: "no body", file: "nobody.opml", line: 5, msg: "no <body> element"},
		{name: "empty", text: "", line: 1, msg: "no OPML document"},
		{name: "cut short", text: "<opml version=\"2.0\">\n<body>\n<outline text=\"a\" xmlUrl=\"https://a.example/\">\n", line: 4, msg: "unexpected EOF"},
		{name: "two roots", text: "<opml><body/></opml>\n<opml/>", line: 2, msg: "a second root element"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.file != "" {
				_, err = parseFile(t, tc.file)
			} else {
				_, err = Parse(strings.NewReader(tc.text))
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want an *Error", err)
			}
			if pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("error = %q at line %d, want %q at line %d", pe.Msg, pe.Line, tc.msg, tc.line)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"nested.opml", "v1.opml", "broken.opml", "latin1.opml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		outlines, err := Parse(strings.NewReader(string(data)))
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, o := range outlines {
			if o.XMLURL == "" || o.Line < 1 {
				t.Fatalf("outline without URL or line: %+v", o)
			}
		}
	})
}
