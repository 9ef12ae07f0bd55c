package workertest

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate"
)

// Articles finds the numbers of the articles a post links to.
type Articles func(texts ...string) []int

// ArticleNumbers returns an Articles that reads a number from the first
// group of each match of re, each number once.
func ArticleNumbers(re *regexp.Regexp) Articles {
	return func(texts ...string) []int {
		var out []int
		for _, s := range texts {
			for _, m := range re.FindAllStringSubmatch(s, -1) {
				n, err := strconv.Atoi(m[1])
				if err == nil && !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
		return out
	}
}

// Tally counts, per destination, the posts of each article a follower
// sees; posts that link to no article or to several count as strays.
type Tally struct {
	Posts  map[string]map[int]int
	Strays map[string]int
	// Order lists each destination's articles as they were posted.
	Order map[string][]int
}

// NewTally returns an empty tally.
func NewTally() Tally {
	return Tally{Posts: map[string]map[int]int{}, Strays: map[string]int{}, Order: map[string][]int{}}
}

// Add counts one post on dest linking to arts.
func (tl Tally) Add(dest string, arts []int) {
	if tl.Posts[dest] == nil {
		tl.Posts[dest] = map[int]int{}
	}
	if len(arts) != 1 {
		tl.Strays[dest]++
		return
	}
	tl.Posts[dest][arts[0]]++
	tl.Order[dest] = append(tl.Order[dest], arts[0])
}

// AddTelegram counts a chat's messages on dest, reading the links of the
// text, the caption, their entities and the link preview.
func (tl Tally) AddTelegram(dest string, msgs []telegramfake.Message, arts Articles) {
	if tl.Posts[dest] == nil {
		tl.Posts[dest] = map[int]int{}
	}
	for _, m := range msgs {
		texts := []string{m.Text, m.Caption}
		for _, e := range append(m.Entities, m.CaptionEntities...) {
			texts = append(texts, e.URL)
		}
		if m.LinkPreviewOptions != nil {
			texts = append(texts, m.LinkPreviewOptions.URL)
		}
		tl.Add(dest, arts(texts...))
	}
}

// AddMastodon counts an account's statuses on dest.
func (tl Tally) AddMastodon(dest string, statuses []mastodonfake.Status, arts Articles) {
	if tl.Posts[dest] == nil {
		tl.Posts[dest] = map[int]int{}
	}
	for _, st := range statuses {
		tl.Add(dest, arts(st.Text))
	}
}

// Total is the number of posts on dest that link one article.
func (tl Tally) Total(dest string) int {
	n := 0
	for _, c := range tl.Posts[dest] {
		n += c
	}
	return n
}

// Missing lists the articles of want without a post on dest.
func (tl Tally) Missing(dest string, want []int) []int {
	var out []int
	for _, i := range want {
		if tl.Posts[dest][i] == 0 {
			out = append(out, i)
		}
	}
	return out
}

// Unexpected lists, in order, the articles posted on dest that are not in
// want.
func (tl Tally) Unexpected(dest string, want []int) []int {
	wanted := make(map[int]bool, len(want))
	for _, i := range want {
		wanted[i] = true
	}
	var out []int
	for i := range tl.Posts[dest] {
		if !wanted[i] {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// Duplicates counts the posts beyond the first of each article on dest.
func (tl Tally) Duplicates(dest string) int {
	d := 0
	for _, c := range tl.Posts[dest] {
		d += max(0, c-1)
	}
	return d
}

// Head returns at most the first n of xs, for messages.
func Head(xs []int, n int) []int { return xs[:min(n, len(xs))] }

// Unfinished counts the jobs the store still has queued or being sent to
// dests, and lists the parked or unknown ones with their reasons.
func Unfinished(ctx context.Context, st syndicate.Store, dests []string) (int, []string, error) {
	pending := 0
	var failed []string
	for _, d := range dests {
		open, err := st.List(ctx, d, 0, syndicate.StatusQueued, syndicate.StatusSending)
		if err != nil {
			return 0, nil, err
		}
		pending += len(open)
		bad, err := st.List(ctx, d, 0, syndicate.StatusParked, syndicate.StatusUnknown)
		if err != nil {
			return 0, nil, err
		}
		for _, j := range bad {
			failed = append(failed, fmt.Sprintf("%s %s %s: %s", d, j.ArticleKey, j.Status, j.LastError))
		}
	}
	return pending, failed, nil
}
