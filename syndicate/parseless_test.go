package syndicate_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// entrySource serves a feed as entries that the engine has normalised on
// demand, and counts what it was asked to normalise.
type entrySource struct {
	mu         sync.Mutex
	items      []syndicate.Item
	normalised int
	// withHeads offers heads (FetchResult.Heads), counted in headed.
	withHeads bool
	headed    int
}

func (s *entrySource) Fetch(_ context.Context, spec syndicate.FeedSpec, _ syndicate.FeedState) (syndicate.FetchResult, error) {
	s.mu.Lock()
	items := slices.Clone(s.items)
	s.mu.Unlock()
	res := syndicate.FetchResult{}
	for _, it := range items {
		// The raw hash: what changes when the entry's fields change.
		res.Entries = append(res.Entries, syndicate.Entry{Key: it.Key, Hash: fmt.Sprintf("%x", it.Title+"|"+it.Summary), Date: it.Published})
	}
	// serve counts the items asked for in n and returns them made by build.
	serve := func(n *int, build func(syndicate.Item) syndicate.Item) func([]int) []syndicate.Item {
		return func(idx []int) []syndicate.Item {
			s.mu.Lock()
			*n += len(idx)
			s.mu.Unlock()
			var out []syndicate.Item
			for _, i := range idx {
				out = append(out, build(items[i]))
			}
			return out
		}
	}
	res.Normalise = serve(&s.normalised, func(it syndicate.Item) syndicate.Item {
		it.FeedID = spec.ID
		return it
	})
	if s.withHeads {
		res.Heads = serve(&s.headed, func(it syndicate.Item) syndicate.Item {
			// A head has no summary, image or attachments.
			return syndicate.Item{Key: it.Key, FeedID: spec.ID, GUID: it.GUID, Link: it.Link, Title: it.Title,
				Published: it.Published, Updated: it.Updated, Categories: it.Categories, Language: it.Language, LanguageFrom: it.LanguageFrom}
		})
	}
	return res, nil
}

// takeHeads returns how many heads were asked for since the last call.
func (s *entrySource) takeHeads() int { return s.reset(&s.headed) }

func (s *entrySource) set(items ...syndicate.Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = items
}

// take returns how many items were normalised since the last call.
func (s *entrySource) take() int { return s.reset(&s.normalised) }

// reset returns a count and sets it to zero.
func (s *entrySource) reset(n *int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := *n
	*n = 0
	return v
}

// markStore records how many seen marks each EndPoll writes.
type markStore struct {
	syndicate.Store
	mu    sync.Mutex
	marks int
}

func (s *markStore) EndPoll(ctx context.Context, feedID, owner string, st syndicate.FeedState, seen map[string]string, now time.Time) error {
	s.mu.Lock()
	s.marks += len(seen)
	s.mu.Unlock()
	return s.Store.EndPoll(ctx, feedID, owner, st, seen, now)
}

func (s *markStore) take() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.marks
	s.marks = 0
	return n
}

// TestOnlyNewOrChangedItemsAreNormalised: a poll normalises and writes
// back only the entries that are new or whose raw fields changed; the
// first sight of a feed normalises none; an unchanged entry is written
// again only when its mark grows old, so that pruning never forgets it.
func TestOnlyNewOrChangedItemsAreNormalised(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}})
	src := &entrySource{}
	ms := &markStore{Store: h.store}
	var items []syndicate.Item
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		items = append(items, item(k, 2))
	}
	src.set(items...)
	e, err := syndicate.New(syndicate.Options{Store: ms, Source: src, Feeds: h.feeds, Routes: h.routes,
		Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
		Clock:        h.clock, Owner: "test", Retention: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	step := func(what string, wantNormalised, wantMarks int) {
		t.Helper()
		if _, err := e.Once(ctx); err != nil {
			t.Fatal(err)
		}
		if n, m := src.take(), ms.take(); n != wantNormalised || m != wantMarks {
			t.Errorf("%s: normalised %d, wrote %d marks; want %d and %d", what, n, m, wantNormalised, wantMarks)
		}
	}
	step("first sight", 0, 10)
	step("nothing changed", 0, 0)
	fresh := item("k", 0)
	items = append([]syndicate.Item{fresh}, items...)
	src.set(items...)
	step("one new item", 1, 1)
	if got := h.pubs["tg"].titles(); !slices.Equal(got, []string{"k"}) {
		t.Errorf("posted %v; want [k]", got)
	}
	items[0].Title = "k, corrected"
	src.set(items...)
	step("one item changed", 1, 1)
	if got := h.pubs["tg"].titles(); len(got) != 2 || got[1] != "edit:k, corrected" {
		t.Errorf("posts and edits %v; want the edit of k", got)
	}
	h.clock.Advance(31 * 24 * time.Hour)
	step("marks a month old", 0, 11)
	step("marks refreshed", 0, 0)
}

// TestOnlyItemsARouteTakesAreNormalisedWhole: when no route's filter reads
// more than an item's head, the heads of new and changed items decide, and
// only the items a route takes, or that were posted (an edit must be
// looked for), are normalised whole; a filter on words or languages needs
// every new item whole.
func TestOnlyItemsARouteTakesAreNormalisedWhole(t *testing.T) {
	byCategory := syndicate.Filter{IncludeCategories: []string{"news"}}
	byWord := syndicate.Filter{IncludeKeywords: []string{"about"}}
	byLanguage := syndicate.Filter{Languages: []string{"en"}}
	type step struct {
		what                string
		change              func(items []syndicate.Item) []syndicate.Item
		heads, whole, posts int
	}
	newNewsAndSport := func(items []syndicate.Item) []syndicate.Item {
		return append([]syndicate.Item{item("n1", 0, "News"), item("s1", 0, "sport")}, items...)
	}
	retitle := func(key string) func(items []syndicate.Item) []syndicate.Item {
		return func(items []syndicate.Item) []syndicate.Item {
			for i := range items {
				if items[i].Key == "guid:"+key {
					items[i].Title += ", corrected"
				}
			}
			return items
		}
	}
	for _, tc := range []struct {
		name   string
		filter syndicate.Filter
		steps  []step
	}{
		{"categories", byCategory, []step{
			{"a new news item and a new sport item", newNewsAndSport, 2, 1, 1},
			{"the sport item changes", retitle("s1"), 1, 0, 0},
			{"the posted news item changes", retitle("n1"), 1, 1, 1},
		}},
		{"keywords", byWord, []step{
			{"a new news item and a new sport item", newNewsAndSport, 0, 2, 2},
			{"the sport item changes", retitle("s1"), 0, 1, 1},
		}},
		{"languages", byLanguage, []step{
			{"a new news item and a new sport item", newNewsAndSport, 0, 2, 2},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}, Language: "en", Filter: tc.filter})
			src := &entrySource{withHeads: true}
			items := []syndicate.Item{item("old", 2, "news")}
			src.set(items...)
			e, err := syndicate.New(syndicate.Options{Store: h.store, Source: src, Feeds: h.feeds, Routes: h.routes,
				Destinations: []syndicate.Destination{{ID: "tg", Publisher: h.pubs["tg"], Policy: h.policy}},
				Clock:        h.clock, Owner: "test", Retention: 90 * 24 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := e.Once(ctx); err != nil {
				t.Fatal(err)
			}
			src.take()
			src.takeHeads()
			for _, st := range tc.steps {
				items = st.change(items)
				src.set(items...)
				before := len(h.pubs["tg"].titles())
				if _, err := e.Once(ctx); err != nil {
					t.Fatal(err)
				}
				posts := len(h.pubs["tg"].titles()) - before
				if heads, whole := src.takeHeads(), src.take(); heads != st.heads || whole != st.whole || posts != st.posts {
					t.Errorf("%s: %d heads, %d whole, %d posts and edits; want %d, %d, %d (sent %v)",
						st.what, heads, whole, posts, st.heads, st.whole, st.posts, h.pubs["tg"].titles())
				}
			}
		})
	}
}
