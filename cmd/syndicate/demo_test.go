package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDemoServeSite: the sample site alone, its feeds declaring one
// language, for pointing a real config at it.
func TestDemoServeSite(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--serve-site", "--declare-language", "en-US"}, env{lookup: func(string) (string, bool) { return "", false }}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var feeds []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "http://") {
			feeds = append(feeds, line)
		}
		if strings.HasPrefix(line, "Serving until interrupted") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if len(feeds) != 4 {
		t.Fatalf("feeds listed: %q", feeds)
	}
	for _, u := range feeds {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "<language>en-US</language>") {
			t.Errorf("%s does not declare en-US", u)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("demo --serve-site = %d after interrupt", code)
	}
}
