package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// BenchmarkRoundTrip measures one delivery's life in s: Enqueue, Claim and
// Finish as sent, each a separate call as the engine makes them.
func BenchmarkRoundTrip(b *testing.B, s syndicate.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		job := post("bench", fmt.Sprint(i))
		i++
		if _, err := s.Enqueue(ctx, []syndicate.Delivery{job}, now); err != nil {
			b.Fatal(err)
		}
		c, err := s.Claim(ctx, "bench", "w", now, time.Minute, 1)
		if err != nil || len(c) != 1 {
			b.Fatalf("Claim = %d jobs, %v", len(c), err)
		}
		d := c[0]
		d.Status, d.SentAt, d.FinishedAt, d.MessageIDs = syndicate.StatusSent, now, now, []string{"1"}
		if err := s.Finish(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPoll measures one feed's poll in s as the engine makes it, one
// at a time: BeginPoll and EndPoll when the feed did not change ("304"),
// and with SeenFingerprints of its 10 items and 10 of them marked seen
// when it did ("200").
func BenchmarkPoll(b *testing.B, s syndicate.Store) {
	ctx := context.Background()
	for _, changed := range []bool{false, true} {
		name := "304"
		if changed {
			name = "200"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			feed := "bench-" + name
			i := 0
			for b.Loop() {
				now := t0.Add(time.Duration(i) * time.Minute)
				st, ok, err := s.BeginPoll(ctx, feed, "w", now, time.Minute)
				if err != nil || !ok {
					b.Fatalf("BeginPoll = %v, %v", ok, err)
				}
				var seen map[string]string
				if changed {
					keys := make([]string, 10)
					seen = make(map[string]string, len(keys))
					for k := range keys {
						keys[k] = fmt.Sprintf("guid:%d", i*10+k)
						seen[keys[k]] = "fingerprint"
					}
					if _, err := s.SeenFingerprints(ctx, feed, keys); err != nil {
						b.Fatal(err)
					}
				}
				st.LastAttempt, st.NextPoll = now, now.Add(10*time.Minute)
				if err := s.EndPoll(ctx, feed, "w", st, seen, now); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
