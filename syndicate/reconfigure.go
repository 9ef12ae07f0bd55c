package syndicate

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// topology is the engine's feeds, routes and destinations. It is never
// changed once built: Reconfigure builds another and swaps it in, so a
// poll or a send that took one sees it whole.
type topology struct {
	feeds []Feed
	// feedIndex finds a feed by id; routesOf lists the routes (indexes
	// into routes) that carry a feed, so that a poll never walks the
	// routes of other feeds (one route per feed is common).
	feedIndex map[string]int
	routes    []Route
	routesOf  map[string][]int
	dests     map[string]*Destination
	// order lists the destinations as configured.
	order []string
	// wakes has a channel per destination that is signalled when a job is
	// queued for it, so that an idle destination costs nothing; a
	// destination keeps its channel across reconfigurations.
	wakes map[string]chan struct{}
}

// newTopology checks that routes name known feeds and destinations and
// indexes them; old (nil at first) lends its wake channels.
func newTopology(feeds []Feed, routes []Route, dests []Destination, old *topology) (*topology, error) {
	t := &topology{
		feeds: slices.Clone(feeds), feedIndex: map[string]int{}, routes: slices.Clone(routes), routesOf: map[string][]int{},
		dests: map[string]*Destination{}, wakes: map[string]chan struct{}{},
	}
	for i := range t.feeds {
		t.feeds[i].host = hostOf(t.feeds[i].URL)
		if _, dup := t.feedIndex[t.feeds[i].ID]; dup {
			return nil, fmt.Errorf("feed %q listed twice", t.feeds[i].ID)
		}
		t.feedIndex[t.feeds[i].ID] = i
	}
	for i := range dests {
		d := dests[i]
		if _, dup := t.dests[d.ID]; dup {
			return nil, fmt.Errorf("destination %q listed twice", d.ID)
		}
		if d.Policy.MaxAttempts <= 0 {
			d.Policy.MaxAttempts = 10
		}
		if d.Policy.MaxAge <= 0 {
			d.Policy.MaxAge = 24 * time.Hour
		}
		t.dests[d.ID] = &d
		t.order = append(t.order, d.ID)
		if old != nil && old.wakes[d.ID] != nil {
			t.wakes[d.ID] = old.wakes[d.ID]
		} else {
			t.wakes[d.ID] = make(chan struct{}, 1)
		}
	}
	for i, r := range t.routes {
		for _, f := range r.Feeds {
			if _, ok := t.feedIndex[f]; !ok {
				return nil, fmt.Errorf("route %d: unknown feed %q", i, f)
			}
			if !slices.Contains(t.routesOf[f], i) {
				t.routesOf[f] = append(t.routesOf[f], i)
			}
		}
		for _, d := range r.To {
			if t.dests[d] == nil {
				return nil, fmt.Errorf("route %d: unknown destination %q", i, d)
			}
		}
	}
	return t, nil
}

func (t *topology) feed(id string) (Feed, bool) {
	if i, ok := t.feedIndex[id]; ok {
		return t.feeds[i], true
	}
	return Feed{}, false
}

// routesFor returns the routes that carry a feed.
func (t *topology) routesFor(feedID string) []Route {
	idx := t.routesOf[feedID]
	out := make([]Route, 0, len(idx))
	for _, i := range idx {
		out = append(out, t.routes[i])
	}
	return out
}

// topology returns the feeds, routes and destinations in force.
func (e *Engine) topology() *topology { return e.topo.Load() }

// dest returns a destination in force, or nil.
func (e *Engine) dest(id string) *Destination { return e.topology().dests[id] }

// Config is what Reconfigure replaces: the feeds, routes and destinations.
type Config struct {
	Feeds        []Feed
	Routes       []Route
	Destinations []Destination
}

// Changes lists what a reconfiguration added and removed, by id.
type Changes struct {
	FeedsAdded, FeedsRemoved               []string
	DestinationsAdded, DestinationsRemoved []string
}

// Unsubscriber is implemented by pushers that can end a feed's
// subscription, so that a feed removed from the configuration stops
// being pushed.
type Unsubscriber interface {
	Unsubscribe(ctx context.Context, feedID string) error
}

// Reconfigure puts new feeds, routes and destinations in force while the
// engine runs, without losing queued work. Removed feeds leave the
// schedule (and their push subscription ends); added feeds are polled
// like any feed at start, primed at first sight. A removed destination's
// sender stops after the post in flight, and its queued jobs stay in the
// store for when it comes back; an added one gets a sender at once. Every
// destination of c is handed its remembered facts and has its pause
// lifted, as at a restart. Nothing changes when c is invalid.
func (e *Engine) Reconfigure(ctx context.Context, c Config) (Changes, error) {
	e.reconfMu.Lock()
	defer e.reconfMu.Unlock()
	old := e.topology()
	t, err := newTopology(c.Feeds, c.Routes, c.Destinations, old)
	if err != nil {
		return Changes{}, err
	}
	var ch Changes
	for _, f := range t.feeds {
		if _, ok := old.feedIndex[f.ID]; !ok {
			ch.FeedsAdded = append(ch.FeedsAdded, f.ID)
		}
	}
	for _, f := range old.feeds {
		if _, ok := t.feedIndex[f.ID]; !ok {
			ch.FeedsRemoved = append(ch.FeedsRemoved, f.ID)
		}
	}
	for _, id := range t.order {
		if old.dests[id] == nil {
			ch.DestinationsAdded = append(ch.DestinationsAdded, id)
		}
	}
	for _, id := range old.order {
		if t.dests[id] == nil {
			ch.DestinationsRemoved = append(ch.DestinationsRemoved, id)
		}
	}
	// Destinations are restored before anything can send to them.
	for _, id := range t.order {
		if err := e.restoreDestination(ctx, t.dests[id]); err != nil {
			return Changes{}, err
		}
	}
	e.fillMu.Lock()
	e.topo.Store(t)
	if e.filled {
		if err := e.schedule(ctx, ch.FeedsAdded); err != nil {
			e.log.Warn("new feeds scheduled now; their state could not be read", "error", err)
		}
	}
	e.fillMu.Unlock()
	for _, id := range ch.FeedsRemoved {
		e.sched.remove(id)
		e.pushMu.Lock()
		delete(e.pushStatus, id)
		e.pushMu.Unlock()
		if u, ok := e.push.(Unsubscriber); ok {
			if err := u.Unsubscribe(ctx, id); err != nil {
				e.log.Warn("ending the push subscription of a removed feed failed", "feed", id, "error", err)
			}
		}
	}
	e.senders.update(t.order, ch.DestinationsRemoved)
	return ch, nil
}

// schedule puts feeds in the schedule at their stored next poll time, or,
// when due already, at their point of the start window; fillMu is held.
func (e *Engine) schedule(ctx context.Context, ids []string) error {
	now := e.clock.Now()
	var firstErr error
	for _, id := range ids {
		due := now
		st, err := e.store.LoadFeed(ctx, id)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("load feed %s: %w", id, err)
		}
		if err == nil && st.NextPoll.After(now) {
			due = st.NextPoll
		} else if f, ok := e.topology().feed(id); ok {
			window := min(e.startIn, max(f.PollInterval, 0))
			due = now.Add(time.Duration(phase(id) * float64(window)))
		}
		e.sched.set(id, due)
	}
	return firstErr
}

// senders runs one delivery loop per destination while Run runs, and
// starts and stops them as destinations come and go.
type senders struct {
	mu sync.Mutex
	// run starts a destination's loop, which ends when quit is closed;
	// nil while Run is not running.
	run     func(dest string, quit <-chan struct{})
	running map[string]chan struct{}
}

// start begins a loop for each destination, with run starting one.
func (s *senders) start(ids []string, run func(dest string, quit <-chan struct{})) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run, s.running = run, map[string]chan struct{}{}
	for _, id := range ids {
		quit := make(chan struct{})
		s.running[id] = quit
		run(id, quit)
	}
}

// update stops the loops of removed destinations and starts loops for
// those in ids without one.
func (s *senders) update(ids, removed []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == nil {
		return
	}
	for _, id := range removed {
		if quit, ok := s.running[id]; ok {
			close(quit)
			delete(s.running, id)
		}
	}
	for _, id := range ids {
		if _, ok := s.running[id]; !ok {
			quit := make(chan struct{})
			s.running[id] = quit
			s.run(id, quit)
		}
	}
}

// end forgets the loops, which end with Run, so that no loop starts after.
func (s *senders) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run, s.running = nil, nil
}
