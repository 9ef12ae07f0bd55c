package redisstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/redisstore"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
	"github.com/syndicate-bot/syndicate/syndicate/store/storetest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// factory builds stores on clients from newClient, each under its own
// prefix; Reopen builds a new client on the same prefix.
func factory(newClient func(t *testing.T) redis.UniversalClient) storetest.Factory {
	var mu sync.Mutex
	prefixes := map[syndicate.Store]string{}
	open := func(t *testing.T, prefix string) syndicate.Store {
		t.Helper()
		s, err := redisstore.New(newClient(t), redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		mu.Lock()
		prefixes[s] = prefix
		mu.Unlock()
		return s
	}
	return storetest.Factory{
		Open: func(t *testing.T) syndicate.Store { return open(t, redistest.Prefix(t)) },
		Reopen: func(t *testing.T, old syndicate.Store) syndicate.Store {
			mu.Lock()
			prefix := prefixes[old]
			mu.Unlock()
			if err := old.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return open(t, prefix)
		},
	}
}

// urlClient connects to the server redistest chooses; the URL is fetched
// once per top-level test so that subtests share the server.
func urlClient(t *testing.T) func(t *testing.T) redis.UniversalClient {
	url := redistest.URL(t)
	return func(t *testing.T) redis.UniversalClient {
		c, err := redisstore.NewClient(redisstore.ClientOptions{URL: url})
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		return c
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, factory(urlClient(t)))
}

func TestContractMiniredis(t *testing.T) {
	m := miniredis.RunT(t)
	storetest.Run(t, factory(func(t *testing.T) redis.UniversalClient {
		return redis.NewClient(&redis.Options{Addr: m.Addr()})
	}))
}

func TestContractCluster(t *testing.T) {
	addrs := redistest.ClusterAddrs(t)
	storetest.Run(t, factory(func(t *testing.T) redis.UniversalClient {
		c, err := redisstore.NewClient(redisstore.ClientOptions{Addrs: addrs})
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		return c
	}))
}

func TestNewRejectsBracesInPrefix(t *testing.T) {
	m := miniredis.RunT(t)
	for _, p := range []string{"a{b", "a}b"} {
		if _, err := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), redisstore.Options{Prefix: p}); err == nil {
			t.Errorf("New(prefix %q): no error", p)
		}
	}
	if _, err := redisstore.New(nil, redisstore.Options{}); err == nil {
		t.Error("New(nil client): no error")
	}
}

func TestDefaultPrefix(t *testing.T) {
	m := miniredis.RunT(t)
	s, err := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SaveFeed(context.Background(), "f", syndicate.FeedState{Primed: true}); err != nil {
		t.Fatal(err)
	}
	if keys := m.Keys(); len(keys) != 1 || keys[0] != "syndicate:{f:f}:state" {
		t.Errorf("keys = %v, want [syndicate:{f:f}:state]", keys)
	}
}

// crc16 is the CRC-16/XMODEM that Redis Cluster hashes keys with.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// hashTag returns the part of key that Redis Cluster hashes.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

func slot(key string) uint16 { return crc16([]byte(hashTag(key))) % 16384 }

func TestCRC16(t *testing.T) {
	// The check value from the Redis Cluster specification.
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16 = %#x, want 0x31c3", got)
	}
	if slot("{user1000}.following") != slot("{user1000}.followers") || slot("foo{}{bar}") != crc16([]byte("foo{}{bar}"))%16384 {
		t.Fatal("hashTag does not follow the specification")
	}
}

func TestKeyLayout(t *testing.T) {
	ctx := context.Background()
	m := miniredis.RunT(t)
	const prefix = "app:test"
	s, err := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	feeds := []string{"news", "odd}feed{x", "%7D"}
	dests := []string{"tg", "odd}dest", "%7D"}
	for _, f := range feeds {
		if err := s.SaveFeed(ctx, f, syndicate.FeedState{Primed: true}); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkSeen(ctx, f, map[string]string{"k": "fp"}, now); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.LeaseFeed(ctx, f, "w", now, time.Minute); err != nil || !ok {
			t.Fatalf("LeaseFeed = %v, %v", ok, err)
		}
	}
	for _, d := range dests {
		if err := s.SaveDestination(ctx, d, syndicate.DestinationState{PausedReason: "x"}); err != nil {
			t.Fatal(err)
		}
		it := syndicate.Item{FeedID: "news", Key: "k", Link: "https://example.org/" + d}
		jobs := []syndicate.Delivery{
			{Destination: d, ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it},
			{Destination: d, ArticleKey: it.ArticleKey() + "2", Kind: syndicate.JobPost, Item: it},
		}
		if _, err := s.Enqueue(ctx, jobs, now); err != nil {
			t.Fatal(err)
		}
		c, err := s.Claim(ctx, d, "w", now, time.Minute, 1)
		if err != nil || len(c) != 1 {
			t.Fatalf("Claim = %v, %v", c, err)
		}
		c[0].Status, c[0].FinishedAt = syndicate.StatusSent, now
		if err := s.Finish(ctx, c[0]); err != nil {
			t.Fatal(err)
		}
	}

	// Each entity's keys share one hash tag: the escaped id, whole.
	tags := map[string]bool{}
	for _, f := range feeds {
		tags["f:"+escape(f)] = true
	}
	for _, d := range dests {
		tags["d:"+escape(d)] = true
	}
	bySlotOwner := map[string]map[uint16]bool{}
	for _, key := range m.Keys() {
		if !strings.HasPrefix(key, prefix+":") {
			t.Errorf("key %q lacks the prefix %q", key, prefix)
			continue
		}
		if key == prefix+":feeds" || key == prefix+":dests" {
			continue
		}
		tag := hashTag(key)
		if !tags[tag] {
			t.Errorf("key %q has hash tag %q, not one of an escaped id", key, tag)
			continue
		}
		if bySlotOwner[tag] == nil {
			bySlotOwner[tag] = map[uint16]bool{}
		}
		bySlotOwner[tag][slot(key)] = true
	}
	for tag := range tags {
		slots := bySlotOwner[tag]
		if len(slots) != 1 {
			t.Errorf("keys of %s are in %d slots, want 1", tag, len(slots))
		}
	}
	// The suffixes are as documented.
	want := []string{"state", "seen", "fp", "lease"}
	for _, suffix := range want {
		if !m.Exists(prefix + ":{f:odd%7Dfeed%7Bx}:" + suffix) {
			t.Errorf("missing key %s", prefix+":{f:odd%7Dfeed%7Bx}:"+suffix)
		}
	}
	for _, suffix := range []string{"jobs", "items", "order", "due", "done", "seq", "state"} {
		if !m.Exists(prefix + ":{d:odd%7Ddest}:" + suffix) {
			t.Errorf("missing key %s", prefix+":{d:odd%7Ddest}:"+suffix)
		}
	}
	// "%7D" and "}" are different ids.
	if st, _ := s.LoadFeed(ctx, "}"); st.Primed {
		t.Error("feed } shares the state of feed %7D")
	}
}

func escape(id string) string {
	return strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D").Replace(id)
}

// TestPruneBounded checks that Prune deletes seen keys and records in
// batches until none is left, and leaves no empty entries behind.
func TestPruneBounded(t *testing.T) {
	ctx := context.Background()
	m := miniredis.RunT(t)
	s, err := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), redisstore.Options{Prefix: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	seen := map[string]string{}
	for i := range 1234 {
		seen[strings.Repeat("k", 1+i%7)+time.Duration(i).String()] = "fp"
	}
	if err := s.MarkSeen(ctx, "f", seen, now); err != nil {
		t.Fatal(err)
	}
	var jobs []syndicate.Delivery
	for i := range 1100 {
		it := syndicate.Item{FeedID: "f", Key: time.Duration(i).String()}
		jobs = append(jobs, syndicate.Delivery{Destination: "d", ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it})
	}
	if _, err := s.Enqueue(ctx, jobs, now); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, "d", "w", now, time.Minute, 2000)
	if err != nil || len(c) != len(jobs) {
		t.Fatalf("Claim = %d jobs, %v", len(c), err)
	}
	for _, d := range c {
		d.Status, d.FinishedAt = syndicate.StatusSent, now
		if err := s.Finish(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Prune(ctx, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, key := range m.Keys() {
		switch {
		case strings.HasSuffix(key, ":seq"), strings.HasSuffix(key, ":feeds"), strings.HasSuffix(key, ":dests"):
		default:
			t.Errorf("key %s left after pruning everything", key)
		}
	}
}

// TestFeedLeaseKeyExpires checks that a lease key outlives its lease on
// the server's clock, so that no caller loses a lease early, and then
// vanishes, so that an unreleased lease leaves nothing behind.
func TestFeedLeaseKeyExpires(t *testing.T) {
	ctx := context.Background()
	m := miniredis.RunT(t)
	s, err := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), redisstore.Options{Prefix: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const key = "p:{f:news}:lease"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if ok, err := s.LeaseFeed(ctx, "news", "a", now, time.Minute); err != nil || !ok {
		t.Fatalf("LeaseFeed = %v, %v", ok, err)
	}
	m.FastForward(time.Minute + time.Second)
	if !m.Exists(key) {
		t.Fatal("lease key gone by the time its lease expires")
	}
	// A renewal restarts the key's TTL.
	if ok, err := s.LeaseFeed(ctx, "news", "a", now.Add(time.Minute), 10*time.Minute); err != nil || !ok {
		t.Fatalf("renewal = %v, %v", ok, err)
	}
	if ttl := m.TTL(key); ttl <= 10*time.Minute {
		t.Errorf("lease key TTL after renewal = %s, want more than the 10m lease", ttl)
	}
	m.FastForward(time.Hour)
	if m.Exists(key) {
		t.Errorf("lease key still there long after its lease expired")
	}
	// Release deletes the key.
	if ok, err := s.LeaseFeed(ctx, "news", "b", now.Add(time.Hour), time.Minute); err != nil || !ok {
		t.Fatalf("LeaseFeed after expiry = %v, %v", ok, err)
	}
	if err := s.ReleaseFeed(ctx, "news", "b"); err != nil {
		t.Fatal(err)
	}
	if m.Exists(key) {
		t.Errorf("lease key left after release")
	}
}

func TestClosedStore(t *testing.T) {
	m := miniredis.RunT(t)
	s, err := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

func TestServerDown(t *testing.T) {
	m := miniredis.RunT(t)
	s, err := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1, DialerRetries: 1}), redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m.Close()
	ctx := context.Background()
	now := time.Now()
	it := syndicate.Item{FeedID: "f", Key: "k"}
	for _, c := range []struct {
		call func() error
		want string
	}{
		{func() error { _, err := s.Claim(ctx, "tg", "w", now, time.Minute, 1); return err }, "redis claim tg"},
		{func() error { _, _, err := s.BeginPoll(ctx, "f", "w", now, time.Minute); return err }, "redis begin poll f"},
		{func() error { return s.EndPoll(ctx, "f", "w", syndicate.FeedState{}, nil, now) }, "redis end poll f"},
		{func() error {
			return s.EndPoll(ctx, "f", "w", syndicate.FeedState{}, map[string]string{"k": "fp"}, now)
		}, "redis end poll f: register in syndicate:feeds"},
		{func() error {
			_, err := s.Enqueue(ctx, []syndicate.Delivery{{Destination: "tg", ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it}}, now)
			return err
		}, "redis enqueue: register in syndicate:dests"},
	} {
		if err := c.call(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("with the server down: %v, want an error saying %q", err, c.want)
		}
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	c, err := redisstore.NewClient(redisstore.ClientOptions{URL: redistest.URL(b)})
	if err != nil {
		b.Fatal(err)
	}
	s, err := redisstore.New(c, redisstore.Options{Prefix: redistest.Prefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkRoundTrip(b, s)
}

func BenchmarkRoundTripMiniredis(b *testing.B) {
	m := miniredis.RunT(b)
	s, err := redisstore.New(redis.NewClient(&redis.Options{Addr: m.Addr()}), redisstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkRoundTrip(b, s)
}

func BenchmarkPoll(b *testing.B) {
	c, err := redisstore.NewClient(redisstore.ClientOptions{URL: redistest.URL(b)})
	if err != nil {
		b.Fatal(err)
	}
	s, err := redisstore.New(c, redisstore.Options{Prefix: redistest.Prefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkPoll(b, s)
}
