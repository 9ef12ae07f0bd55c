package main

import (
	"context"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate/store/redisstore"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
)

// TestBenchDeliver runs a short bench with one replica and with three
// sharing a Redis the test gives: every limit of each case gets its row,
// and the Redis keeps nothing of the run. The figures are the benchmark's
// to read, not the test's.
func TestBenchDeliver(t *testing.T) {
	url := redistest.URL(t)
	r := runCmd(t, context.Background(), nil, "bench", "deliver",
		"-duration", "3s", "-replicas", "1,3", "-chats", "3", "-mastodon-scale", "3600", "-redis", url)
	if r.code != 0 {
		t.Fatalf("bench deliver = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	if !strings.HasPrefix(lines[0], "replicas") || !strings.Contains(lines[0], "% of limit") || !strings.Contains(lines[0], "429s") {
		t.Errorf("header %q", lines[0])
	}
	for _, n := range []string{"1", "3"} {
		for _, limit := range []string{"20 per 1m0s per chat (3 chats)", "30 per 1s per bot", "300 per 3s statuses of text (3h0m0s scaled)", "30 per 500ms media of media (30m0s scaled)"} {
			found := false
			for _, l := range lines {
				found = found || strings.HasPrefix(l, n+" ") && strings.Contains(l, limit)
			}
			if !found {
				t.Errorf("no row for %s replica(s), %s in\n%s", n, limit, r.stdout)
			}
		}
	}
	client, err := redisstore.NewClient(redisstore.ClientOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if keys, err := client.Keys(context.Background(), "syndicate-bench-*").Result(); err != nil || len(keys) > 0 {
		t.Errorf("the run left %d keys in the Redis it was given (%v): %q", len(keys), err, keys)
	}
}

func TestBenchDeliverFlags(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "deliver", "--help"}, 0, "syndicate bench deliver [flags]"},
		{[]string{"bench", "deliver", "-replicas", "1,x"}, 2, `"x" is not a count of replicas`},
		{[]string{"bench", "deliver", "-duration", "0s"}, 2, "must be positive"},
		{[]string{"bench", "deliver", "extra"}, 2, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCmd(t, context.Background(), nil, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
}
