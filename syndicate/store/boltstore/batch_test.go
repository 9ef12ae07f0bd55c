package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/storetest"
)

func openTB(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "state.db"), Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestContractWritesRunTwice runs the contract with every batched write
// run twice, the first run rolled back, as DB.Batch does to the other
// calls of a batch when one fails: a write whose results or effects
// outlive its rolled-back run breaks the contract here.
func TestContractWritesRunTwice(t *testing.T) {
	open := func(t *testing.T, path string) *Store {
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		s.writes = runTwice
		return s
	}
	storetest.Run(t, storetest.Factory{
		LeasesEndWithProcess: true,
		Open:                 func(t *testing.T) syndicate.Store { return open(t, filepath.Join(t.TempDir(), "state.db")) },
		Reopen: func(t *testing.T, old syndicate.Store) syndicate.Store {
			if err := old.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return open(t, old.(*Store).Path())
		},
	})
}

// txid returns the id of the last committed write transaction: it grows
// by one per commit, and so per fsync.
func txid(tb testing.TB, s *Store) int {
	tb.Helper()
	var id int
	if err := s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		tb.Fatal(err)
	}
	return id
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// cpuTime is the CPU time the process used so far (user and system).
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConcurrentPolls measures 32 polls ending at once, as the
// engine's 32 fetch workers do: one op is 32 goroutines each ending (or
// beginning and ending) the poll of its own feed. "update" commits each
// call alone; "batch" lets concurrent calls share commits (DB.Batch) as
// the store does, "batch-10ms" with bbolt's default delay. commits/op
// counts the fsyncs, cpu-µs/op the process's CPU time.
func BenchmarkConcurrentPolls(b *testing.B) {
	const polls = 32
	st := syndicate.FeedState{ETag: `W/"abcdef"`, LastModified: "Sun, 01 Mar 2026 11:00:00 GMT", Primed: true}
	cases := []struct {
		name  string
		begin bool // BeginPoll before EndPoll
		items int  // seen items per EndPoll (0: a 304)
	}{
		{"EndPoll-304", false, 0},
		{"EndPoll-10items", false, 10},
		{"BeginEndPoll-304", true, 0},
	}
	for _, c := range cases {
		for _, mode := range []struct {
			name   string
			writes writeMode
			delay  time.Duration
		}{
			{"update", ownCommits, 0},
			{"batch", shareCommits, DefaultBatchDelay},
			{"batch-10ms", shareCommits, 10 * time.Millisecond},
		} {
			b.Run(c.name+"/mode="+mode.name, func(b *testing.B) {
				ctx := context.Background()
				s := openTB(b)
				s.writes = mode.writes
				s.db.MaxBatchDelay = mode.delay
				round := 0
				first, cpu := txid(b, s), cpuTime(b)
				b.ResetTimer()
				for b.Loop() {
					now := t0.Add(time.Duration(round) * time.Minute)
					var wg sync.WaitGroup
					errs := make(chan error, polls)
					for i := range polls {
						wg.Go(func() {
							feed, owner := fmt.Sprintf("feed-%d", i), fmt.Sprintf("w-%d", i)
							if c.begin {
								if _, ok, err := s.BeginPoll(ctx, feed, owner, now, time.Minute); err != nil || !ok {
									errs <- fmt.Errorf("BeginPoll = %v, %v", ok, err)
									return
								}
							}
							var seen map[string]string
							if c.items > 0 {
								seen = make(map[string]string, c.items)
								for k := range c.items {
									seen[fmt.Sprintf("guid:%d-%d", round, k)] = "fingerprint"
								}
							}
							if err := s.EndPoll(ctx, feed, owner, st, seen, now); err != nil {
								errs <- err
							}
						})
					}
					wg.Wait()
					close(errs)
					for err := range errs {
						b.Fatal(err)
					}
					round++
				}
				b.ReportMetric(float64(txid(b, s)-first)/float64(round), "commits/op")
				b.ReportMetric(float64((cpuTime(b)-cpu).Microseconds())/float64(round), "cpu-µs/op")
			})
		}
	}
}

// TestIdleCommitsNothing checks that what runs between polls while nothing
// happens commits nothing: no transaction id is used, so no page is
// written and no fsync made.
func TestIdleCommitsNothing(t *testing.T) {
	ctx := context.Background()
	s := openTB(t)
	now := t0
	// A feed polled once, a destination waiting on a retry, one with a job
	// in flight, one whose jobs are all sent, and one that never had any.
	if err := s.EndPoll(ctx, "news", "a", syndicate.FeedState{NextPoll: now.Add(10 * time.Minute), Primed: true}, map[string]string{"k": "fp"}, now); err != nil {
		t.Fatal(err)
	}
	it := syndicate.Item{FeedID: "news", Key: "k", Link: "https://example.org/k"}
	job := func(dest string) syndicate.Delivery {
		return syndicate.Delivery{Destination: dest, ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it}
	}
	later := job("retry")
	later.NotBefore = now.Add(time.Hour)
	if _, err := s.Enqueue(ctx, []syndicate.Delivery{later, job("busy"), job("done")}, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Claim(ctx, "busy", "w", now, time.Hour, 1); err != nil || len(got) != 1 {
		t.Fatalf("Claim(busy) = %v, %v", got, err)
	}
	sent, err := s.Claim(ctx, "done", "w", now, time.Hour, 1)
	if err != nil || len(sent) != 1 {
		t.Fatalf("Claim(done) = %v, %v", sent, err)
	}
	sent[0].Status, sent[0].FinishedAt = syndicate.StatusSent, now
	if err := s.Finish(ctx, sent[0]); err != nil {
		t.Fatal(err)
	}

	idle := []struct {
		name string
		call func() error
	}{
		{"LoadDestination", func() error { _, err := s.LoadDestination(ctx, "retry"); return err }},
		{"Claim of a destination never used", func() error { return claimNone(s.Claim(ctx, "quiet", "w", now, time.Minute, 1)) }},
		{"Claim before a retry is due", func() error { return claimNone(s.Claim(ctx, "retry", "w", now, time.Minute, 1)) }},
		{"Claim behind a live lease", func() error { return claimNone(s.Claim(ctx, "busy", "w2", now, time.Minute, 1)) }},
		{"Claim with everything sent", func() error { return claimNone(s.Claim(ctx, "done", "w", now, time.Minute, 1)) }},
		{"LoadFeed", func() error { _, err := s.LoadFeed(ctx, "news"); return err }},
		{"LoadPush", func() error { _, err := s.LoadPush(ctx, "news"); return err }},
		{"SeenFingerprints", func() error { _, err := s.SeenFingerprints(ctx, "news", []string{"k", "x"}); return err }},
		{"List", func() error { _, err := s.List(ctx, "retry", 0); return err }},
		{"Get", func() error { _, _, err := s.Get(ctx, "done", it.ArticleKey()); return err }},
		{"Prune with nothing old", func() error { return s.Prune(ctx, now.Add(-time.Hour)) }},
	}
	for round := range 3 {
		for _, c := range idle {
			before := txid(t, s)
			if err := c.call(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if n := txid(t, s) - before; n != 0 {
				t.Errorf("round %d: %s committed %d transactions, want none", round, c.name, n)
			}
		}
	}
	// The measure sees commits: a Claim that takes a job and a Prune that
	// deletes are one each.
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"Claim when due", func() error {
			got, err := s.Claim(ctx, "retry", "w", now.Add(time.Hour), time.Minute, 1)
			if err == nil && len(got) != 1 {
				err = fmt.Errorf("claimed %d jobs, want 1", len(got))
			}
			return err
		}},
		{"Prune of old entries", func() error { return s.Prune(ctx, now.Add(time.Hour)) }},
	} {
		before := txid(t, s)
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := txid(t, s) - before; n != 1 {
			t.Errorf("%s committed %d transactions, want 1", c.name, n)
		}
	}
	if got, err := s.SeenFingerprints(ctx, "news", []string{"k"}); err != nil || len(got) != 0 {
		t.Errorf("after Prune, seen = %v, %v; want nothing", got, err)
	}
	if _, ok, err := s.Get(ctx, "done", it.ArticleKey()); err != nil || ok {
		t.Errorf("after Prune, the sent record is still there (%v)", err)
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

// TestBatchSurvivesAFailingCall puts 32 writes of polls in one batch, one
// of which fails (an edit over a corrupt record). bbolt then rolls the
// batch back, runs the failing call alone and the others again: the
// failing call must report its error and leave nothing behind, and the
// others must succeed, each written once, all in one commit. (Which calls
// ran before the failing one is up to the scheduler;
// TestContractWritesRunTwice makes every write run twice.)
func TestBatchSurvivesAFailingCall(t *testing.T) {
	const calls = 32
	ctx := context.Background()
	s := openTB(t)
	saved := syndicate.FeedState{ETag: `"saved"`, Primed: true}
	for i := range calls {
		if err := s.SaveFeed(ctx, fmt.Sprintf("feed-%d", i), saved); err != nil {
			t.Fatal(err)
		}
	}
	const broken = "feed-31" // started last, so likely to run after others
	if _, err := s.Enqueue(ctx, []syndicate.Delivery{{Destination: broken, ArticleKey: "a", Kind: syndicate.JobPost}}, t0); err != nil {
		t.Fatal(err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeliveries).Bucket([]byte(broken)).Put([]byte("a"), []byte("bad"))
	})
	if err != nil {
		t.Fatal(err)
	}
	// One batch of exactly the 32 calls: it runs once all have joined.
	s.db.MaxBatchSize, s.db.MaxBatchDelay = calls, time.Hour
	before := txid(t, s)

	ended := syndicate.FeedState{ETag: `"ended"`, Primed: true}
	type result struct {
		added []syndicate.Delivery
		err   error
	}
	results := make([]result, calls)
	var wg sync.WaitGroup
	for i := range calls {
		feed := fmt.Sprintf("feed-%d", i)
		wg.Go(func() {
			r := &results[i]
			// Even: EndPoll with items seen; 7 mod 8: Enqueue (the broken
			// feed's an edit); else SaveFeed.
			switch {
			case i%2 == 0:
				r.err = s.EndPoll(ctx, feed, "me", ended, map[string]string{feed + "-item": "fp"}, t0)
			case i%8 == 7:
				kind := syndicate.JobPost
				if feed == broken {
					kind = syndicate.JobEdit
				}
				r.added, r.err = s.Enqueue(ctx, []syndicate.Delivery{{Destination: feed, ArticleKey: "a", Kind: kind}}, t0)
			default:
				r.err = s.SaveFeed(ctx, feed, ended)
			}
		})
	}
	wg.Wait()

	for i, r := range results {
		feed := fmt.Sprintf("feed-%d", i)
		switch {
		case feed == broken:
			if r.err == nil {
				t.Errorf("%s: an edit over a corrupt record succeeded", feed)
			}
			if got, err := s.db.Begin(false); err == nil {
				v := got.Bucket(bucketDeliveries).Bucket([]byte(broken)).Get([]byte("a"))
				if string(v) != "bad" {
					t.Errorf("%s: the failed edit left %q", feed, v)
				}
				got.Rollback()
			}
		case i%2 == 0:
			if r.err != nil {
				t.Errorf("%s: EndPoll: %v", feed, r.err)
			}
			if st, _ := s.LoadFeed(ctx, feed); st.ETag != ended.ETag {
				t.Errorf("%s: state after EndPoll %+v", feed, st)
			}
			if got, _ := s.SeenFingerprints(ctx, feed, []string{feed + "-item"}); len(got) != 1 {
				t.Errorf("%s: seen after EndPoll %v", feed, got)
			}
		case i%8 == 7:
			if r.err != nil || len(r.added) != 1 || r.added[0].Seq != 1 {
				t.Errorf("%s: Enqueue of one job = %+v, %v; want it added once with Seq 1", feed, r.added, r.err)
			}
			if got, err := s.List(ctx, feed, 0); err != nil || len(got) != 1 {
				t.Errorf("%s: List after Enqueue = %+v, %v; want one job", feed, got, err)
			}
		default:
			if st, _ := s.LoadFeed(ctx, feed); r.err != nil || st.ETag != ended.ETag {
				t.Errorf("%s: SaveFeed = %v, state %+v", feed, r.err, st)
			}
		}
	}
	// The failed run and the failing call's own were rolled back; the
	// other 31 committed together.
	if n := txid(t, s) - before; n != 1 {
		t.Errorf("the batch took %d commits, want 1", n)
	}
}
