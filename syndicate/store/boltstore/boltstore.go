// Package boltstore keeps the syndicate state in one embedded bbolt file, so
// a single instance needs no server.
//
// Every method is at most one bbolt transaction, and bbolt syncs the file
// before a write returns, so a call that returned is durable, with one
// exception: the state saved by a poll that saw nothing new (EndPoll
// without seen items, a 304) only moves poll times on, and is written
// within a second together with the others of that second (see polls); a
// crash loses at most those times, and those feeds are polled again. Poll
// leases live in memory, since only one process can open the file. The
// writes that polls make (EndPoll, MarkSeen, SaveFeed, Enqueue) go
// through DB.Batch: calls made within Options.BatchDelay of each other
// share one transaction, and so one fsync, instead of queueing for one
// each. Claim and Prune look in a read transaction first and write only
// when there is something to do, so that an idle store commits nothing.
// bbolt locks the file: a second process opening it fails after
// Options.Timeout instead of corrupting it.
//
// Layout (top-level buckets; integers are big-endian):
//
//	feeds          feed id → JSON FeedState
//	marks          uvarint length of the feed id + feed id + item key →
//	               last seen (8 bytes, Unix ns) + fingerprint (see markKey);
//	               earlier versions kept seen/<feed> → item key → the same,
//	               moved over when the file is opened for writing
//	deliveries/<d> article key → JSON Delivery
//	order/<d>      Seq (8 bytes) → due time (8 bytes) + article key, for queued and sending records
//	done/<d>       finish time (8 bytes) + article key → nothing, for final records
//	destinations   destination id → JSON DestinationState
//	leases         feed id → lease expiry (8 bytes, Unix ns) + owner; left by
//	               earlier versions (leases now live in memory), emptied by Prune
//
// Seq comes from the deliveries/<d> bucket's sequence. The due time of an
// order entry is NotBefore for a queued record and LeaseUntil for a sending
// one, so Claim decodes only the records it takes and those not yet due
// (to find a live lease, which holds the whole destination back).
package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// DefaultTimeout is how long Open waits for another process to release the file.
const DefaultTimeout = time.Second

// DefaultBatchDelay is how long a write waits for others to share its
// commit: about what one fsync costs on an SSD, so that a burst of polls
// pays for a few commits, and a lone write is not held back for long.
// (bbolt's own default, 10ms, suits disks whose fsync takes that long.)
const DefaultBatchDelay = time.Millisecond

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock (default DefaultTimeout).
	Timeout time.Duration
	// BatchDelay is how long a write made by a poll waits for others to
	// share its commit (default DefaultBatchDelay); on a disk whose fsync
	// takes longer, a delay nearer that time shares more.
	BatchDelay time.Duration
	// ReadOnly opens an existing file for reading only (preview); every
	// write then fails.
	ReadOnly bool
}

// Store is a syndicate.Store in one bbolt file.
type Store struct {
	db   *bolt.DB
	path string
	// polls holds the poll leases and the feed states still to write.
	polls *polls
	// writes is how batch commits: DB.Batch, except in tests.
	writes writeMode
}

// writeMode says how batch commits.
type writeMode int

const (
	// shareCommits is DB.Batch.
	shareCommits writeMode = iota
	// ownCommits is DB.Update, for benchmarks to compare.
	ownCommits
	// runTwice runs fn in a transaction that is rolled back and then again
	// in one that commits, as DB.Batch does when another call of the
	// batch fails: tests run the contract so, to prove the fns repeatable.
	runTwice
)

// errRollback rolls back the first run of runTwice.
var errRollback = errors.New("rolled back to run again")

var _ syndicate.Store = (*Store)(nil)

var (
	bucketFeeds        = []byte("feeds")
	bucketSeen         = []byte("seen")
	bucketDeliveries   = []byte("deliveries")
	bucketOrder        = []byte("order")
	bucketDone         = []byte("done")
	bucketDestinations = []byte("destinations")
	bucketLeases       = []byte("leases")
	bucketPush         = []byte("push")
)

// Open opens or creates the database at path, creating its directory
// (mode 0700) when missing. Opened for writing, it releases every claim
// on a job (see ReleaseClaims), since the file lock proves that the
// process that made them has ended.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.BatchDelay <= 0 {
		opts.BatchDelay = DefaultBatchDelay
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	} else if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: file is locked by another process (waited %s): %w", path, opts.Timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.MaxBatchDelay = opts.BatchDelay
	if opts.ReadOnly {
		return &Store{db: db, path: path, polls: newPolls()}, nil
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketFeeds, bucketMarks, bucketDeliveries, bucketOrder, bucketDone, bucketDestinations, bucketLeases, bucketPush} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if _, err := migrateMarks(tx); err != nil {
			return err
		}
		// The lock just taken proves that whoever claimed jobs before is
		// gone: their claims are released now rather than when their
		// leases run out, so a restart after a crash delivers at once.
		_, err := releaseClaims(tx, "")
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: create buckets: %w", path, err)
	}
	st := &Store{db: db, path: path, polls: newPolls()}
	st.polls.flush = st.flushLater
	return st, nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

// Close writes the feed states still waiting and releases the file and
// its lock.
func (s *Store) Close() error {
	ferr := s.flushLater()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	if ferr != nil {
		return fmt.Errorf("close store %s: %w", s.path, ferr)
	}
	return nil
}

// Ping reports whether the database is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.View(func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("ping store %s: %w", s.path, err)
	}
	return nil
}

// view and update run one transaction unless ctx is already done; bbolt
// transactions cannot be interrupted once started.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

// batch is update for the writes that many polls make at once: bbolt's
// DB.Batch runs the fns of concurrent callers in one transaction, so they
// share one commit and one fsync. The price is that fn may run more than
// once: when any fn of a batch fails, the transaction is rolled back and
// the others run again (the failing one alone, with Update). So fn must
// set every result it reports from scratch on each run, and leave nothing
// outside the transaction changed; and, since a failure costs its batch a
// rerun, it must not use errors for outcomes that are not failures (a
// refused lease is a result, not an error).
func (s *Store) batch(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch s.writes {
	case ownCommits:
		return s.db.Update(fn)
	case runTwice:
		err := s.db.Update(func(tx *bolt.Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			return err
		}
		return s.db.Update(fn)
	}
	return s.db.Batch(fn)
}

// LoadFeed returns the state of a feed, zero when never saved.
func (s *Store) LoadFeed(ctx context.Context, feedID string) (syndicate.FeedState, error) {
	var st syndicate.FeedState
	if raw, ok := s.polls.later(feedID); ok {
		if err := json.Unmarshal(raw, &st); err != nil {
			return syndicate.FeedState{}, fmt.Errorf("load feed %s: %w", feedID, err)
		}
		return st, nil
	}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketFeeds), []byte(feedID), &st)
	})
	if err != nil {
		return syndicate.FeedState{}, fmt.Errorf("load feed %s: %w", feedID, err)
	}
	return st, nil
}

// SaveFeed replaces the state of a feed.
func (s *Store) SaveFeed(ctx context.Context, feedID string, st syndicate.FeedState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save feed %s: %w", feedID, err)
	}
	s.polls.written(feedID)
	err = s.batch(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFeeds).Put([]byte(feedID), raw)
	})
	if err != nil {
		return fmt.Errorf("save feed %s: %w", feedID, err)
	}
	return nil
}

// SeenFingerprints returns the fingerprints of those keys seen in the feed.
func (s *Store) SeenFingerprints(ctx context.Context, feedID string, keys []string) (map[string]string, error) {
	out := make(map[string]string)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		for _, k := range keys {
			if v := getMark(tx, feedID, k); v != nil {
				if len(v) < 8 {
					return fmt.Errorf("seen %q: corrupt value", k)
				}
				out[k] = string(v[8:])
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seen fingerprints of feed %s: %w", feedID, err)
	}
	return out, nil
}

// MarkSeen records keys of a feed as seen at now with their fingerprints.
func (s *Store) MarkSeen(ctx context.Context, feedID string, seen map[string]string, now time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	err := s.batch(ctx, func(tx *bolt.Tx) error {
		return markSeen(tx, feedID, seen, now)
	})
	if err != nil {
		return fmt.Errorf("mark seen in feed %s: %w", feedID, err)
	}
	return nil
}

// Enqueue adds the jobs, in order, skipping posts of articles already
// recorded; an edit re-queues a sent record, refreshes the item of a queued
// one, and is skipped otherwise.
func (s *Store) Enqueue(ctx context.Context, jobs []syndicate.Delivery, now time.Time) ([]syndicate.Delivery, error) {
	for _, j := range jobs {
		if err := j.ValidateJob(); err != nil {
			return nil, fmt.Errorf("enqueue: %w", err)
		}
	}
	var added []syndicate.Delivery
	err := s.batch(ctx, func(tx *bolt.Tx) error {
		added = added[:0]
		for _, j := range jobs {
			d, ok, err := enqueueOne(tx, j, now)
			if err != nil {
				return fmt.Errorf("%s %s: %w", j.Destination, j.ArticleKey, err)
			}
			if ok {
				added = append(added, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	return added, nil
}

func enqueueOne(tx *bolt.Tx, j syndicate.Delivery, now time.Time) (syndicate.Delivery, bool, error) {
	b, err := destBuckets(tx, j.Destination, true)
	if err != nil {
		return syndicate.Delivery{}, false, err
	}
	key := []byte(j.ArticleKey)
	var old syndicate.Delivery
	exists := b.records.Get(key) != nil
	if exists {
		if err := getJSON(b.records, key, &old); err != nil {
			return syndicate.Delivery{}, false, err
		}
	}
	d := j
	switch j.Kind {
	case syndicate.JobPost:
		if exists {
			return syndicate.Delivery{}, false, nil
		}
	case syndicate.JobEdit:
		if exists && old.Status == syndicate.StatusQueued {
			// Not posted yet: post the new content instead.
			old.Item = j.Item
			return syndicate.Delivery{}, false, putJSON(b.records, key, old)
		}
		if !exists || old.Status != syndicate.StatusSent {
			return syndicate.Delivery{}, false, nil
		}
		d.SentAt, d.MessageIDs, d.Fingerprint = old.SentAt, old.MessageIDs, old.Fingerprint
		if err := b.done.Delete(doneKey(old)); err != nil {
			return syndicate.Delivery{}, false, err
		}
	}
	seq, err := b.records.NextSequence()
	if err != nil {
		return syndicate.Delivery{}, false, err
	}
	d.Seq = int64(seq)
	d.Status = syndicate.StatusQueued
	d.EnqueuedAt = now
	d.Owner, d.LeaseUntil, d.FinishedAt = "", time.Time{}, time.Time{}
	if err := putJSON(b.records, key, d); err != nil {
		return syndicate.Delivery{}, false, err
	}
	if err := b.order.Put(seqKey(d.Seq), orderValue(d.NotBefore, d.ArticleKey)); err != nil {
		return syndicate.Delivery{}, false, err
	}
	return d, true, nil
}

// Claim leases up to n due jobs of the destination, oldest first, and none
// while a job of the destination is sending under a live lease.
func (s *Store) Claim(ctx context.Context, destination, owner string, now time.Time, lease time.Duration, n int) ([]syndicate.Delivery, error) {
	if owner == "" {
		return nil, fmt.Errorf("claim %s: empty owner", destination)
	}
	if n <= 0 {
		return nil, nil
	}
	// An idle destination is the common case: look in a read transaction,
	// which commits nothing, and write only when the head is due.
	var due bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		due, err = headDue(tx, destination, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", destination, err)
	}
	if !due {
		return nil, nil
	}
	var claimed []syndicate.Delivery
	err = s.update(ctx, func(tx *bolt.Tx) error {
		claimed = claimed[:0]
		b, err := destBuckets(tx, destination, false)
		if err != nil || b.order == nil {
			return err
		}
		leaseUntil := now.Add(lease)
		type take struct {
			seq []byte
			key string
		}
		var takes []take
		// Strict order: jobs are taken from the head of the queue while
		// they are due; a head that is not (in flight under a live lease,
		// or held back by NotBefore) keeps the whole destination waiting.
		c := b.order.Cursor()
		for k, v := c.First(); k != nil && len(takes) < n; k, v = c.Next() {
			due, key, err := parseOrderValue(v)
			if err != nil {
				return err
			}
			if due > unixNano(now) {
				break
			}
			takes = append(takes, take{seq: append([]byte(nil), k...), key: key})
		}
		for _, tk := range takes {
			var d syndicate.Delivery
			if err := getJSON(b.records, []byte(tk.key), &d); err != nil {
				return err
			}
			d.Status, d.Owner, d.LeaseUntil = syndicate.StatusSending, owner, leaseUntil
			if err := putJSON(b.records, []byte(tk.key), d); err != nil {
				return err
			}
			if err := b.order.Put(tk.seq, orderValue(leaseUntil, tk.key)); err != nil {
				return err
			}
			claimed = append(claimed, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", destination, err)
	}
	return claimed, nil
}

// headDue reports whether the head of a destination's queue may be
// claimed at now.
func headDue(tx *bolt.Tx, destination string, now time.Time) (bool, error) {
	b, err := destBuckets(tx, destination, false)
	if err != nil || b.order == nil {
		return false, err
	}
	k, v := b.order.Cursor().First()
	if k == nil {
		return false, nil
	}
	due, _, err := parseOrderValue(v)
	return due <= unixNano(now), err
}

// Extend moves the lease of a job that owner holds to now+lease, in the
// record and in the order entry that Claim reads.
func (s *Store) Extend(ctx context.Context, destination, articleKey, owner string, now time.Time, lease time.Duration) error {
	if err := syndicate.ValidateLease(owner, lease); err != nil {
		return fmt.Errorf("extend %s %s: %w", destination, articleKey, err)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := destBuckets(tx, destination, false)
		if err != nil {
			return err
		}
		key := []byte(articleKey)
		if b.records == nil || b.order == nil || b.records.Get(key) == nil {
			return syndicate.ErrNotClaimed
		}
		var d syndicate.Delivery
		if err := getJSON(b.records, key, &d); err != nil {
			return err
		}
		if d.Status != syndicate.StatusSending || d.Owner != owner {
			return syndicate.ErrNotClaimed
		}
		d.LeaseUntil = now.Add(lease)
		if err := putJSON(b.records, key, d); err != nil {
			return err
		}
		return b.order.Put(seqKey(d.Seq), orderValue(d.LeaseUntil, articleKey))
	})
	if err != nil {
		return fmt.Errorf("extend %s %s: %w", destination, articleKey, err)
	}
	return nil
}

// Finish stores the outcome of a job that owner d.Owner holds.
func (s *Store) Finish(ctx context.Context, d syndicate.Delivery) error {
	if err := d.ValidateOutcome(); err != nil {
		return fmt.Errorf("finish %s %s: %w", d.Destination, d.ArticleKey, err)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := destBuckets(tx, d.Destination, false)
		if err != nil {
			return err
		}
		if b.records == nil || b.records.Get([]byte(d.ArticleKey)) == nil {
			return syndicate.ErrNotClaimed
		}
		var cur syndicate.Delivery
		if err := getJSON(b.records, []byte(d.ArticleKey), &cur); err != nil {
			return err
		}
		if cur.Status != syndicate.StatusSending || cur.Owner != d.Owner {
			return syndicate.ErrNotClaimed
		}
		next := d
		next.Seq, next.EnqueuedAt = cur.Seq, cur.EnqueuedAt
		next.Owner, next.LeaseUntil = "", time.Time{}
		if next.Status == syndicate.StatusQueued {
			next.FinishedAt = time.Time{}
			if err := b.order.Put(seqKey(cur.Seq), orderValue(next.NotBefore, d.ArticleKey)); err != nil {
				return err
			}
		} else {
			if err := b.order.Delete(seqKey(cur.Seq)); err != nil {
				return err
			}
			if err := b.done.Put(doneKey(next), nil); err != nil {
				return err
			}
		}
		return putJSON(b.records, []byte(d.ArticleKey), next)
	})
	if err != nil {
		return fmt.Errorf("finish %s %s: %w", d.Destination, d.ArticleKey, err)
	}
	return nil
}

// ReleaseClaims ends the leases of the jobs that owner holds.
func (s *Store) ReleaseClaims(ctx context.Context, owner string) (int, error) {
	if owner == "" {
		return 0, errors.New("release claims: empty owner")
	}
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = releaseClaims(tx, owner)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("release claims of %s: %w", owner, err)
	}
	return n, nil
}

// releaseClaims makes the sending jobs of owner ("" for any owner) due at
// once, keeping them sending: in the record the lease is cleared, and in
// the order entry, which Claim reads, the due time becomes the earliest.
func releaseClaims(tx *bolt.Tx, owner string) (int, error) {
	type claimed struct {
		order, records *bolt.Bucket
		seq, key       []byte
	}
	var found []claimed
	orders := tx.Bucket(bucketOrder)
	err := orders.ForEachBucket(func(dest []byte) error {
		b, err := destBuckets(tx, string(dest), false)
		if err != nil || b.records == nil {
			return err
		}
		return b.order.ForEach(func(k, v []byte) error {
			due, key, err := parseOrderValue(v)
			if err != nil || due == math.MinInt64 {
				// Queued with no retry time: nothing holds it.
				return err
			}
			var d syndicate.Delivery
			if err := getJSON(b.records, []byte(key), &d); err != nil {
				return err
			}
			if d.Status == syndicate.StatusSending && (owner == "" || d.Owner == owner) {
				found = append(found, claimed{order: b.order, records: b.records, seq: bytes.Clone(k), key: []byte(key)})
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	for _, c := range found {
		var d syndicate.Delivery
		if err := getJSON(c.records, c.key, &d); err != nil {
			return 0, err
		}
		d.LeaseUntil = time.Time{}
		if err := putJSON(c.records, c.key, d); err != nil {
			return 0, err
		}
		if err := c.order.Put(c.seq, orderValue(time.Time{}, string(c.key))); err != nil {
			return 0, err
		}
	}
	return len(found), nil
}

// Get returns the record of an article on a destination.
func (s *Store) Get(ctx context.Context, destination, articleKey string) (syndicate.Delivery, bool, error) {
	var d syndicate.Delivery
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b, err := destBuckets(tx, destination, false)
		if err != nil || b.records == nil || b.records.Get([]byte(articleKey)) == nil {
			return err
		}
		ok = true
		return getJSON(b.records, []byte(articleKey), &d)
	})
	if err != nil {
		return syndicate.Delivery{}, false, fmt.Errorf("get %s %s: %w", destination, articleKey, err)
	}
	return d, ok, nil
}

// List returns the records of a destination in the given states, by Seq.
func (s *Store) List(ctx context.Context, destination string, limit int, states ...syndicate.Status) ([]syndicate.Delivery, error) {
	want := make(map[syndicate.Status]bool, len(states))
	for _, st := range states {
		want[st] = true
	}
	var out []syndicate.Delivery
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b, err := destBuckets(tx, destination, false)
		if err != nil || b.records == nil {
			return err
		}
		// Records are keyed by article, not Seq: collect, then sort.
		return b.records.ForEach(func(k, v []byte) error {
			var d syndicate.Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("record %q: %w", k, err)
			}
			if len(want) == 0 || want[d.Status] {
				out = append(out, d)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", destination, err)
	}
	sortBySeq(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Requeue puts a parked or unknown record back at the end of the queue,
// due now, with its attempts reset; its last error and receipt stay as
// history.
func (s *Store) Requeue(ctx context.Context, destination, articleKey string, now time.Time) (bool, error) {
	var ok bool
	err := s.update(ctx, func(tx *bolt.Tx) error {
		ok = false
		b, err := destBuckets(tx, destination, false)
		if err != nil || b.records == nil || b.order == nil || b.done == nil {
			return err
		}
		key := []byte(articleKey)
		if b.records.Get(key) == nil {
			return nil
		}
		var d syndicate.Delivery
		if err := getJSON(b.records, key, &d); err != nil {
			return err
		}
		if d.Status != syndicate.StatusParked && d.Status != syndicate.StatusUnknown {
			return nil
		}
		if err := b.done.Delete(doneKey(d)); err != nil {
			return err
		}
		seq, err := b.records.NextSequence()
		if err != nil {
			return err
		}
		d.Seq = int64(seq)
		d.Status = syndicate.StatusQueued
		d.Attempts = 0
		d.EnqueuedAt = now
		d.NotBefore, d.LeaseUntil, d.FinishedAt = time.Time{}, time.Time{}, time.Time{}
		d.Owner = ""
		if err := putJSON(b.records, key, d); err != nil {
			return err
		}
		if err := b.order.Put(seqKey(d.Seq), orderValue(d.NotBefore, articleKey)); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("requeue %s %s: %w", destination, articleKey, err)
	}
	return ok, nil
}

// LoadDestination returns the state of a destination, zero when never saved.
func (s *Store) LoadDestination(ctx context.Context, destination string) (syndicate.DestinationState, error) {
	var st syndicate.DestinationState
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketDestinations), []byte(destination), &st)
	})
	if err != nil {
		return syndicate.DestinationState{}, fmt.Errorf("load destination %s: %w", destination, err)
	}
	return st, nil
}

// SaveDestination replaces the state of a destination.
func (s *Store) SaveDestination(ctx context.Context, destination string, st syndicate.DestinationState) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketDestinations), []byte(destination), st)
	})
	if err != nil {
		return fmt.Errorf("save destination %s: %w", destination, err)
	}
	return nil
}

// Prune deletes seen keys last seen before before, final records
// finished before before, and feed leases that expired before before (a
// lease expired then is free at any later time, so no caller can tell).
// It looks in a read transaction first and writes only when there is
// something to delete, so that pruning an idle store commits nothing.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	cut := unixNano(before)
	var found bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		found = false
		return eachStale(tx, cut, func(staleKey) bool {
			found = true
			return false
		})
	})
	if err == nil && found {
		err = s.update(ctx, func(tx *bolt.Tx) error {
			// A bucket must not change while it is walked: collect first.
			var stale []staleKey
			err := eachStale(tx, cut, func(k staleKey) bool {
				k.key = bytes.Clone(k.key)
				stale = append(stale, k)
				return true
			})
			if err != nil {
				return err
			}
			for _, k := range stale {
				if err := k.bucket.Delete(k.key); err != nil {
					return err
				}
				if k.record != nil {
					if err := k.record.Delete(k.key[8:]); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("prune before %s: %w", before.Format(time.RFC3339), err)
	}
	return nil
}

// staleKey is an entry that Prune deletes: key in bucket and, for a done
// entry, its record (keyed by key[8:]) in record.
type staleKey struct {
	bucket *bolt.Bucket
	key    []byte
	record *bolt.Bucket
}

// errStopWalk ends eachStale's walk early.
var errStopWalk = errors.New("stop walking")

// eachStale calls fn with each entry that Prune(cut) deletes, until fn
// returns false. The key is valid only during the transaction.
func eachStale(tx *bolt.Tx, cut int64, fn func(staleKey) bool) error {
	visit := func(k staleKey) error {
		if !fn(k) {
			return errStopWalk
		}
		return nil
	}
	// A file opened read-only may predate a bucket.
	var err error
	err = eachMark(tx, func(b *bolt.Bucket, k, v []byte) error {
		if len(v) < 8 || int64(binary.BigEndian.Uint64(v)) < cut {
			return visit(staleKey{bucket: b, key: k})
		}
		return nil
	})
	if leases := tx.Bucket(bucketLeases); err == nil && leases != nil {
		err = leases.ForEach(func(k, v []byte) error {
			if until, _, err := parseLease(v); err != nil || until < cut {
				return visit(staleKey{bucket: leases, key: k})
			}
			return nil
		})
	}
	if done := tx.Bucket(bucketDone); err == nil && done != nil {
		err = done.ForEachBucket(func(dest []byte) error {
			b, err := destBuckets(tx, string(dest), false)
			if err != nil {
				return err
			}
			c := b.done.Cursor()
			for k, _ := c.First(); k != nil && len(k) >= 8 && int64(binary.BigEndian.Uint64(k)^1<<63) < cut; k, _ = c.Next() {
				if err := visit(staleKey{bucket: b.done, key: k, record: b.records}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if errors.Is(err, errStopWalk) {
		return nil
	}
	return err
}

// buckets are the per-destination buckets; nil when absent and not created.
type buckets struct {
	records, order, done *bolt.Bucket
}

func destBuckets(tx *bolt.Tx, destination string, create bool) (buckets, error) {
	name := []byte(destination)
	var b buckets
	if !create {
		b.records = tx.Bucket(bucketDeliveries).Bucket(name)
		b.order = tx.Bucket(bucketOrder).Bucket(name)
		b.done = tx.Bucket(bucketDone).Bucket(name)
		return b, nil
	}
	var err error
	if b.records, err = tx.Bucket(bucketDeliveries).CreateBucketIfNotExists(name); err != nil {
		return b, err
	}
	if b.order, err = tx.Bucket(bucketOrder).CreateBucketIfNotExists(name); err != nil {
		return b, err
	}
	if b.done, err = tx.Bucket(bucketDone).CreateBucketIfNotExists(name); err != nil {
		return b, err
	}
	return b, nil
}

func getJSON(b *bolt.Bucket, key []byte, v any) error {
	raw := b.Get(key)
	if raw == nil {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %q: %w", key, err)
	}
	return nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put(key, raw)
}

// unixNano maps the zero time to the smallest instant, so that a zero
// NotBefore is always due.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

func seqKey(seq int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(seq))
	return k
}

func orderValue(due time.Time, articleKey string) []byte {
	v := make([]byte, 8+len(articleKey))
	binary.BigEndian.PutUint64(v, uint64(unixNano(due)))
	copy(v[8:], articleKey)
	return v
}

func parseOrderValue(v []byte) (int64, string, error) {
	if len(v) < 8 {
		return 0, "", errors.New("corrupt order entry")
	}
	return int64(binary.BigEndian.Uint64(v)), string(v[8:]), nil
}

func leaseValue(until time.Time, owner string) []byte {
	v := make([]byte, 8+len(owner))
	binary.BigEndian.PutUint64(v, uint64(unixNano(until)))
	copy(v[8:], owner)
	return v
}

func parseLease(v []byte) (int64, string, error) {
	if len(v) < 8 {
		return 0, "", errors.New("corrupt lease")
	}
	return int64(binary.BigEndian.Uint64(v)), string(v[8:]), nil
}

// doneKey sorts by finish time: the sign bit is flipped so that the
// big-endian bytes order like the signed nanoseconds.
func doneKey(d syndicate.Delivery) []byte {
	k := make([]byte, 8+len(d.ArticleKey))
	binary.BigEndian.PutUint64(k, uint64(unixNano(d.FinishedAt))^1<<63)
	copy(k[8:], d.ArticleKey)
	return k
}

func sortBySeq(ds []syndicate.Delivery) {
	slices.SortFunc(ds, func(a, b syndicate.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
}

// LoadPush returns a feed's push subscription, zero when never saved.
func (s *Store) LoadPush(ctx context.Context, feedID string) (syndicate.PushState, error) {
	var st syndicate.PushState
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketPush), []byte(feedID), &st)
	})
	if err != nil {
		return syndicate.PushState{}, fmt.Errorf("load push %s: %w", feedID, err)
	}
	return st, nil
}

// SavePush replaces a feed's push subscription.
func (s *Store) SavePush(ctx context.Context, feedID string, st syndicate.PushState) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketPush), []byte(feedID), st)
	})
	if err != nil {
		return fmt.Errorf("save push %s: %w", feedID, err)
	}
	return nil
}
