// Package feedtest gives other packages' tests the real-world fixture feeds
// of the feed package, normalised by the real Fetch path, so renderers can
// be checked against every item those feeds hold.
package feedtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/feed"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

// urls are the URLs fixtures are fetched from when their root-relative
// links need the site's real host; the others get a stable example URL.
var urls = map[string]string{
	"rss-relative-urls-no-xmlbase.xml": "https://www.arcgames.com/en/games/neverwinter/news/rss",
}

// Dir is the folder of the fixture feeds.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("feedtest: cannot locate the fixture feeds")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata", "feeds")
}

// Names lists the fixture feeds' file names.
func Names(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(Dir(t))
	if err != nil {
		t.Fatalf("feed fixtures: %v", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("no feed fixtures")
	}
	return names
}

// Items runs one fixture through feed.Fetch, the way the engine gets items.
// An error is the feed package's verdict on a broken fixture.
func Items(t testing.TB, name string) ([]syndicate.Item, error) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(Dir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := urls[name]
	if !ok {
		u = "https://feeds.example.org/" + name
	}
	src := feed.New(feed.Options{Client: guard.New(guard.Options{AllowPrivate: true, Transport: transport{body}})})
	spec := syndicate.FeedSpec{ID: strings.TrimSuffix(name, filepath.Ext(name)), URL: u}
	res, err := src.Fetch(context.Background(), spec, syndicate.FeedState{})
	return res.AllItems(), err
}

// transport answers every request with one document and no Content-Type,
// so that the feed is decoded from its own bytes alone and relative links
// resolve against the same URL in every run.
type transport struct{ body []byte }

func (ft transport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(ft.body)),
		ContentLength: int64(len(ft.body)),
		Request:       r,
	}, nil
}

// Golden compares got with the golden file at path, or rewrites the file
// when update is set; a difference is reported by its first line, since a
// whole feed's golden is too long to read in a test log.
func Golden(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("rendering differs from %s (run go test -update and review the diff); first difference:\n%s", path, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d\nwant: %q\n got: %q", i+1, a, b)
		}
	}
	return "(none)"
}

// RemoveStale reports the goldens in dir that no fixture renders any more
// (want lists those that do), and deletes them when update is set.
func RemoveStale(t testing.TB, dir string, want map[string]bool, update bool) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if want[e.Name()] {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if !update {
			t.Errorf("stale golden %s: no fixture renders it (run go test -update)", path)
			continue
		}
		if err := os.Remove(path); err != nil {
			t.Error(err)
		}
	}
}
