package syndicate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
)

// BenchmarkCycle measures one worker cycle on the embedded store: a poll
// that finds 50 new items among 100, queued to two destinations and
// delivered (100 posts per op, platforms not included).
func BenchmarkCycle(b *testing.B) {
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	src := newSource()
	clock := &fakeClock{now: t0}
	pubs := []*recorder{{}, {}}
	e, err := syndicate.New(syndicate.Options{
		Store: st, Source: src, Clock: clock, Owner: "bench",
		Feeds:  []syndicate.Feed{{FeedSpec: syndicate.FeedSpec{ID: "en", PollInterval: time.Minute}, MaxAge: 1000 * time.Hour}},
		Routes: []syndicate.Route{{Feeds: []string{"en"}, To: []string{"tg", "md"}}},
		Destinations: []syndicate.Destination{
			{ID: "tg", Publisher: pubs[0]}, {ID: "md", Publisher: pubs[1]},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	items := func(from int) []syndicate.Item {
		var out []syndicate.Item
		for i := from + 99; i >= from; i-- {
			it := item(fmt.Sprintf("a%06d", i), 0)
			it.Published = t0.Add(time.Duration(i) * time.Second)
			out = append(out, it)
		}
		return out
	}
	src.set("en", items(0)...)
	if _, err := e.Once(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src.set("en", items(50*(i+1))...)
		clock.Advance(time.Minute)
		if _, err := e.Once(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := len(pubs[0].posts); got != 50*b.N {
		b.Fatalf("posted %d, want %d", got, 50*b.N)
	}
}
