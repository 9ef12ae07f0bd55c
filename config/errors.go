package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a configuration file, located so that an
// operator can jump to it.
type Problem struct {
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Path is the field path, e.g. "telegram.channels[2].format.image".
	Path string
	Msg  string
}

// String formats the problem as "file:line:column: path: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	switch {
	case p.Line > 0 && p.Column > 0:
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	case p.Line > 0:
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors lists every problem found in one pass, so an operator fixes a
// file in one round instead of one error at a time.
type Errors struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// pos is where a node starts in the file.
type pos struct{ line, col int }

// report collects problems and knows where each decoded field was, so
// that checks made after decoding can still point at a line.
type report struct {
	file     string
	problems []Problem
	at       map[string]pos
	// bad marks paths whose value failed to decode: one problem is enough,
	// and such a value would otherwise also be reported as "required".
	bad map[string]bool
}

func newReport(file string) *report {
	return &report{file: file, at: map[string]pos{}, bad: map[string]bool{}}
}

// addAt records a problem at an explicit position.
func (r *report) addAt(p pos, path, format string, args ...any) {
	r.problems = append(r.problems, Problem{
		File: r.file, Line: p.line, Column: p.col, Path: path,
		Msg: fmt.Sprintf(format, args...),
	})
}

// add records a problem at the position of path, or of its nearest
// recorded ancestor when the field itself was not in the file, unless path
// or an ancestor already has one (which explains this one).
func (r *report) add(path, format string, args ...any) {
	for p := path; ; p = parentPath(p) {
		if r.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	r.addAt(r.where(path), path, format, args...)
}

func (r *report) where(path string) pos {
	for {
		if p, ok := r.at[path]; ok {
			return p
		}
		if path == "" {
			return pos{}
		}
		path = parentPath(path)
	}
}

// err returns the problems sorted by position, or nil when there are none.
func (r *report) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	sort.SliceStable(r.problems, func(i, j int) bool {
		a, b := r.problems[i], r.problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return &Errors{Problems: r.problems}
}

// joinKey appends a mapping key to a path, quoting keys that would make
// the path ambiguous.
func joinKey(path, key string) string {
	if !plainKey(key) {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func parentPath(path string) string {
	if strings.HasSuffix(path, `"]`) {
		if i := strings.LastIndex(path, `["`); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}
