package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/redisstore"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
)

// tripCounter is a go-redis hook that counts network round trips: one per
// command sent alone, one per pipeline (MULTI/EXEC included), and keeps
// their commands for the failure message.
type tripCounter struct {
	mu    sync.Mutex
	trips []string
}

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.record(cmd.Name())
		return next(ctx, cmd)
	}
}

func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, cmd := range cmds {
			names[i] = cmd.Name()
		}
		c.record("pipeline(" + strings.Join(names, " ") + ")")
		return next(ctx, cmds)
	}
}

func (c *tripCounter) record(what string) {
	c.mu.Lock()
	c.trips = append(c.trips, what)
	c.mu.Unlock()
}

// take returns the round trips since the last take.
func (c *tripCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	trips := c.trips
	c.trips = nil
	return trips
}

// TestRoundTrips counts what each call the engine makes per poll and per
// delivery costs in network round trips against a real server, once the
// scripts are loaded: the cost of a feed's poll is two round trips when
// nothing changed (BeginPoll, EndPoll) and three when it did
// (SeenFingerprints for all items at once).
func TestRoundTrips(t *testing.T) {
	ctx := context.Background()
	rdb, err := redisstore.NewClient(redisstore.ClientOptions{URL: redistest.URL(t)})
	if err != nil {
		t.Fatal(err)
	}
	counter := &tripCounter{}
	rdb.AddHook(counter)
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	st := syndicate.FeedState{ETag: `"v1"`, NextPoll: now.Add(10 * time.Minute), Primed: true}
	seen := map[string]string{}
	keys := make([]string, 0, 50)
	for i := range 50 {
		k := "guid:" + strconv.Itoa(i)
		seen[k], keys = "fp"+strconv.Itoa(i), append(keys, k)
	}
	it := syndicate.Item{FeedID: "news", Key: "k", Link: "https://example.org/k"}
	job := syndicate.Delivery{Destination: "tg", ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it}

	calls := []struct {
		name  string
		call  func() error
		trips int
	}{
		{"BeginPoll taken", func() error {
			_, ok, err := s.BeginPoll(ctx, "news", "a", now, time.Minute)
			return check(ok, err, "BeginPoll refused")
		}, 1},
		{"BeginPoll refused", func() error {
			_, ok, err := s.BeginPoll(ctx, "news", "b", now, time.Minute)
			return check(!ok, err, "BeginPoll taken")
		}, 1},
		{"SeenFingerprints of 50 items", func() error {
			_, err := s.SeenFingerprints(ctx, "news", keys)
			return err
		}, 1},
		{"EndPoll with 50 seen items", func() error {
			return s.EndPoll(ctx, "news", "a", st, seen, now)
		}, 1},
		{"BeginPoll after EndPoll", func() error {
			got, ok, err := s.BeginPoll(ctx, "news", "a", now, time.Minute)
			return check(ok && got.ETag == st.ETag, err, "BeginPoll refused or lost the state")
		}, 1},
		{"EndPoll with nothing seen", func() error {
			return s.EndPoll(ctx, "news", "a", st, nil, now)
		}, 1},
		{"LoadDestination", func() error {
			_, err := s.LoadDestination(ctx, "tg")
			return err
		}, 1},
		{"Claim with nothing queued", func() error {
			got, err := s.Claim(ctx, "tg", "w", now, time.Minute, 1)
			return check(len(got) == 0, err, "Claim took a job")
		}, 1},
		{"Enqueue to three destinations", func() error {
			other, third := job, job
			other.Destination, third.Destination = "masto", "masto2"
			_, err := s.Enqueue(ctx, []syndicate.Delivery{job, other, third}, now)
			return err
		}, 1},
		{"Claim a due job", func() error {
			got, err := s.Claim(ctx, "tg", "w", now, time.Minute, 1)
			return check(len(got) == 1, err, "Claim took nothing")
		}, 1},
		{"Claim behind a live lease", func() error {
			got, err := s.Claim(ctx, "tg", "w", now, time.Minute, 1)
			return check(len(got) == 0, err, "Claim took a job")
		}, 1},
	}
	// First pass: load every script the calls use, and restore the
	// starting point (no lease, no job).
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s (warm-up): %v", c.name, err)
		}
	}
	if err := s.ReleaseFeed(ctx, "news", "a"); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, jobKeys(ctx, t, rdb)...).Err(); err != nil {
		t.Fatal(err)
	}
	counter.take()
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if trips := counter.take(); len(trips) != c.trips {
			t.Errorf("%s: %d round trips %v, want %d", c.name, len(trips), trips, c.trips)
		} else {
			t.Logf("%s: %d round trip(s) %v", c.name, len(trips), trips)
		}
	}

	// A server that lost the scripts costs one more round trip, once, and
	// still registers the feed for Prune.
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	counter.take()
	if err := s.EndPoll(ctx, "flushed", "a", st, map[string]string{"old": "fp"}, now); err != nil {
		t.Fatalf("EndPoll after SCRIPT FLUSH: %v", err)
	}
	if trips := counter.take(); len(trips) != 2 {
		t.Errorf("EndPoll after SCRIPT FLUSH: %d round trips %v, want 2", len(trips), trips)
	}
	if err := s.EndPoll(ctx, "flushed", "a", st, nil, now); err != nil {
		t.Fatal(err)
	}
	if trips := counter.take(); len(trips) != 1 {
		t.Errorf("EndPoll once reloaded: %d round trips %v, want 1", len(trips), trips)
	}
	if err := s.Prune(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SeenFingerprints(ctx, "flushed", []string{"old"}); err != nil || len(got) != 0 {
		t.Errorf("after Prune, seen = %v, %v; want the key recorded after SCRIPT FLUSH pruned", got, err)
	}
}

func check(ok bool, err error, msg string) error {
	if err != nil {
		return err
	}
	if !ok {
		return errors.New(msg)
	}
	return nil
}

// jobKeys lists the keys of destination tg, so the warm-up's job can be
// removed before the counted pass.
func jobKeys(ctx context.Context, t *testing.T, rdb redis.UniversalClient) []string {
	t.Helper()
	keys, err := rdb.Keys(ctx, "*{d:tg}*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys of tg: %v, %v", keys, err)
	}
	return keys
}

// TestIdleWritesNothing checks that what runs between polls while nothing
// happens (a destination's state and queue checked, a feed's state read,
// a prune with nothing old) changes nothing on the server: idle costs no
// writes, and so nothing to persist or replicate. It counts the server's
// changes (rdb_changes_since_last_save) on a server of its own.
func TestIdleWritesNothing(t *testing.T) {
	ctx := context.Background()
	srv, err := redistest.Start(redistest.ServerPath(t, "idle writes"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	rdb, err := redisstore.NewClient(redisstore.ClientOptions{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.New(rdb, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	changes := func() int {
		t.Helper()
		info, err := admin.Info(ctx, "persistence").Result()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "rdb_changes_since_last_save:"); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		t.Fatal("INFO persistence lacks rdb_changes_since_last_save")
		return 0
	}

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// A feed polled once, a destination waiting on a retry, one with a job
	// in flight, and one that never had anything.
	if err := s.EndPoll(ctx, "news", "a", syndicate.FeedState{NextPoll: now.Add(10 * time.Minute), Primed: true}, map[string]string{"k": "fp"}, now); err != nil {
		t.Fatal(err)
	}
	it := syndicate.Item{FeedID: "news", Key: "k", Link: "https://example.org/k"}
	later := syndicate.Delivery{Destination: "retry", ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it, NotBefore: now.Add(time.Hour)}
	busy := syndicate.Delivery{Destination: "busy", ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it}
	if _, err := s.Enqueue(ctx, []syndicate.Delivery{later, busy}, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Claim(ctx, "busy", "w", now, time.Hour, 1); err != nil || len(got) != 1 {
		t.Fatalf("Claim(busy) = %v, %v", got, err)
	}

	idle := []struct {
		name string
		call func() error
	}{
		{"LoadDestination", func() error { _, err := s.LoadDestination(ctx, "retry"); return err }},
		{"Claim with nothing queued", func() error { return claimNone(s.Claim(ctx, "quiet", "w", now, time.Minute, 1)) }},
		{"Claim before a retry is due", func() error { return claimNone(s.Claim(ctx, "retry", "w", now, time.Minute, 1)) }},
		{"Claim behind a live lease", func() error { return claimNone(s.Claim(ctx, "busy", "w2", now, time.Minute, 1)) }},
		{"LoadFeed", func() error { _, err := s.LoadFeed(ctx, "news"); return err }},
		{"LoadPush", func() error { _, err := s.LoadPush(ctx, "news"); return err }},
		{"SeenFingerprints", func() error { _, err := s.SeenFingerprints(ctx, "news", []string{"k", "x"}); return err }},
		{"List", func() error { _, err := s.List(ctx, "retry", 0); return err }},
		{"Prune with nothing old", func() error { return s.Prune(ctx, now.Add(-time.Hour)) }},
	}
	for round := range 3 {
		for _, c := range idle {
			before := changes()
			if err := c.call(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if n := changes() - before; n != 0 {
				t.Errorf("round %d: %s made %d changes, want none", round, c.name, n)
			}
		}
	}
	// The measure sees writes: a claim that takes a job is one.
	before := changes()
	if got, err := s.Claim(ctx, "retry", "w", now.Add(time.Hour), time.Minute, 1); err != nil || len(got) != 1 {
		t.Fatalf("Claim(retry) when due = %v, %v", got, err)
	}
	if changes() == before {
		t.Error("a Claim that took a job made no change: the measure is blind")
	}
}

func claimNone(got []syndicate.Delivery, err error) error {
	if err != nil {
		return err
	}
	if len(got) != 0 {
		return fmt.Errorf("claimed %s", got[0].ArticleKey)
	}
	return nil
}
