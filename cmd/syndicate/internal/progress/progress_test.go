package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestInteractiveNotATerminal(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, out := range map[string]any{"buffer": &bytes.Buffer{}, "file": file, "null device": devnull, "pipe": w} {
		if Interactive(out.(interface{ Write([]byte) (int, error) }), "xterm-256color") {
			t.Errorf("%s counted as a terminal", name)
		}
	}
}

func TestPlainLines(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, "checking feeds", 3, false)
	var wg sync.WaitGroup
	for _, u := range []string{"https://a.example/feed/", "https://b.example/feed/", "https://c.example/feed/"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Step(u, "ok")
		}()
	}
	wg.Wait()
	r.Done()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want one per step:\n%s", len(lines), b.String())
	}
	for i, l := range lines {
		prefix := "checking feeds [" + string(rune('1'+i)) + "/3] https://"
		if !strings.HasPrefix(l, prefix) || !strings.HasSuffix(l, ".example/feed/: ok") {
			t.Errorf("line %d = %q, want %q… ending in the outcome", i, l, prefix)
		}
	}
	if strings.ContainsAny(b.String(), "\r\x1b") {
		t.Errorf("plain output holds control characters: %q", b.String())
	}
}

func TestBarDrawsInPlace(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, "priming", 2, true)
	r.Step("en", "ok")
	r.Step("ar", "ok")
	r.Done()
	out := b.String()
	if !strings.HasPrefix(out, "\rpriming") || !strings.Contains(out, "(1/2)") {
		t.Errorf("bar output = %q, want a line redrawn with \\r showing the description and the count", out)
	}
	// Done clears the bar, so that the command's own output starts at
	// the beginning of a clean line.
	if last := out[strings.LastIndex(strings.TrimSuffix(out, "\r"), "\r"):]; strings.Trim(last, "\r ") != "" {
		t.Errorf("bar output ends with %q, want the line cleared", last)
	}
	if strings.Contains(out, "\n") {
		t.Errorf("bar output has line breaks: %q", out)
	}
}
