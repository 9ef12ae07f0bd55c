package syndicate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

func TestPrimeMarksWithoutPosting(t *testing.T) {
	for _, tc := range []struct {
		name     string
		backfill int
		// polled: the feed was polled (and so primed) before.
		polled bool
	}{
		{name: "new feed", backfill: 0},
		{name: "new feed whose route backfills", backfill: 2},
		{name: "primed feed with a backlog", backfill: 0, polled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}, Backfill: tc.backfill})
			want := syndicate.Primed{Items: 3, Marked: 3}
			if tc.polled {
				h.src.set("en", item("a", 5))
				e := h.engine()
				if err := e.PollFeed(context.Background(), "en", true); err != nil {
					t.Fatal(err)
				}
				want.Marked = 2
			}
			h.src.set("en", item("c", 1), item("b", 2), item("a", 5))
			got, err := h.engine().Prime(context.Background(), "en")
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("Prime = %+v, want %+v", got, want)
			}
			st, err := h.store.LoadFeed(context.Background(), "en")
			if err != nil {
				t.Fatal(err)
			}
			if !st.Primed || st.LastSuccess.IsZero() {
				t.Errorf("feed state after Prime = %+v, want primed with a success", st)
			}
			if n := len(h.records("tg")); n != 0 {
				t.Errorf("Prime queued %d deliveries", n)
			}
			again, err := h.engine().Prime(context.Background(), "en")
			if err != nil || again != (syndicate.Primed{Items: 3, Marked: 0}) {
				t.Errorf("second Prime = %+v, %v; want 3 items, none newly marked", again, err)
			}

			// What the feed held is never posted; what comes after is.
			h.once()
			equal(t, "posts after priming", h.pubs["tg"].titles(), nil)
			h.src.set("en", item("d", 0), item("c", 1), item("b", 2), item("a", 5))
			h.once()
			equal(t, "posts after a new item", h.pubs["tg"].titles(), []string{"d"})
		})
	}
}

func TestPrimeErrors(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	if _, err := h.engine().Prime(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), `unknown feed "nope"`) {
		t.Errorf("Prime of an unknown feed: %v", err)
	}
	down := errors.New("connection refused")
	h.src.fail["en"] = down
	if _, err := h.engine().Prime(context.Background(), "en"); !errors.Is(err, down) {
		t.Errorf("Prime of a failing feed: %v, want the fetch error wrapped", err)
	}
	st, err := h.store.LoadFeed(context.Background(), "en")
	if err != nil || st.Primed {
		t.Errorf("failed Prime left state %+v, %v; want it unprimed", st, err)
	}
	// The lease was given back: another worker may poll the feed at once.
	if ok, err := h.store.LeaseFeed(context.Background(), "en", "other", t0, time.Minute); err != nil || !ok {
		t.Errorf("lease after a failed Prime = %v, %v; want it free", ok, err)
	}
}

func TestPrimeRespectsPollLease(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	h.src.set("en", item("a", 1))
	if ok, err := h.store.LeaseFeed(context.Background(), "en", "other-replica", t0, 10*time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if _, err := h.engine().Prime(context.Background(), "en"); err == nil || !strings.Contains(err.Error(), "being polled by another worker") {
		t.Errorf("Prime while another worker polls: %v", err)
	}
	if h.src.count("en") != 0 {
		t.Error("Prime fetched a feed another worker holds")
	}
}
