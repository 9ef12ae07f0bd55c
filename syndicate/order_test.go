package syndicate

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestChronological: the order items are posted in, and the newest for
// a backfill, on feeds mixing dated and undated items in both directions.
func TestChronological(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	// items builds a feed in document order from "title:hours ago" or
	// "title:-" for an undated item.
	items := func(spec string) []Item {
		var out []Item
		for f := range strings.FieldsSeq(spec) {
			title, ago, _ := strings.Cut(f, ":")
			it := Item{Title: title}
			if ago != "-" {
				var h int
				for _, c := range ago {
					h = h*10 + int(c-'0')
				}
				it.Published = now.Add(-time.Duration(h) * time.Hour)
			}
			out = append(out, it)
		}
		return out
	}
	titles := func(its []Item) string {
		var s []string
		for _, it := range its {
			s = append(s, it.Title)
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		name, feed, oldestFirst, newest2 string
	}{
		{"the issue's feed: old, undated, new", "old:5 undated:- new:1", "old undated new", "new undated"},
		{"newest first with an undated item between", "new:1 undated:- old:5", "old undated new", "new undated"},
		{"all dated, newest first", "c:1 b:2 a:3", "a b c", "c b"},
		{"all dated, listed out of order", "b:2 c:1 a:3", "a b c", "c b"},
		{"no dates: feeds list the newest first", "c:- b:- a:-", "a b c", "c b"},
		{"undated at the newest end", "undated:- new:1 old:5", "old new undated", "undated new"},
		{"undated at the oldest end of a newest-first feed", "new:1 old:5 undated:-", "undated old new", "new old"},
		{"oldest first, undated at both ends", "first:- a:5 b:3 last:-", "first a b last", "last b"},
		{"equal dates keep the feed's order", "y:2 x:2 w:3", "w x y", "y x"},
		{"several undated after one dated item", "new:1 u2:- u1:- old:9", "old u1 u2 new", "new u2"},
		{"one item", "only:-", "only", "only"},
		{"none", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			its := items(tt.feed)
			sorted := slices.Clone(its)
			sortOldestFirst(sorted)
			if got := titles(sorted); got != tt.oldestFirst {
				t.Errorf("posting order %q; want %q", got, tt.oldestFirst)
			}
			if got := titles(newest(its, 2)); got != tt.newest2 {
				t.Errorf("newest 2 %q; want %q", got, tt.newest2)
			}
		})
	}
}

// TestChronologicalIsTotal checks the ordering's laws on every feed of up
// to six items drawn from a few dates and undated slots: the result is a
// permutation, no dated item comes after a newer dated item or before an
// older, and the newest n are the last n posted, newest first.
func TestChronologicalIsTotal(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	choices := []time.Time{{}, now.Add(-3 * time.Hour), now.Add(-2 * time.Hour), now.Add(-time.Hour)}
	var walk func(its []Item)
	checked := 0
	walk = func(its []Item) {
		if len(its) > 0 {
			checked++
			order := chronological(its)
			if got := slices.Sorted(slices.Values(order)); !slices.Equal(got, rangeOf(len(its))) {
				t.Fatalf("order %v of %d items is not a permutation", order, len(its))
			}
			var last time.Time
			for _, i := range order {
				if d := its[i].Date(); !d.IsZero() {
					if d.Before(last) {
						t.Fatalf("feed %v: dated items out of order in %v", dates(its), order)
					}
					last = d
				}
			}
			for n := range len(its) + 1 {
				nw := newest(its, n)
				for k, it := range nw {
					if want := its[order[len(order)-1-k]]; it.Title != want.Title {
						t.Fatalf("feed %v: newest(%d)[%d] = %s; want %s", dates(its), n, k, it.Title, want.Title)
					}
				}
			}
		}
		if len(its) == 6 {
			return
		}
		for _, c := range choices {
			walk(append(slices.Clone(its), Item{Title: string(rune('a' + len(its))), Published: c}))
		}
	}
	walk(nil)
	if checked < 1000 {
		t.Errorf("checked %d feeds", checked)
	}
}

func rangeOf(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func dates(its []Item) []string {
	var out []string
	for _, it := range its {
		if it.Date().IsZero() {
			out = append(out, "-")
		} else {
			out = append(out, it.Date().Format("15h"))
		}
	}
	return out
}
