package soak

import (
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/feedfarm"
)

// feedFault is how a broken feed answers while it is broken.
type feedFault int

const (
	// serverError answers 500, as a site whose database is down.
	serverError feedFault = iota
	// hang never answers: the worker's fetch timeout ends the request.
	hang
	// garbage answers 200 with something that is not a feed.
	garbage
	feedFaultKinds
)

func (f feedFault) String() string {
	return [...]string{"500", "hang", "garbage"}[f]
}

// feedFront serves the farm's feeds, each of which may be broken for a
// while.
type feedFront struct {
	farm  *feedfarm.Farm
	index map[string]int // URL path → feed

	mu     sync.Mutex
	broken map[int]brokenFeed
	// counts are the faults begun, by kind.
	counts [feedFaultKinds]int
}

type brokenFeed struct {
	fault feedFault
	until time.Time
}

func newFeedFront(farm *feedfarm.Farm) *feedFront {
	f := &feedFront{farm: farm, index: map[string]int{}, broken: map[int]brokenFeed{}}
	for i := range farm.Feeds() {
		f.index[strings.TrimPrefix(farm.FeedURL(i), farm.URL())] = i
	}
	return f
}

// breakSome breaks n feeds that work, each for between 40s and 2m, with a
// fault drawn from rng.
func (f *feedFront) breakSome(rng *rand.Rand, n int, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range f.broken {
		if !now.Before(b.until) {
			delete(f.broken, i)
		}
	}
	for range n {
		i := rng.IntN(f.farm.Feeds())
		if _, ok := f.broken[i]; ok {
			continue
		}
		fault := feedFault(rng.IntN(int(feedFaultKinds)))
		f.broken[i] = brokenFeed{fault: fault, until: now.Add(40*time.Second + time.Duration(rng.Int64N(int64(80*time.Second))))}
		f.counts[fault]++
	}
}

// mend ends every fault.
func (f *feedFront) mend() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.broken)
}

// faultCounts returns how many faults of each kind were begun.
func (f *feedFront) faultCounts() [feedFaultKinds]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

func (f *feedFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, ok := f.index[r.URL.Path]
	if !ok {
		f.farm.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	b, broken := f.broken[i]
	f.mu.Unlock()
	if !broken || !time.Now().Before(b.until) {
		f.farm.ServeHTTP(w, r)
		return
	}
	switch b.fault {
	case serverError:
		http.Error(w, "Error establishing a database connection", http.StatusInternalServerError)
	case hang:
		// Held until the worker gives up; the cap only frees the handler
		// of a client that never does.
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Minute):
		}
	case garbage:
		// Three kinds of garbage in turn: a feed cut off in the middle, an
		// HTML error page and binary noise.
		w.WriteHeader(http.StatusOK)
		switch time.Now().Second() % 3 {
		case 0:
			body := f.farm.Body(i, f.farm.Round())
			w.Write(body[:len(body)/2])
		case 1:
			w.Write([]byte("<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>Briefly unavailable for scheduled maintenance.</h1></body></html>"))
		default:
			noise := make([]byte, 4096)
			for k := range noise {
				noise[k] = byte(k*131 + i)
			}
			w.Write(noise)
		}
	}
}

// slowFront passes requests to a platform stand-in, holding some back
// first, as a platform slow to answer: slower than usual, yet well within
// the clients' timeouts (Telegram 60s, Mastodon 30s), so that the answer
// is not lost and nothing is sent twice.
type slowFront struct {
	proxy *httputil.ReverseProxy

	mu    sync.Mutex
	left  int
	delay time.Duration
	held  int
}

func newSlowFront(target string) (*slowFront, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &slowFront{proxy: httputil.NewSingleHostReverseProxy(u)}, nil
}

// slow holds back the next n requests for d each.
func (s *slowFront) slow(n int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.left, s.delay = n, d
}

// heldBack counts the requests held back.
func (s *slowFront) heldBack() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

func (s *slowFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var d time.Duration
	if s.left > 0 {
		s.left--
		s.held++
		d = s.delay
	}
	s.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	s.proxy.ServeHTTP(w, r)
}
