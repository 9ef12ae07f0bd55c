package syndicate

import (
	"cmp"
	"slices"
	"time"
)

// chronological returns the positions of items, given in document order,
// from oldest to newest, in one total order that holds however many items
// lack a date:
//
//   - The feed's direction comes from its dated items: most feeds list
//     the newest first, some the oldest; with no dated pair to tell,
//     newest first.
//   - An item's place in time is its date; an undated item takes the date
//     of the nearest dated item before it in the feed's own chronological
//     order (the item it was published after), or the earliest time when
//     none is before it.
//   - Items in the same place keep their chronological document position.
//
// Each item gets one key (a time and a position) and items are sorted by
// it, so no comparison ever weighs a date against a position.
func chronological(items []Item) []int {
	n := len(items)
	rising, falling := 0, 0
	last := time.Time{}
	for _, it := range items {
		d := it.Date()
		if d.IsZero() {
			continue
		}
		if !last.IsZero() {
			switch d.Compare(last) {
			case 1:
				rising++
			case -1:
				falling++
			}
		}
		last = d
	}
	oldestFirst := rising > falling
	// pos is each item's position counted from the feed's oldest end.
	pos := func(i int) int {
		if oldestFirst {
			return i
		}
		return n - 1 - i
	}
	type key struct {
		at  time.Time
		pos int
	}
	keys := make([]key, n)
	order := make([]int, n)
	var before time.Time // the date of the nearest dated item before, in chronological order
	for k := range n {
		i := k
		if !oldestFirst {
			i = n - 1 - k
		}
		if d := items[i].Date(); !d.IsZero() {
			before = d
		}
		keys[i] = key{at: before, pos: pos(i)}
		order[k] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := keys[a].at.Compare(keys[b].at); c != 0 {
			return c
		}
		return cmp.Compare(keys[a].pos, keys[b].pos)
	})
	return order
}

// sortOldestFirst orders items, given in document order, for posting.
func sortOldestFirst(items []Item) {
	order := chronological(items)
	sorted := make([]Item, len(items))
	for k, i := range order {
		sorted[k] = items[i]
	}
	copy(items, sorted)
}

// newest returns the n newest of items, given in document order, newest
// first.
func newest(items []Item, n int) []Item {
	if n <= 0 {
		return nil
	}
	order := chronological(items)
	n = min(n, len(order))
	out := make([]Item, 0, n)
	for k := len(order) - 1; k >= len(order)-n; k-- {
		out = append(out, items[order[k]])
	}
	return out
}

// clampDate keeps a feed's date within what a published article can have:
// a date ahead is taken as now (the article is out, since it is in the
// feed; left ahead it would stay the newest forever and could not even be
// stored past the year 9999), and a date before 1970 as 1970, as old as
// it claims, so that max_age keeps it from being posted. The zero time
// stays unknown.
func clampDate(t, now time.Time) time.Time {
	switch {
	case t.IsZero():
		return t
	case t.After(now):
		return now
	case t.Unix() < 0:
		return time.Unix(0, 0).UTC()
	}
	return t
}
