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
