package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse proves that no input makes loading panic and that every
// failure is a sorted, non-empty *Errors.
func FuzzParse(f *testing.F) {
	seeds := []string{minimal, aliasBomb(), "", "a: &a [*a]\n", "<<: {feeds: 1}\n", "feeds: !!binary aGk=\n"}
	files, _ := filepath.Glob(filepath.Join("..", "deploy", "config*.example.yaml"))
	files = append(files, filepath.Join("testdata", "broken.yaml"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			seeds = append(seeds, string(data))
		}
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	opts := LoadOptions{
		Getenv: func(name string) (string, bool) { return "value-of-" + name, len(name)%2 == 0 },
		ReadFile: func(name string) ([]byte, error) {
			if len(name)%2 == 0 {
				return []byte("file content\n"), nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, opts)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		var errs *Errors
		if !errors.As(err, &errs) || len(errs.Problems) == 0 {
			t.Fatalf("err = %v (%T), want a non-empty *Errors", err, err)
		}
		for i := 1; i < len(errs.Problems); i++ {
			a, b := errs.Problems[i-1], errs.Problems[i]
			if a.Line > b.Line || a.Line == b.Line && a.Column > b.Column {
				t.Fatalf("problems not sorted: %v before %v", a, b)
			}
		}
	})
}
