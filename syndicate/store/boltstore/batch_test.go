package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/syndicate-bot/syndicate/syndicate"
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
			name  string
			solo  bool
			delay time.Duration
		}{
			{"update", true, 0},
			{"batch", false, DefaultBatchDelay},
			{"batch-10ms", false, 10 * time.Millisecond},
		} {
			b.Run(c.name+"/"+mode.name, func(b *testing.B) {
				ctx := context.Background()
				s := openTB(b)
				s.solo = mode.solo
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
