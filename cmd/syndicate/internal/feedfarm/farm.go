// Package feedfarm serves many WordPress-like RSS feeds over loopback HTTP,
// so that the cost of polling them can be measured without a real site.
//
// Every feed is rendered on request from a deterministic recipe (the same
// options give the same bytes), about 44 KB with ten items in one of the
// site's four languages, and answers conditional requests (If-None-Match,
// If-Modified-Since) with 304 Not Modified. The farm moves in rounds:
// advancing it makes a fixed share of the feeds gain one new item, and so a
// new ETag and Last-Modified.
package feedfarm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ItemsPerFeed is how many items a feed shows, newest first, as WordPress
// shows ten by default.
const ItemsPerFeed = 10

// StatsPath answers with the Stats of the current round as JSON, for a
// poller in another process that needs to know whether it has polled every
// feed.
const StatsPath = "/_farm/stats"

// contentTarget is how many bytes of paragraphs an item's content gets: with
// the markup around them it makes feeds of about 44 KB.
const contentTarget = 1450

// Options shape a farm.
type Options struct {
	// Feeds is how many feeds the farm serves (at least 1).
	Feeds int
	// Changed is the share of feeds (0 to 1) that gain one item each
	// round.
	Changed float64
	// Epoch is when round 0 was current: the newest items of round 0 are
	// dated before it, and an item added in round r is dated Epoch+r×Step
	// (default: now).
	Epoch time.Time
	// Step is the time between two rounds (default 10 minutes).
	Step time.Duration
}

// Stats count the requests a farm answered since the round began.
type Stats struct {
	Round int `json:"round"`
	// OK counts feeds sent in full (200), NotModified the 304 answers and
	// Other every request for something that is not a feed.
	OK          int64 `json:"ok"`
	NotModified int64 `json:"not_modified"`
	Other       int64 `json:"other"`
	// Bytes is the total size of the feed bodies sent.
	Bytes int64 `json:"bytes"`
	// Conns counts the connections pollers opened: a poller that keeps
	// too few idle connections per host opens one for most polls.
	Conns int64 `json:"conns"`
}

// Polls is the number of feed requests answered, in full or not.
func (s Stats) Polls() int64 { return s.OK + s.NotModified }

// Farm is a running feed farm; it is safe for concurrent use.
type Farm struct {
	opts     Options
	url      string
	srv      *http.Server
	eds      []edition
	paras    [][]paragraph
	mult     int
	perRound int

	// round and the counters are reset together by SetRound, between
	// rounds, when no poll is in flight.
	round       atomic.Int64
	ok          atomic.Int64
	notModified atomic.Int64
	other       atomic.Int64
	bytes       atomic.Int64
	conns       atomic.Int64

	bufs sync.Pool
}

// Start serves a farm on a free loopback port.
func Start(o Options) (*Farm, error) {
	if o.Feeds < 1 {
		return nil, errors.New("feed farm: at least one feed")
	}
	if o.Changed < 0 || o.Changed > 1 || math.IsNaN(o.Changed) {
		return nil, fmt.Errorf("feed farm: changed share %v is not between 0 and 1", o.Changed)
	}
	if o.Epoch.IsZero() {
		o.Epoch = time.Now()
	}
	o.Epoch = o.Epoch.UTC().Truncate(time.Second)
	if o.Step <= 0 {
		o.Step = 10 * time.Minute
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("feed farm: listen on loopback: %w", err)
	}
	f := &Farm{opts: o, url: "http://" + ln.Addr().String(), eds: newEditions()}
	f.perRound = int(math.Round(o.Changed * float64(o.Feeds)))
	if f.perRound == 0 && o.Changed > 0 {
		f.perRound = 1
	}
	f.mult = coprimeMultiplier(o.Feeds)
	for i := range f.eds {
		escapeEdition(&f.eds[i])
		f.paras = append(f.paras, paragraphs(f.eds[i], i))
	}
	f.bufs.New = func() any { b := make([]byte, 0, 64<<10); return &b }
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.conns.Add(1)
		}
	}}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// Close stops serving.
func (f *Farm) Close() error { return f.srv.Close() }

// URL is the farm's base URL, e.g. http://127.0.0.1:41234.
func (f *Farm) URL() string { return f.url }

// Feeds is the number of feeds served.
func (f *Farm) Feeds() int { return f.opts.Feeds }

// Epoch is when round 0 was current.
func (f *Farm) Epoch() time.Time { return f.opts.Epoch }

// FeedURL is the URL of feed i (0 ≤ i < Feeds): a category feed of one
// edition, as WordPress names them.
func (f *Farm) FeedURL(i int) string { return f.url + f.feedPath(i) }

func (f *Farm) feedPath(i int) string {
	return f.eds[i%len(f.eds)].path + "/category/topic-" + strconv.Itoa(i) + "/feed/"
}

// Language is the language feed i declares.
func (f *Farm) Language(i int) string { return f.eds[i%len(f.eds)].lang }

// Round is the current round.
func (f *Farm) Round() int { return int(f.round.Load()) }

// Advance moves to the next round and returns it; call it only while no
// poll is in flight.
func (f *Farm) Advance() int {
	r := f.Round() + 1
	f.SetRound(r)
	return r
}

// SetRound goes to round r (0 to start over, for another poller) and
// zeroes the counters; call it only while no poll is in flight.
func (f *Farm) SetRound(r int) {
	f.ok.Store(0)
	f.notModified.Store(0)
	f.other.Store(0)
	f.bytes.Store(0)
	f.conns.Store(0)
	f.round.Store(int64(max(r, 0)))
}

// Stats returns the counters of the current round.
func (f *Farm) Stats() Stats {
	return Stats{
		Round: f.Round(), OK: f.ok.Load(), NotModified: f.notModified.Load(),
		Other: f.other.Load(), Bytes: f.bytes.Load(), Conns: f.conns.Load(),
	}
}

// ChangedIn is how many feeds gained an item in round r.
func (f *Farm) ChangedIn(r int) int {
	if r < 1 {
		return 0
	}
	return min(f.perRound, f.opts.Feeds)
}

// Changed reports whether feed i gains an item in round r: each round a
// different set of feeds, scattered over the index range, until every feed
// had its turn.
func (f *Farm) Changed(i, r int) bool {
	if r < 1 || f.perRound == 0 {
		return false
	}
	n := f.opts.Feeds
	if f.perRound >= n {
		return true
	}
	pos := (i * f.mult) % n
	start := ((r - 1) * f.perRound) % n
	return (pos-start+n)%n < f.perRound
}

// ItemCount is how many items feed i has had by round r (it shows the
// newest ItemsPerFeed of them).
func (f *Farm) ItemCount(i, r int) int {
	n := ItemsPerFeed
	for s := 1; s <= r; s++ {
		if f.Changed(i, s) {
			n++
		}
	}
	return n
}

// GUID is the guid of feed i's item k (0 is its oldest item).
func (f *Farm) GUID(i, k int) string {
	return f.url + "/?p=" + strconv.Itoa(postID(i, k))
}

// CurrentGUIDs are the guids feed i shows in round r, newest first.
func (f *Farm) CurrentGUIDs(i, r int) []string {
	n := f.ItemCount(i, r)
	var out []string
	for k := n - 1; k >= max(n-ItemsPerFeed, 0); k-- {
		out = append(out, f.GUID(i, k))
	}
	return out
}

// AddedGUIDs are the guids of the items feed i gained in rounds 1 to r,
// oldest first.
func (f *Farm) AddedGUIDs(i, r int) []string {
	var out []string
	for k := ItemsPerFeed; k < f.ItemCount(i, r); k++ {
		out = append(out, f.GUID(i, k))
	}
	return out
}

func postID(i, k int) int { return i*100_000 + k + 1 }

// ServeHTTP answers feed requests and StatsPath; anything else is counted
// and not found.
func (f *Farm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, ok := f.feedIndex(r.URL.Path)
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		if r.URL.Path == StatsPath {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(f.Stats())
			return
		}
		f.other.Add(1)
		http.NotFound(w, r)
		return
	}
	round := f.Round()
	changes := f.changeRounds(i, round)
	count := ItemsPerFeed + len(changes)
	modified := f.itemDate(i, count-1, changes)
	etag := `"` + strconv.FormatUint(mix(uint64(i), uint64(count)), 16) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Last-Modified", modified.Format(http.TimeFormat))
	if notModified(r, etag, modified) {
		f.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	bp := f.bufs.Get().(*[]byte)
	body := f.render((*bp)[:0], i, count, changes)
	h.Set("Content-Type", "application/rss+xml; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	// Counted before the body goes out: a client that has read it must
	// find it counted (a round may be advanced right after).
	f.ok.Add(1)
	f.bytes.Add(int64(len(body)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
	*bp = body
	f.bufs.Put(bp)
}

// Body returns feed i as served in round r, for tests and size checks.
func (f *Farm) Body(i, r int) []byte {
	changes := f.changeRounds(i, r)
	return f.render(nil, i, ItemsPerFeed+len(changes), changes)
}

// feedIndex finds the feed a path names without allocating.
func (f *Farm) feedIndex(p string) (int, bool) {
	const mid, tail = "/category/topic-", "/feed/"
	at := strings.Index(p, mid)
	if at < 0 || !strings.HasSuffix(p, tail) {
		return 0, false
	}
	i, err := strconv.Atoi(p[at+len(mid) : len(p)-len(tail)])
	if err != nil || i < 0 || i >= f.opts.Feeds || p[:at] != f.eds[i%len(f.eds)].path {
		return 0, false
	}
	return i, true
}

// notModified evaluates the conditional headers as RFC 9110 section 13.2.2
// orders them: If-None-Match when present, else If-Modified-Since.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for tag := range strings.SplitSeq(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == etag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !modified.After(t)
	}
	return false
}

// changeRounds lists the rounds up to r in which feed i gained an item.
func (f *Farm) changeRounds(i, r int) []int {
	var out []int
	for s := 1; s <= r; s++ {
		if f.Changed(i, s) {
			out = append(out, s)
		}
	}
	return out
}

// itemDate is when feed i's item k was published: the first items a few
// hours apart before the epoch, each later one in the round it was added.
func (f *Farm) itemDate(i, k int, changes []int) time.Time {
	if k >= ItemsPerFeed {
		return f.opts.Epoch.Add(time.Duration(changes[k-ItemsPerFeed]) * f.opts.Step)
	}
	return f.opts.Epoch.Add(-time.Duration(ItemsPerFeed-k)*5*time.Hour - time.Duration(i%97)*time.Minute)
}

// coprimeMultiplier returns a multiplier that permutes 0..n-1 (i×m mod n),
// so that the feeds changed in one round are scattered.
func coprimeMultiplier(n int) int {
	if n <= 1 {
		return 1
	}
	for m := 7919; ; m++ {
		if gcd(m%n, n) == 1 {
			return m % n
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// mix is a 64-bit hash of two numbers (the splitmix64 finaliser), the
// farm's only source of variety.
func mix(a, b uint64) uint64 {
	z := a*0x9e3779b97f4a7c15 ^ (b + 0x632be59bd9b4e5ad)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
