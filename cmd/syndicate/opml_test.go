package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportOPML(t *testing.T) {
	src := filepath.Join("testdata", "opml", "subscriptions.opml")
	r := runCmd(t, context.Background(), nil, "import-opml", src, "--to", "tg-en,md-en", "--interval", "15m")
	if r.code != 0 {
		t.Fatalf("import-opml = %d\n%s", r.code, r.stderr)
	}
	golden(t, "opml/subscriptions.yaml", r.stdout, "")
	for _, want := range []string{
		src + ":11: language \"Albanian\" is not a language tag; left out",
		src + ":13: https://WWW.freedomvoice.example/feed/ is listed at line 9 already; skipped",
		src + ":19: xmlUrl is not an absolute http(s) URL; skipped",
		src + ": 7 feeds imported, 2 skipped",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	// The output merged into a config is valid, and the same list gives
	// the same ids.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	base := destinationsConfig(filepath.Join(dir, "state.db"), "[]")
	base = base[:strings.Index(base, "routes:")]
	writeFile(t, cfg, base+r.stdout)
	v := runCmd(t, context.Background(), platformVars, "validate", "--config", cfg)
	if v.code != 0 || !strings.Contains(v.stdout, "OK (7 feeds, 2 destinations, 1 routes)") {
		t.Errorf("validate of the imported feeds = %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	out := filepath.Join(dir, "feeds.yaml")
	again := runCmd(t, context.Background(), nil, "import-opml", "--out", out, "--to", "tg-en", "--to", "md-en", "--interval", "15m", src)
	if again.code != 0 || again.stdout != "" {
		t.Fatalf("import-opml --out = %d\nstdout %q\n%s", again.code, again.stdout, again.stderr)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != r.stdout {
		t.Errorf("--out wrote other YAML than stdout had (%v):\n%s", err, b)
	}
}

func TestImportOPMLErrors(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.opml")
	writeFile(t, broken, "<?xml version=\"1.0\"?>\n<opml version=\"2.0\">\n<body>\n<outline text=\"a\" xmlUrl=\"https://a.example/feed/\">\n</body>\n</opml>\n")
	empty := filepath.Join(dir, "empty.opml")
	writeFile(t, empty, "<opml version=\"1.0\"><head/><body>\n<outline text=\"Nothing here\"/>\n</body></opml>")
	src := filepath.Join("testdata", "opml", "subscriptions.opml")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{broken}, 1, broken + ":5: element <outline> closed by </body>"},
		{[]string{empty}, 1, empty + ": no feeds to import"},
		{[]string{filepath.Join(dir, "missing.opml")}, 1, "no such file"},
		{[]string{src, "--interval", "10s"}, 2, `--interval: "10s" is not a duration of at least 30s`},
		{[]string{src, "--interval", "often"}, 2, `--interval: "often"`},
		{[]string{src, "--to", "bad id"}, 2, `--to: "bad id" is not a destination id`},
		{[]string{}, 2, "want 1 argument(s), got 0"},
	} {
		r := runCmd(t, context.Background(), nil, append([]string{"import-opml"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("import-opml %q = %d, want %d with %q\n%s", tc.args, r.code, tc.code, tc.want, r.stderr)
		}
	}
}

func TestImportOPMLCheck(t *testing.T) {
	s := wordpressSite(t)
	dir := t.TempDir()
	list := filepath.Join(dir, "list.opml")
	writeFile(t, list, fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>x</title></head><body>
<outline text="Main" xmlUrl="%[1]s/feed/"/>
<outline text="Arabic" xmlUrl="%[1]s/ar/feed/" language="ar"/>
<outline text="Gone" xmlUrl="%[1]s/sq/feed/"/>
<outline text="Not a feed" xmlUrl="%[1]s/"/>
</body></opml>
`, s.URL))
	r := runCmd(t, context.Background(), nil, "import-opml", "--check", "--allow-private", list)
	if r.code != 0 {
		t.Fatalf("import-opml --check = %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"checking [1/4] ", "checking [4/4] ",
		list + ":5: " + s.URL + "/sq/feed/: not a feed: http 404",
		list + ":6: " + s.URL + "/: not a feed: parse feed: not an RSS, Atom or JSON feed (text/html",
		": 2 feeds imported, 2 skipped",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// The language comes from the list, else from the feed itself.
	for _, want := range []string{"url: " + s.URL + "/feed/\n    language: en-US\n", "url: " + s.URL + "/ar/feed/\n    language: ar\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "/sq/feed/") {
		t.Errorf("a feed that failed its check was imported:\n%s", r.stdout)
	}
	if r := runCmd(t, context.Background(), nil, "import-opml", "--check", list); r.code != 1 || !strings.Contains(r.stderr, "address not allowed") {
		t.Errorf("import-opml --check of loopback feeds without --allow-private = %d\n%s", r.code, r.stderr)
	}
}
