package config

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestBrokenGolden proves that one pass reports every problem of a broken
// file, each at its line and column, in order.
func TestBrokenGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "broken.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := LoadOptions{
		Getenv: mapEnv(nil),
		ReadFile: func(name string) ([]byte, error) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
	}
	_, err = Parse("testdata/broken.yaml", data, opts)
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse: %v, want *Errors", err)
	}
	var b strings.Builder
	for _, p := range errs.Problems {
		if p.File != "testdata/broken.yaml" {
			t.Errorf("problem %v has file %q", p, p.File)
		}
		fmt.Fprintf(&b, "%d:%d: %s: %s\n", p.Line, p.Column, p.Path, p.Msg)
	}
	golden := filepath.Join("testdata", "broken.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, rerr := os.ReadFile(golden)
	if rerr != nil {
		t.Fatalf("%v (run go test -update to create it)", rerr)
	}
	if b.String() != string(want) {
		t.Errorf("problems differ from %s (run go test -update and review the diff):\ngot:\n%s\nwant:\n%s", golden, b.String(), want)
	}
	if n := len(errs.Problems); n < 12 {
		t.Errorf("only %d problems", n)
	}
	// The error text is the same list, prefixed with the file name.
	first := strings.SplitN(err.Error(), "\n", 2)[0]
	if !strings.HasPrefix(first, "testdata/broken.yaml:") {
		t.Errorf("first error line %q lacks the file:line:column prefix", first)
	}
}
