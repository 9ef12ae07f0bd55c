package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The seen marks of every feed live in one flat bucket, marks, keyed by
// markKey. Earlier versions kept a nested bucket per feed under seen; a
// feed's ten or so marks outgrow the quarter page up to which bbolt keeps
// a nested bucket inline in its parent, so each feed took a page of its
// own, mostly empty: at 10,000 feeds the file was about 33 MB, and the
// pages a worker reads count in its resident memory. In one bucket the
// marks of many feeds share a page. Opening a file for writing moves the
// marks of the old layout over (migrateMarks); a file opened read-only is
// read in either layout.
var bucketMarks = []byte("marks")

// markKey is the length of the feed id as a uvarint, the feed id and the
// item key: the length keeps one feed's keys from ever starting another's
// ("a" + "bc" and "ab" + "c" differ), and a feed's keys share a prefix,
// so that they lie together.
func markKey(feedID, key string) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(feedID)+len(key))
	b = binary.AppendUvarint(b, uint64(len(feedID)))
	b = append(b, feedID...)
	return append(b, key...)
}

// getMark returns the mark of key in the feed, in either layout, or nil.
func getMark(tx *bolt.Tx, feedID, key string) []byte {
	if b := tx.Bucket(bucketMarks); b != nil {
		if v := b.Get(markKey(feedID, key)); v != nil {
			return v
		}
	}
	// A file opened read-only may still hold the old layout.
	if seen := tx.Bucket(bucketSeen); seen != nil {
		if b := seen.Bucket([]byte(feedID)); b != nil {
			return b.Get([]byte(key))
		}
	}
	return nil
}

// markSeen records keys of a feed as seen at now with their fingerprints.
func markSeen(tx *bolt.Tx, feedID string, seen map[string]string, now time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	b := tx.Bucket(bucketMarks)
	for k, fp := range seen {
		v := make([]byte, 8+len(fp))
		binary.BigEndian.PutUint64(v, uint64(unixNano(now)))
		copy(v[8:], fp)
		if err := b.Put(markKey(feedID, k), v); err != nil {
			return err
		}
	}
	return nil
}

// eachMark calls fn with every mark's bucket, key and value, in both
// layouts, until fn fails.
func eachMark(tx *bolt.Tx, fn func(b *bolt.Bucket, k, v []byte) error) error {
	if b := tx.Bucket(bucketMarks); b != nil {
		if err := b.ForEach(func(k, v []byte) error { return fn(b, k, v) }); err != nil {
			return err
		}
	}
	seen := tx.Bucket(bucketSeen)
	if seen == nil {
		return nil
	}
	return seen.ForEachBucket(func(feed []byte) error {
		b := seen.Bucket(feed)
		return b.ForEach(func(k, v []byte) error { return fn(b, k, v) })
	})
}

// migrateMarks moves the marks of the old layout, a bucket per feed under
// seen, into the flat bucket and drops the old one, in the transaction
// that opens the file; it returns how many marks it moved. A file in the
// new layout has no seen bucket, so this runs once.
func migrateMarks(tx *bolt.Tx) (int, error) {
	seen := tx.Bucket(bucketSeen)
	if seen == nil {
		return 0, nil
	}
	marks := tx.Bucket(bucketMarks)
	// The old buckets are read in key order, feed by feed, so the new keys
	// mostly arrive in order too: fuller pages.
	marks.FillPercent = 0.9
	moved := 0
	err := seen.ForEachBucket(func(feed []byte) error {
		return seen.Bucket(feed).ForEach(func(k, v []byte) error {
			moved++
			return marks.Put(markKey(string(feed), string(k)), bytes.Clone(v))
		})
	})
	if err != nil {
		return 0, fmt.Errorf("move seen marks: %w", err)
	}
	if err := tx.DeleteBucket(bucketSeen); err != nil {
		return 0, fmt.Errorf("drop the old seen buckets: %w", err)
	}
	return moved, nil
}
