package syndicate_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// fakeChecker passes the URLs it knows and fails the others, counting the
// checks of each URL.
type fakeChecker struct {
	mu     sync.Mutex
	good   map[string]syndicate.ImageInfo
	checks map[string]int
}

func newChecker(good ...string) *fakeChecker {
	c := &fakeChecker{good: map[string]syndicate.ImageInfo{}, checks: map[string]int{}}
	for _, u := range good {
		c.good[u] = syndicate.ImageInfo{Type: "image/jpeg", Bytes: int64(1000 + len(u))}
	}
	return c
}

func (c *fakeChecker) CheckImage(_ context.Context, url string) (syndicate.ImageInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks[url]++
	if info, ok := c.good[url]; ok {
		return info, nil
	}
	return syndicate.ImageInfo{}, errors.New("http 404")
}

func (c *fakeChecker) checked() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.checks))
}

func (c *fakeChecker) most() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.checks {
		n = max(n, v)
	}
	return n
}

// fakePages serves og:images by article link.
type fakePages struct {
	mu    sync.Mutex
	image map[string]string
	calls int
}

func (p *fakePages) PageImage(_ context.Context, link string) (*syndicate.Image, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if u, ok := p.image[link]; ok {
		return &syndicate.Image{URL: u, Source: "page"}, nil
	}
	return nil, nil
}

// imageEngine is the harness's engine with an image checker and a page
// imager; feeds have page_image on when pageImage is set.
func imageEngine(h *harness, c syndicate.ImageChecker, pages syndicate.PageImager, pageImage bool) *syndicate.Engine {
	h.t.Helper()
	var dests []syndicate.Destination
	for _, id := range slices.Sorted(maps.Keys(h.pubs)) {
		dests = append(dests, syndicate.Destination{ID: id, Publisher: h.pubs[id], Policy: h.policy})
	}
	feeds := slices.Clone(h.feeds)
	for i := range feeds {
		feeds[i].PageImage = pageImage
	}
	e, err := syndicate.New(syndicate.Options{Store: h.store, Source: h.src, Pages: pages, Images: c,
		Feeds: feeds, Routes: h.routes, Destinations: dests, Clock: h.clock, Owner: "test"})
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func img(url, source string) syndicate.Image { return syndicate.Image{URL: url, Source: source} }

func imgs(source string, urls ...string) []syndicate.Image {
	var out []syndicate.Image
	for _, u := range urls {
		out = append(out, img(u, source))
	}
	return out
}

// shown is an item's images as posted: the lead, then the others.
func shown(it syndicate.Item) string {
	var parts []string
	if it.Image != nil {
		parts = append(parts, it.Image.URL)
	} else {
		parts = append(parts, "-")
	}
	for _, im := range it.Images {
		parts = append(parts, im.URL)
	}
	return strings.Join(parts, " ")
}

func TestImagesChosenBeforeQueueing(t *testing.T) {
	many := make([]string, 15)
	for i := range many {
		many[i] = fmt.Sprintf("c%d", i)
	}
	tests := []struct {
		name       string
		lead       *syndicate.Image
		alternates []syndicate.Image
		content    []syndicate.Image
		good       []string
		page       string // og:image of the article, "" for none
		pageImage  bool
		want       string   // lead then further images, "-" for no lead
		checked    []string // URLs checked, sorted
	}{
		{name: "first content image broken, second shown",
			lead: &syndicate.Image{URL: "c1", Source: "content"}, content: imgs("content", "c2", "c3"),
			good: []string{"c2", "c3"}, want: "c2 c3", checked: []string{"c1", "c2", "c3"}},
		{name: "lead loads: alternates never checked",
			lead: &syndicate.Image{URL: "m1", Source: "media"}, alternates: imgs("media", "m2"), content: imgs("content", "c1", "c2"),
			good: []string{"m1", "m2", "c2"}, want: "m1 c2", checked: []string{"c1", "c2", "m1"}},
		{name: "media lead broken: the next feed candidate before content",
			lead: &syndicate.Image{URL: "m1", Source: "media"}, alternates: []syndicate.Image{img("m2", "media"), img("e1", "enclosure")}, content: imgs("content", "c1"),
			good: []string{"e1", "c1"}, want: "e1 c1", checked: []string{"c1", "e1", "m1", "m2"}},
		{name: "feed candidates broken: first content image that loads",
			lead: &syndicate.Image{URL: "m1", Source: "media"}, alternates: imgs("enclosure", "e1"), content: imgs("content", "c1", "c2"),
			good: []string{"c2"}, want: "c2", checked: []string{"c1", "c2", "e1", "m1"}},
		{name: "all broken, page image loads",
			lead: &syndicate.Image{URL: "c1", Source: "content"}, content: imgs("content", "c2"),
			page: "og", pageImage: true, good: []string{"og"}, want: "og", checked: []string{"c1", "c2", "og"}},
		{name: "all broken, page image off",
			lead: &syndicate.Image{URL: "c1", Source: "content"}, page: "og",
			good: []string{"og"}, want: "-", checked: []string{"c1"}},
		{name: "all broken, page image broken too",
			lead: &syndicate.Image{URL: "c1", Source: "content"}, page: "og", pageImage: true,
			want: "-", checked: []string{"c1", "og"}},
		{name: "no image, page image loads",
			page: "og", pageImage: true, good: []string{"og"}, want: "og", checked: []string{"og"}},
		{name: "at most 12 candidates checked",
			lead: &syndicate.Image{URL: "lead", Source: "content"}, content: imgs("content", many...),
			good: append([]string{"lead"}, many...), want: "lead " + strings.Join(many[:11], " "),
			checked: slices.Sorted(slices.Values(append([]string{"lead"}, many[:11]...)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"md", "tg"}, Backfill: 5})
			it := item("a", 1)
			it.Image, it.LeadAlternates, it.Images = tt.lead, tt.alternates, tt.content
			h.src.set("en", it)
			checker := newChecker(tt.good...)
			pages := &fakePages{image: map[string]string{}}
			if tt.page != "" {
				pages.image[it.Link] = tt.page
			}
			e := imageEngine(h, checker, pages, tt.pageImage)

			plan, err := e.Plan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(plan) != 2 {
				t.Fatalf("plan has %d jobs", len(plan))
			}
			for _, j := range plan {
				if got := shown(j.Item); got != tt.want {
					t.Errorf("preview for %s shows %q, want %q", j.Destination, got, tt.want)
				}
			}

			checker = newChecker(tt.good...)
			e = imageEngine(h, checker, pages, tt.pageImage)
			if _, err := e.Once(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{"md", "tg"} {
				posts := h.pubs[d].posts
				if len(posts) != 1 {
					t.Fatalf("%s got %d posts", d, len(posts))
				}
				got := posts[0].Item
				if s := shown(got); s != tt.want {
					t.Errorf("%s shows %q, want %q", d, s, tt.want)
				}
				if len(got.LeadAlternates) != 0 {
					t.Errorf("%s: alternates left on the job: %+v", d, got.LeadAlternates)
				}
				for _, im := range append(slices.Clone(got.Images), derefImage(got.Image)...) {
					want := checker.good[im.URL]
					if !im.Checked || im.Type != want.Type || im.Bytes != want.Bytes {
						t.Errorf("%s: image %s does not carry its check: %+v", d, im.URL, im)
					}
				}
			}
			equal(t, "checked URLs", checker.checked(), tt.checked)
			if n := checker.most(); n > 1 {
				t.Errorf("a URL was checked %d times in one poll", n)
			}
		})
	}
}

func derefImage(im *syndicate.Image) []syndicate.Image {
	if im == nil {
		return nil
	}
	return []syndicate.Image{*im}
}

// Only the items about to be queued are checked: neither the items a first
// poll only records as seen nor those already seen.
func TestImagesCheckedOnlyForQueuedItems(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}, Backfill: 1})
	items := []syndicate.Item{item("new", 1), item("old", 2), item("older", 3)}
	for i := range items {
		items[i].Image = &syndicate.Image{URL: "img-" + items[i].Title, Source: "content"}
	}
	h.src.set("en", items...)
	checker := newChecker("img-new", "img-old", "img-older", "img-newer")
	if _, err := imageEngine(h, checker, nil, false).Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	equal(t, "checked at first sight", checker.checked(), []string{"img-new"})

	newer := item("newer", 0)
	newer.Image = &syndicate.Image{URL: "img-newer", Source: "content"}
	h.src.set("en", append([]syndicate.Item{newer}, items...)...)
	checker = newChecker("img-new", "img-old", "img-older", "img-newer")
	if _, err := imageEngine(h, checker, nil, false).Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	equal(t, "checked on the next poll", checker.checked(), []string{"img-newer"})
	equal(t, "posted", h.pubs["tg"].titles(), []string{"new", "newer"})
}

// Without a checker images are queued as the feed gave them.
func TestImagesUncheckedWithoutChecker(t *testing.T) {
	h := newHarness(t, syndicate.Route{Feeds: []string{"en"}, To: []string{"tg"}, Backfill: 1})
	it := item("a", 1)
	it.Image = &syndicate.Image{URL: "c1", Source: "content"}
	it.Images = imgs("content", "c2")
	h.src.set("en", it)
	if _, err := imageEngine(h, nil, nil, false).Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := h.pubs["tg"].posts[0].Item
	if s := shown(got); s != "c1 c2" || got.Image.Checked {
		t.Errorf("shows %q (checked %v), want c1 c2 unchecked", s, got.Image.Checked)
	}
}
