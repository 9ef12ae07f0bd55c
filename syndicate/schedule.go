package syndicate

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"
)

// schedule is the worker's queue of feeds by next poll time, kept in
// memory so that a feed that is not due costs neither a store access nor
// more than a glance at the heap's top. It holds each feed at most once;
// a feed being polled is out of it until the poll puts it back.
type schedule struct {
	mu sync.Mutex
	h  dueHeap
	at map[string]*dueEntry
	// wake is signalled when a feed becomes the earliest, so that a
	// poller asleep until a later time looks again.
	wake chan struct{}
}

type dueEntry struct {
	id    string
	due   time.Time
	index int
}

type dueHeap []*dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *dueHeap) Push(x any) {
	e := x.(*dueEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

func newSchedule() *schedule {
	return &schedule{at: map[string]*dueEntry{}, wake: make(chan struct{}, 1)}
}

// set puts the feed in the queue at due, or moves it there.
func (s *schedule) set(id string, due time.Time) {
	s.mu.Lock()
	e, ok := s.at[id]
	if ok {
		e.due = due
		heap.Fix(&s.h, e.index)
	} else {
		e = &dueEntry{id: id, due: due}
		s.at[id] = e
		heap.Push(&s.h, e)
	}
	first := s.h[0] == e
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// remove takes a feed out of the queue.
func (s *schedule) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.at[id]; ok {
		heap.Remove(&s.h, e.index)
		delete(s.at, id)
	}
}

// popDue takes the feeds due at now out of the queue, earliest first.
func (s *schedule) popDue(now time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for len(s.h) > 0 && !s.h[0].due.After(now) {
		e := heap.Pop(&s.h).(*dueEntry)
		delete(s.at, e.id)
		ids = append(ids, e.id)
	}
	return ids
}

// next returns the earliest due time, and false when the queue is empty.
func (s *schedule) next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.h) == 0 {
		return time.Time{}, false
	}
	return s.h[0].due, true
}

// phase places a feed in [0, 1) by its id, so that feeds spread evenly
// over a window and each keeps its place across restarts and replicas.
func phase(id string) float64 {
	// A cryptographic hash: FNV's high bits barely differ between ids
	// that differ in their last character.
	sum := sha256.Sum256([]byte(id))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// pointAfter is the first time at or after t that lies at phase p of a
// period (counted from the Unix epoch), so that a feed comes back to the
// same point of its interval poll after poll.
func pointAfter(t time.Time, period time.Duration, p float64) time.Time {
	if period <= 0 {
		return t
	}
	off := time.Duration(p * float64(period))
	since := t.Sub(time.Unix(0, 0).Add(off))
	k := since / period
	if since%period != 0 {
		k++
	}
	return time.Unix(0, 0).Add(off + k*period)
}

// jitterOf is a random shift of up to ±jitter/2 of the interval, so that
// feeds polled together drift apart instead of staying in step.
func jitterOf(interval time.Duration, jitter float64) time.Duration {
	if jitter <= 0 || interval <= 0 {
		return 0
	}
	return time.Duration((rand.Float64() - 0.5) * jitter * float64(interval))
}

// hostOf is the host a feed is fetched from, for the per-host cap.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return strings.ToLower(u.Hostname())
}

// pollPool polls a list of feeds with at most conc at once overall and at
// most perHost at once per host (0: no per-host cap). A feed whose host is
// busy waits aside and is taken up by the worker that frees the host, so
// that a busy host never holds up the others and no goroutine is spent per
// waiting feed.
type pollPool struct {
	conc, perHost int
	host          func(id string) string
	poll          func(id string)

	mu      sync.Mutex
	queue   []string
	next    int
	running map[string]int
	waiting map[string][]string
}

func (p *pollPool) run(ctx context.Context, ids []string, stop func() bool) (left []string) {
	p.queue, p.next = ids, 0
	p.running, p.waiting = map[string]int{}, map[string][]string{}
	var wg sync.WaitGroup
	var leftMu sync.Mutex
	for range min(p.conc, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var host string
			for {
				var id string
				var ok bool
				if id, host, ok = p.take(host); !ok {
					return
				}
				if ctx.Err() != nil || stop() {
					leftMu.Lock()
					left = append(left, id)
					leftMu.Unlock()
				} else {
					p.poll(id)
				}
				p.done(host)
			}
		}()
	}
	wg.Wait()
	return left
}

// take returns the next feed to poll: one waiting for the host this
// worker just freed, else the next of the queue whose host has room;
// feeds whose host is full are set aside.
func (p *pollPool) take(freed string) (id, host string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.waiting[freed]; len(w) > 0 {
		p.waiting[freed] = w[1:]
		p.running[freed]++
		return w[0], freed, true
	}
	for p.next < len(p.queue) {
		id := p.queue[p.next]
		p.next++
		h := p.host(id)
		if p.perHost > 0 && p.running[h] >= p.perHost {
			p.waiting[h] = append(p.waiting[h], id)
			continue
		}
		p.running[h]++
		return id, h, true
	}
	return "", "", false
}

func (p *pollPool) done(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[host]--
}
