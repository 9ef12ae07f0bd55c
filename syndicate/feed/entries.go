package feed

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	jsonfeed "github.com/mmcdole/gofeed/json"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// normaliseVersion is part of every entry hash; raising it makes the next
// poll of every feed normalise its items again (for a change of the
// normaliser that must reach items already seen).
const normaliseVersion = "1"

// listing is a parsed feed's items as entries, with the functions that
// normalise the ones asked for, whole or only their heads.
type listing struct {
	entries   []syndicate.Entry
	normalise func([]int) []syndicate.Item
	heads     func([]int) []syndicate.Item
}

// entries lists a parsed feed's items as entries (key, raw hash, date)
// with the functions that normalise the ones asked for, so that a poll
// pays for normalising (HTML scanning, images, summaries) only for items
// that are new or changed, and only for the head of those no route takes.
func entries(f *gofeed.Feed, spec syndicate.FeedSpec, feedURL *url.URL) listing {
	fc := feedContext{feedID: spec.ID, base: feedURL}
	if u, ok := resolve(feedURL, f.Link); ok {
		fc.base = u
	}
	fc.lang, fc.langFrom = feedLanguage(f, spec)
	if jf, ok := f.OriginalFeed().(*jsonfeed.Feed); ok && len(jf.Items) == len(f.Items) {
		fc.json = jf.Items
	}

	links := make([]*url.URL, len(f.Items))
	for i, it := range f.Items {
		links[i] = fc.itemLink(it)
	}
	keepFragment := fragmentsIdentify(links)

	// What every item's normalisation depends on besides its own fields.
	var base string
	if fc.base != nil {
		base = fc.base.String()
	}
	context := []string{normaliseVersion, base, fc.lang, string(fc.langFrom)}

	out := make([]syndicate.Entry, 0, len(f.Items))
	// at maps an entry to its item in f.Items.
	at := make([]int, 0, len(f.Items))
	keys := make([]string, 0, len(f.Items))
	used := make(map[string]bool, len(f.Items))
	hw := &hashWriter{}
	for i, it := range f.Items {
		if it == nil || rawEmpty(it) {
			continue
		}
		item := syndicate.Item{GUID: guid(it.GUID)}
		if links[i] != nil {
			item.Link = canonicalLink(links[i], keepFragment[canonicalLink(links[i], false)])
		}
		key, ok := uniqueKey(item, it, used)
		if !ok {
			continue // a verbatim duplicate of an earlier item
		}
		used[key] = true
		var j *jsonfeed.Item
		if i < len(fc.json) {
			j = fc.json[i]
		}
		d := date(it.PublishedParsed)
		if d.IsZero() {
			d = date(it.UpdatedParsed)
		}
		out = append(out, syndicate.Entry{Key: key, Hash: hw.entryHash(context, key, item.Link, it, j), Date: d})
		at = append(at, i)
		keys = append(keys, key)
	}
	// each makes the items of the entries asked for with build, leaving
	// out those that ask to be dropped.
	each := func(idx []int, build func(i int) (syndicate.Item, bool)) []syndicate.Item {
		items := make([]syndicate.Item, 0, len(idx))
		for _, e := range idx {
			if e < 0 || e >= len(at) {
				continue
			}
			item, ok := build(at[e])
			if !ok {
				continue
			}
			item.Key = keys[e]
			items = append(items, item)
		}
		return items
	}
	return listing{
		entries: out,
		normalise: func(idx []int) []syndicate.Item {
			return each(idx, func(i int) (syndicate.Item, bool) {
				item := fc.item(i, f.Items[i], links[i], keepFragment)
				return item, !empty(item)
			})
		},
		heads: func(idx []int) []syndicate.Item {
			return each(idx, func(i int) (syndicate.Item, bool) {
				return fc.head(i, f.Items[i], links[i], keepFragment), true
			})
		},
	}
}

// normalise maps a parsed feed to items in document order, with keys that
// are unique within the feed.
func normalise(f *gofeed.Feed, spec syndicate.FeedSpec, feedURL *url.URL) []syndicate.Item {
	l := entries(f, spec, feedURL)
	idx := make([]int, len(l.entries))
	for i := range idx {
		idx[i] = i
	}
	return l.normalise(idx)
}

// rawEmpty reports an item that cannot have anything to post whatever
// normalising finds: no text, no link, no media. It errs towards "not
// empty"; normalising drops the rest.
func rawEmpty(it *gofeed.Item) bool {
	return strings.TrimSpace(it.Title) == "" && strings.TrimSpace(it.Description) == "" &&
		strings.TrimSpace(it.Content) == "" && strings.TrimSpace(it.Link) == "" && len(it.Links) == 0 &&
		strings.TrimSpace(it.GUID) == "" && len(it.Enclosures) == 0 && it.Image == nil && len(it.Extensions) == 0
}

// entryHash summarises everything an item's normalisation reads: the
// feed context, the item's key and link, its raw fields and extensions,
// and the JSON Feed item behind it.
func (w *hashWriter) entryHash(context []string, key, link string, it *gofeed.Item, j *jsonfeed.Item) string {
	w.buf = w.buf[:0]
	w.strings(context...)
	w.strings(key, link, it.Title, it.Description, it.Content, it.Link, it.Updated, it.Published, it.GUID)
	w.strings(it.Links...)
	w.strings(it.Categories...)
	if it.Author != nil {
		w.strings(it.Author.Name, it.Author.Email)
	}
	for _, a := range it.Authors {
		if a != nil {
			w.strings(a.Name, a.Email)
		}
	}
	if it.Image != nil {
		w.strings("image", it.Image.URL, it.Image.Title)
	}
	for _, e := range it.Enclosures {
		if e != nil {
			w.strings("enclosure", e.URL, e.Type, e.Length)
		}
	}
	w.extensions(it.Extensions)
	if j != nil {
		// JSON Feed items are rare and small: their encoding covers every
		// field the normaliser may read.
		if raw, err := json.Marshal(j); err == nil {
			w.strings("json", string(raw))
		}
	}
	sum := sha256.Sum256(w.buf)
	return hex.EncodeToString(sum[:12])
}

// hashWriter gathers length-prefixed strings to hash at once, so that no
// two different sequences of fields give the same bytes; one serves all
// the items of a feed, so that its buffer is grown once.
type hashWriter struct{ buf []byte }

func (w *hashWriter) strings(ss ...string) {
	for _, s := range ss {
		w.buf = binary.AppendUvarint(w.buf, uint64(len(s)))
		w.buf = append(w.buf, s...)
	}
}

// extensions writes extension elements in a fixed order (maps have none).
func (w *hashWriter) extensions(e ext.Extensions) {
	for _, ns := range slices.Sorted(maps.Keys(e)) {
		w.strings("ns", ns)
		w.elements(e[ns])
	}
}

func (w *hashWriter) elements(m map[string][]ext.Extension) {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		for _, x := range m[name] {
			w.strings("el", name, x.Name, x.Value)
			for _, a := range slices.Sorted(maps.Keys(x.Attrs)) {
				w.strings(a, x.Attrs[a])
			}
			w.elements(x.Children)
		}
	}
}
