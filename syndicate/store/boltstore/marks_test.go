package boltstore_test

import (
	"context"
	"encoding/binary"
	"maps"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
)

// TestMarksOfFeedsSharingAPrefix: in the one bucket of marks, feeds whose
// ids start alike, and pairs of feed id and item key that spell the same
// bytes, never see each other's marks.
func TestMarksOfFeedsSharingAPrefix(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	marks := map[string]map[string]string{
		"a":    {"bc": "fp-a-bc", "b": "fp-a-b"},
		"ab":   {"c": "fp-ab-c"},
		"abc":  {"": "fp-abc-empty"},
		"":     {"abc": "fp-empty-abc"},
		"\x01": {"a": "fp-1-a"},
	}
	for feed, m := range marks {
		if err := s.MarkSeen(ctx, feed, m, now); err != nil {
			t.Fatal(err)
		}
	}
	keys := []string{"", "a", "b", "bc", "c", "abc", "\x01a"}
	for feed, want := range marks {
		got, err := s.SeenFingerprints(ctx, feed, keys)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("feed %q: seen %v; want %v", feed, got, want)
		}
	}
}

// writeOldLayout writes a state file as earlier versions did: a nested
// bucket per feed under seen, item key → last seen (8 bytes, Unix ns) +
// fingerprint.
func writeOldLayout(t *testing.T, path string, marks map[string]map[string]string, at map[string]time.Time) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"feeds", "seen", "deliveries", "order", "done", "destinations", "leases", "push"} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		for feed, m := range marks {
			b, err := tx.Bucket([]byte("seen")).CreateBucket([]byte(feed))
			if err != nil {
				return err
			}
			for k, fp := range m {
				v := binary.BigEndian.AppendUint64(nil, uint64(at[feed+"/"+k].UnixNano()))
				if err := b.Put([]byte(k), append(v, fp...)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMarksOfTheOldLayout: a file written in the old layout is read as it
// is when opened read-only, and opened for writing it has its marks moved
// to the new layout, none lost, the old buckets gone, pruning as before.
func TestMarksOfTheOldLayout(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	marks := map[string]map[string]string{
		"en": {"guid:1": "fp1 h1 20000", "guid:2": "fp2 h2 20000"},
		"ar": {"link:https://example.org/ar/1/": "- h3 20001"},
		"e":  {"nguid:1": "fp4 h4 20002"},
	}
	at := map[string]time.Time{"en/guid:1": old, "en/guid:2": recent, "ar/link:https://example.org/ar/1/": recent, "e/nguid:1": old}
	writeOldLayout(t, path, marks, at)

	check := func(s *boltstore.Store, what string, want map[string]map[string]string) {
		t.Helper()
		for feed, m := range marks {
			got, err := s.SeenFingerprints(ctx, feed, []string{"guid:1", "guid:2", "link:https://example.org/ar/1/", "nguid:1"})
			if err != nil {
				t.Fatal(err)
			}
			if w := want[feed]; !maps.Equal(got, w) && !(len(got) == 0 && len(w) == 0) {
				t.Errorf("%s: feed %s seen %v; want %v (stored %v)", what, feed, got, w, m)
			}
		}
	}

	ro, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	check(ro, "read-only, old layout", marks)
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(s, "migrated", marks)
	if err := s.Prune(ctx, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	pruned := map[string]map[string]string{
		"en": {"guid:2": "fp2 h2 20000"},
		"ar": marks["ar"],
	}
	check(s, "migrated and pruned", pruned)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("seen")) != nil {
			t.Error("the old seen buckets are still in the file")
		}
		if n := tx.Bucket([]byte("marks")).Stats().KeyN; n != 2 {
			t.Errorf("%d marks in the flat bucket; want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
