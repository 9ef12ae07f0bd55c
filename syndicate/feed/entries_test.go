package feed

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// entriesOf parses a fixture (possibly edited) into entries.
func entriesOf(t *testing.T, name string, body []byte, spec syndicate.FeedSpec) []syndicate.Entry {
	t.Helper()
	f, salvaged, err := parse(body, "", "")
	if err != nil || salvaged != nil {
		t.Fatal(err, salvaged)
	}
	es := entries(f, spec, fixtureURL(name)).entries
	return es
}

// TestEntryHashes: an entry's hash is the same on every parse of the same
// document, changes for the one item whose raw fields changed and for
// every item when what all of them depend on (the feed's language)
// changed; entry keys and dates are those of the normalised items.
func TestEntryHashes(t *testing.T) {
	const name = "wordpress-bom-categories-content-img.xml"
	body, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
	if err != nil {
		t.Fatal(err)
	}
	spec := syndicate.FeedSpec{ID: "wp", URL: fixtureURL(name).String()}
	first := entriesOf(t, name, body, spec)
	if len(first) < 3 {
		t.Fatalf("%d entries; want a feed of several", len(first))
	}
	again := entriesOf(t, name, body, spec)
	for i := range first {
		if first[i] != again[i] {
			t.Errorf("entry %d differs between two parses: %+v, %+v", i, first[i], again[i])
		}
	}

	items, _, _, err := parseFixture(t, name, body)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(first) {
		t.Fatalf("%d items, %d entries", len(items), len(first))
	}
	for i, it := range items {
		if it.Key != first[i].Key || !it.Date().Equal(first[i].Date) {
			t.Errorf("entry %d is %q at %s; its item is %q at %s", i, first[i].Key, first[i].Date, it.Key, it.Date())
		}
	}

	// Edit the second item's description only.
	start := bytes.Index(body, []byte("<item>"))
	second := start + 1 + bytes.Index(body[start+1:], []byte("<item>"))
	desc := second + bytes.Index(body[second:], []byte("<description>")) + len("<description>")
	edited := append(append(append([]byte{}, body[:desc]...), []byte("Corrected: ")...), body[desc:]...)
	changed := entriesOf(t, name, edited, spec)
	for i := range first {
		if same := first[i].Hash == changed[i].Hash; same != (i != 1) {
			t.Errorf("entry %d: hash changed %v after editing item 1 only", i, !same)
		}
		if first[i].Key != changed[i].Key {
			t.Errorf("entry %d: key %q became %q", i, first[i].Key, changed[i].Key)
		}
	}

	spec.Language = "sq"
	for i, e := range entriesOf(t, name, body, spec) {
		if e.Hash == first[i].Hash {
			t.Errorf("entry %d: hash unchanged after the feed's language changed", i)
		}
	}
}

// TestHeadsAreTheItemsHeads: over every fixture, the head of an item (what
// a filter reads without HTML scanning) is its normalised item with only
// the head's fields kept, so that a filter judges a head as it would the
// whole item.
func TestHeadsAreTheItemsHeads(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "feeds", "*"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, path := range names {
		name := filepath.Base(path)
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, _, err := parse(body, "", "")
		if err != nil {
			continue // fixtures of broken feeds
		}
		spec := syndicate.FeedSpec{ID: "f", URL: fixtureURL(name).String()}
		l := entries(f, spec, fixtureURL(name))
		idx := make([]int, len(l.entries))
		for i := range idx {
			idx[i] = i
		}
		heads := l.heads(idx)
		if len(heads) != len(idx) {
			t.Errorf("%s: %d heads of %d entries", name, len(heads), len(idx))
			continue
		}
		byKey := map[string]syndicate.Item{}
		for _, h := range heads {
			byKey[h.Key] = h
		}
		for _, it := range l.normalise(idx) {
			want := syndicate.Item{Key: it.Key, FeedID: it.FeedID, GUID: it.GUID, Link: it.Link, Title: it.Title, Author: it.Author,
				Published: it.Published, Updated: it.Updated, Categories: it.Categories, Language: it.Language, LanguageFrom: it.LanguageFrom}
			if got := byKey[it.Key]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s: head of %s\n got %+v\nwant %+v", name, it.Key, got, want)
			}
			checked++
		}
	}
	if checked < 100 {
		t.Errorf("checked %d items; want the fixtures' hundreds", checked)
	}
}
