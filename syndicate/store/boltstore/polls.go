package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// flushDelay is how long the state of a poll that found nothing new may
// wait in memory before it is written, sharing one commit with the other
// polls of that second.
const flushDelay = time.Second

// polls keeps what a poll needs but the file need not: the poll leases,
// which guard against two polls of one feed at once, and only one process
// can open the file, so they live in memory (a crash releases them, as it
// should); and the states of polls that found nothing new (a 304), which
// only move the poll times on and are written a second later, all at
// once, instead of costing a commit and an fsync each. A crash loses at
// most that second of poll times: those feeds are polled again.
type polls struct {
	mu     sync.Mutex
	leases map[string]lease
	// waiting holds encoded states not yet written, by feed; version
	// counts direct writes, so that a flush never overwrites a newer state
	// with the one it took earlier.
	waiting map[string][]byte
	version map[string]uint64
	armed   bool
	// flush writes the waiting states; nil on a read-only store.
	flush func() error
}

type lease struct {
	owner string
	until time.Time
}

func newPolls() *polls {
	return &polls{leases: map[string]lease{}, waiting: map[string][]byte{}, version: map[string]uint64{}}
}

// take takes, renews or refuses a feed's lease.
func (p *polls) take(feedID, owner string, now time.Time, ttl time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.leases[feedID]; ok && l.owner != owner && l.until.After(now) {
		return false
	}
	p.leases[feedID] = lease{owner: owner, until: now.Add(ttl)}
	return true
}

// release drops owner's lease on a feed.
func (p *polls) release(feedID, owner string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.leases[feedID]; ok && l.owner == owner {
		delete(p.leases, feedID)
	}
}

// later returns a feed's state still waiting to be written.
func (p *polls) later(feedID string) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	raw, ok := p.waiting[feedID]
	return raw, ok
}

// written is called before a feed's state is written directly: the state
// waiting, older, is dropped.
func (p *polls) written(feedID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiting, feedID)
	p.version[feedID]++
}

// keep holds a feed's state to be written within flushDelay; it reports
// false on a store that cannot write later (read-only).
func (p *polls) keep(feedID string, raw []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.flush == nil {
		return false
	}
	p.waiting[feedID] = raw
	p.arm()
	return true
}

// arm sets the flush timer unless it is set; p.mu is held.
func (p *polls) arm() {
	if !p.armed && len(p.waiting) > 0 {
		p.armed = true
		time.AfterFunc(flushDelay, func() { _ = p.flush() })
	}
}

// LeaseFeed takes the poll lease of a feed until now+ttl when it is free,
// expired or already owner's.
func (s *Store) LeaseFeed(ctx context.Context, feedID, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if err := syndicate.ValidateLease(owner, ttl); err != nil {
		return false, fmt.Errorf("lease feed %s: %w", feedID, err)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return s.polls.take(feedID, owner, now, ttl), nil
}

// ReleaseFeed gives up owner's poll lease of a feed.
func (s *Store) ReleaseFeed(ctx context.Context, feedID, owner string) error {
	if owner == "" {
		return fmt.Errorf("release feed %s: empty owner", feedID)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.polls.release(feedID, owner)
	return nil
}

// BeginPoll takes the poll lease of a feed and loads its state: a read,
// no commit.
func (s *Store) BeginPoll(ctx context.Context, feedID, owner string, now time.Time, ttl time.Duration) (syndicate.FeedState, bool, error) {
	if err := syndicate.ValidateLease(owner, ttl); err != nil {
		return syndicate.FeedState{}, false, fmt.Errorf("begin poll %s: %w", feedID, err)
	}
	if err := ctx.Err(); err != nil {
		return syndicate.FeedState{}, false, err
	}
	if !s.polls.take(feedID, owner, now, ttl) {
		return syndicate.FeedState{}, false, nil
	}
	st, err := s.LoadFeed(ctx, feedID)
	if err != nil {
		s.polls.release(feedID, owner)
		return syndicate.FeedState{}, false, fmt.Errorf("begin poll %s: %w", feedID, err)
	}
	return st, true, nil
}

// EndPoll records seen items and saves the feed's state in one write
// transaction, shared with other callers' (see batch), and releases the
// lease. A poll that saw nothing new leaves its state to be written
// within flushDelay with the others (see polls).
func (s *Store) EndPoll(ctx context.Context, feedID, owner string, st syndicate.FeedState, seen map[string]string, now time.Time) error {
	if owner == "" {
		return fmt.Errorf("end poll %s: empty owner", feedID)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("end poll %s: %w", feedID, err)
	}
	defer s.polls.release(feedID, owner)
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(seen) == 0 && s.polls.keep(feedID, raw) {
		return nil
	}
	s.polls.written(feedID)
	err = s.batch(ctx, func(tx *bolt.Tx) error {
		if err := markSeen(tx, feedID, seen, now); err != nil {
			return err
		}
		return tx.Bucket(bucketFeeds).Put([]byte(feedID), raw)
	})
	if err != nil {
		return fmt.Errorf("end poll %s: %w", feedID, err)
	}
	return nil
}

// flushLater writes the feed states waiting, in one commit; a state
// written directly meanwhile is newer and stays.
func (s *Store) flushLater() error {
	p := s.polls
	p.mu.Lock()
	waiting, versions := p.waiting, make(map[string]uint64, len(p.waiting))
	for id := range waiting {
		versions[id] = p.version[id]
	}
	p.waiting, p.armed = map[string][]byte{}, false
	p.mu.Unlock()
	if len(waiting) == 0 {
		return nil
	}
	err := s.batch(context.Background(), func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFeeds)
		p.mu.Lock()
		defer p.mu.Unlock()
		for id, raw := range waiting {
			if p.version[id] != versions[id] {
				continue
			}
			if err := b.Put([]byte(id), raw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Kept for the next flush, unless a newer state came meanwhile.
		p.mu.Lock()
		for id, raw := range waiting {
			if _, newer := p.waiting[id]; !newer && p.version[id] == versions[id] {
				p.waiting[id] = raw
			}
		}
		p.arm()
		p.mu.Unlock()
		return fmt.Errorf("write poll states: %w", err)
	}
	return nil
}
