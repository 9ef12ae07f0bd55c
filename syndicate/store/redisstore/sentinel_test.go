package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/redisstore"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
	"github.com/syndicate-bot/syndicate/syndicate/store/storetest"
)

const masterName = "syndicate"

// startServer starts a redis-server for t and stops it at cleanup.
func startServer(t *testing.T, start func() (*redistest.Server, error)) *redistest.Server {
	t.Helper()
	srv, err := start()
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// startSentinel starts a Sentinel over master for t and stops it at
// cleanup.
func startSentinel(t *testing.T, path string, master *redistest.Server) *redistest.Sentinel {
	t.Helper()
	s, err := redistest.StartSentinel(path, t.TempDir(), master, masterName)
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	t.Cleanup(s.Stop)
	t.Logf("redis: sentinel %s monitors master %s (redis-server %s)", s.Addr, master.Addr, master.Version)
	return s
}

func sentinelClient(t *testing.T, s *redistest.Sentinel) redis.UniversalClient {
	t.Helper()
	c, err := redisstore.NewClient(redisstore.ClientOptions{MasterName: s.MasterName, Addrs: []string{s.Addr}})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestContractSentinel(t *testing.T) {
	path := redistest.ServerPath(t, "Redis Sentinel")
	master := startServer(t, func() (*redistest.Server, error) { return redistest.Start(path, t.TempDir()) })
	s := startSentinel(t, path, master)
	storetest.Run(t, factory(func(t *testing.T) redis.UniversalClient { return sentinelClient(t, s) }))
}

// TestSentinelFailover checks that a store keeps working through a
// Sentinel failover on the client it was built with, reaching the promoted
// replica and finding there what it wrote before.
func TestSentinelFailover(t *testing.T) {
	path := redistest.ServerPath(t, "Redis Sentinel failover")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	master := startServer(t, func() (*redistest.Server, error) { return redistest.Start(path, t.TempDir()) })
	replica := startServer(t, func() (*redistest.Server, error) { return redistest.StartReplica(path, t.TempDir(), master) })
	sentinel := startSentinel(t, path, master)

	prefix := redistest.Prefix(t)
	s, err := redisstore.New(sentinelClient(t, sentinel), redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	feed := syndicate.FeedState{ETag: `"v1"`, NextPoll: now.Add(time.Minute), Primed: true}
	if err := s.SaveFeed(ctx, "news", feed); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSeen(ctx, "news", map[string]string{"a": "fa"}, now); err != nil {
		t.Fatal(err)
	}
	var jobs []syndicate.Delivery
	for _, key := range []string{"1", "2"} {
		it := syndicate.Item{FeedID: "news", Key: "guid:" + key, Link: "https://example.org/" + key}
		jobs = append(jobs, syndicate.Delivery{Destination: "tg", ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it})
	}
	if _, err := s.Enqueue(ctx, jobs, now); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, "tg", "w", now, time.Minute, 1)
	if err != nil || len(c) != 1 {
		t.Fatalf("Claim = %v, %v", c, err)
	}
	sent := c[0]
	sent.Status, sent.SentAt, sent.FinishedAt = syndicate.StatusSent, now, now
	sent.MessageIDs = []string{"m1"}
	if err := s.Finish(ctx, sent); err != nil {
		t.Fatal(err)
	}
	waitReplicated(ctx, t, master.Addr, prefix)

	addr, err := sentinel.Failover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if addr != replica.Addr {
		t.Fatalf("master after failover %s, want the replica %s", addr, replica.Addr)
	}
	t.Logf("redis: sentinel promoted %s over %s", addr, master.Addr)

	// The old master stays up and writable for a while, so a write can
	// still land there until the client hears of the switch: poll until a
	// write through the store shows up on the promoted replica.
	promoted := redis.NewClient(&redis.Options{Addr: replica.Addr})
	defer promoted.Close()
	for i := 0; ; i++ {
		id := fmt.Sprintf("after-%d", i)
		err := s.SaveFeed(ctx, id, syndicate.FeedState{Primed: true})
		if err == nil {
			var n int64
			n, err = promoted.Exists(ctx, prefix+":{f:"+id+"}:state").Result()
			if err == nil && n == 0 {
				err = fmt.Errorf("feed %s saved but not on %s", id, replica.Addr)
			}
		}
		if err == nil {
			t.Logf("redis: the store reached the new master after %d tries", i+1)
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the store did not reach the new master: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}

	if got, err := s.LoadFeed(ctx, "news"); err != nil || !got.NextPoll.Equal(feed.NextPoll) || got.ETag != feed.ETag || !got.Primed {
		t.Errorf("feed state after failover = %+v, %v; want %+v", got, err, feed)
	}
	if got, err := s.SeenFingerprints(ctx, "news", []string{"a"}); err != nil || got["a"] != "fa" {
		t.Errorf("seen after failover = %v, %v", got, err)
	}
	if got, ok, err := s.Get(ctx, "tg", sent.ArticleKey); err != nil || !ok || got.Status != syndicate.StatusSent || len(got.MessageIDs) != 1 || got.MessageIDs[0] != "m1" {
		t.Errorf("sent record after failover = %+v, %v, %v", got, ok, err)
	}
	// The scripts run on the new master, whose script cache is empty.
	c, err = s.Claim(ctx, "tg", "w", now, time.Minute, 10)
	if err != nil || len(c) != 1 || c[0].ArticleKey != jobs[1].ArticleKey {
		t.Fatalf("Claim after failover = %v, %v; want only %s", c, err, jobs[1].ArticleKey)
	}
	c[0].Status, c[0].FinishedAt = syndicate.StatusSent, now
	if err := s.Finish(ctx, c[0]); err != nil {
		t.Errorf("Finish after failover: %v", err)
	}
}

// waitReplicated waits until the replicas of the master at addr have every
// write made so far: WAIT covers the writes of its own connection, and the
// replication stream is in order, so a marker written just before covers
// the earlier ones too.
func waitReplicated(ctx context.Context, t *testing.T, addr, prefix string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	conn := rdb.Conn()
	defer conn.Close()
	if err := conn.Set(ctx, prefix+":marker", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Wait(ctx, 1, 10*time.Second).Result()
	if err != nil || n != 1 {
		t.Fatalf("WAIT = %d replicas, %v; want 1", n, err)
	}
}
