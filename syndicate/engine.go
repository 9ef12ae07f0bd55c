package syndicate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Route carries the items of some feeds to some destinations.
type Route struct {
	Feeds []string
	To    []string
	// Backfill is how many of the newest matching items are posted at
	// first sight of a feed; the rest are only recorded as seen.
	Backfill int
	// Language is the operator's language for the route's items: it
	// overrides every language but an item's own declaration.
	Language string
	Filter   Filter
}

// Feed is a feed to poll with the rules that apply to its items.
type Feed struct {
	FeedSpec
	// MaxAge: items published longer ago are never posted.
	MaxAge time.Duration

	host string
}

// Policy is the retry policy of a destination.
type Policy struct {
	// MaxAttempts failed attempts park a job.
	MaxAttempts int
	// MaxAge: a job not delivered this long after it was queued is parked.
	MaxAge time.Duration
	// ResendAmbiguous resends after an ambiguous outcome (at-least-once);
	// false marks the job unknown instead (at-most-once).
	ResendAmbiguous bool
}

// Destination is a place posts go to.
type Destination struct {
	ID        string
	Publisher Publisher
	Policy    Policy
}

// Clock is the engine's view of time, injected so tests control it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SystemClock is the real clock.
var SystemClock Clock = systemClock{}

// Metrics receives counts at the points where things happen. All methods
// must be cheap and safe for concurrent use.
type Metrics interface {
	FeedPolled(feed, result string, took time.Duration)
	ItemsDiscovered(feed string, n int)
	Delivered(destination, outcome string, took time.Duration)
	// Parked counts a job given up on (a permanent error, or its retries
	// spent), which an operator must look at.
	Parked(destination string)
}

type noMetrics struct{}

func (noMetrics) FeedPolled(string, string, time.Duration) {}
func (noMetrics) ItemsDiscovered(string, int)              {}
func (noMetrics) Delivered(string, string, time.Duration)  {}
func (noMetrics) Parked(string)                            {}

// LanguageIdentifier tells the language of a text when the declared one
// does not fit the script the text is written in.
type LanguageIdentifier interface {
	// Identify returns the language of text when declared (a BCP 47 tag,
	// possibly empty) does not fit it, and false when declared fits or the
	// text says too little.
	Identify(declared, text string) (string, bool)
}

// Options build an Engine.
type Options struct {
	Store  Store
	Source Source
	// Pages finds og:image for items without an image (optional).
	Pages PageImager
	// Languages corrects declared languages that contradict the text
	// (optional).
	Languages LanguageIdentifier
	// Images checks that image URLs load before they are queued (optional:
	// without it images are queued unchecked).
	Images ImageChecker
	// Push subscribes feeds at their WebSub hubs and tells of changes
	// (optional: without it feeds are only polled).
	Push         Pusher
	Feeds        []Feed
	Routes       []Route
	Destinations []Destination
	Clock        Clock
	Logger       *slog.Logger
	Metrics      Metrics
	// Owner names this worker in job leases.
	Owner string
	// Lease is how long a claimed job stays with this worker before another
	// may take it over (default 2m).
	Lease time.Duration
	// FeedConcurrency is how many feeds are fetched at once (default 4).
	FeedConcurrency int
	// PerHost caps the feeds fetched at once from one host, so that the
	// editions of one site are polled politely (0: no cap).
	PerHost int
	// Spread gives each feed its own point in its poll interval, placed
	// by its id, so that feeds are polled evenly over the interval rather
	// than in bursts: each next poll is moved to the feed's point, between
	// half and one and a half intervals later. The points are the same in
	// every replica and across restarts.
	Spread bool
	// StartSpread places the feeds due at start (never polled, or overdue
	// after downtime) over up to this long, each at its point by id, so
	// that a start does not fetch them all at once (0: all at once).
	StartSpread time.Duration
	// Jitter moves each next poll by up to ±Jitter/2 of the interval, so
	// that feeds and replicas drift out of step (0: none; 0.1 is ±5%).
	Jitter float64
	// PushPollInterval is how often a feed with an active push
	// subscription is still polled, as a safety net (default 1h; never
	// more often than the feed's own interval).
	PushPollInterval time.Duration
	// IdleCheck is how often a destination with nothing known to do looks
	// at its queue anyway, for jobs that other replicas or the command
	// line queued and for claims left by a worker that died (default: the
	// Lease). Jobs this worker queues wake it at once.
	IdleCheck time.Duration
	// Tick is how often the worker looks for due feeds and jobs (default 1s).
	Tick time.Duration
	// Retention is how long seen items and finished deliveries are kept
	// after they were last seen or finished (default 90 days); the worker
	// prunes older state hourly.
	Retention time.Duration
}

// Engine runs the pipeline: schedule → fetch → dedupe → enqueue → render →
// deliver → record.
type Engine struct {
	store   Store
	source  Source
	pages   PageImager
	langs   LanguageIdentifier
	images  ImageChecker
	clock   Clock
	log     *slog.Logger
	metrics Metrics
	owner   string
	lease   time.Duration
	conc    int
	tick    time.Duration
	keep    time.Duration
	pruned  time.Time

	perHost   int
	spread    bool
	startIn   time.Duration
	jitter    float64
	push      Pusher
	pushPoll  time.Duration
	idleCheck time.Duration

	// topo holds the feeds, routes and destinations in force; reconfMu
	// serialises Reconfigure, and senders runs a delivery loop per
	// destination while Run runs.
	topo     atomic.Pointer[topology]
	reconfMu sync.Mutex
	senders  senders
	// sched holds each feed's next poll time as this worker last saw it
	// in the store, so that a feed that is not due costs neither a lease
	// nor a store read. Another replica may have moved the time later; the
	// lease and the stored state still decide. It is filled from the store
	// on the first poll (filled, under fillMu).
	sched  *schedule
	fillMu sync.Mutex
	filled bool
	// polling holds the feeds this worker is polling now, and again those
	// asked to be polled once more when that poll ends (a push arriving
	// mid-poll), so that one worker never polls a feed twice at once.
	pollMu  sync.Mutex
	polling map[string]bool
	again   map[string]bool
	// pushCallBy is, per feed, when the pusher must next be asked about
	// its subscription (absent: ask at the next poll).
	pushMu     sync.Mutex
	pushStatus map[string]pushStatus

	// retryAt is, per destination, the earliest time a job this worker
	// held back becomes due again.
	retryMu sync.Mutex
	retryAt map[string]time.Time

	// misdeclared holds the feeds whose declared language was found to
	// contradict their text, so that it is logged once per feed.
	misdeclared sync.Map

	restoreMu sync.Mutex
	restored  bool
	stopOnce  sync.Once
	stopping  chan struct{}
}

// New builds an Engine; it checks that routes name known feeds and destinations.
func New(o Options) (*Engine, error) {
	e := &Engine{
		store: o.Store, source: o.Source, pages: o.Pages, langs: o.Languages, images: o.Images,
		stopping: make(chan struct{}), sched: newSchedule(),
		polling: map[string]bool{}, again: map[string]bool{}, pushStatus: map[string]pushStatus{},
		retryAt: map[string]time.Time{},
		clock:   o.Clock, log: o.Logger, metrics: o.Metrics,
		owner: o.Owner, lease: o.Lease, conc: o.FeedConcurrency, tick: o.Tick, keep: o.Retention,
		perHost: o.PerHost, spread: o.Spread, startIn: o.StartSpread, jitter: o.Jitter, push: o.Push,
		pushPoll: o.PushPollInterval, idleCheck: o.IdleCheck,
	}
	if e.store == nil || e.source == nil {
		return nil, errors.New("engine needs a store and a source")
	}
	t, err := newTopology(o.Feeds, o.Routes, o.Destinations, nil)
	if err != nil {
		return nil, err
	}
	e.topo.Store(t)
	if e.clock == nil {
		e.clock = SystemClock
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.metrics == nil {
		e.metrics = noMetrics{}
	}
	if e.owner == "" {
		e.owner = "worker"
	}
	if e.lease <= 0 {
		e.lease = 2 * time.Minute
	}
	if e.conc <= 0 {
		e.conc = 4
	}
	if e.tick <= 0 {
		e.tick = time.Second
	}
	if e.keep <= 0 {
		e.keep = 90 * 24 * time.Hour
	}
	if e.pushPoll <= 0 {
		e.pushPoll = time.Hour
	}
	if e.idleCheck <= 0 {
		e.idleCheck = e.lease
	}
	return e, nil
}

// Stop asks Run to take no more work and return once the posts in flight
// are done. Cancelling Run's context aborts those too; their jobs then
// stay claimed until the lease expires and are retried, so nothing is lost.
func (e *Engine) Stop() {
	e.stopOnce.Do(func() { close(e.stopping) })
}

// Run polls and delivers until ctx is cancelled or Stop is called.
func (e *Engine) Run(ctx context.Context) error {
	// The store may be unreachable at start (Redis restarting): wait for
	// it rather than exit.
	for failures := 1; ; failures++ {
		err := e.restore(ctx)
		if err == nil {
			break
		}
		wait := storeBackoff(e.tick, failures)
		e.log.Error("store unreachable; waiting for it", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-e.stopping:
			return nil
		case <-e.clock.After(wait):
		}
	}
	var wg sync.WaitGroup
	e.senders.start(e.topology().order, func(id string, quit <-chan struct{}) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.deliverLoop(ctx, id, quit)
		}()
	})
	var notified <-chan string
	if e.push != nil {
		notified = e.push.Notified()
	}
	failures := 0
	for {
		wait := e.tick
		if err := e.PollDue(ctx, false); err != nil && ctx.Err() == nil {
			failures++
			wait = storeBackoff(e.tick, failures)
			e.log.Error("poll failed; the store may be down", "error", err, "retry_in", wait)
		} else {
			failures = 0
			e.prune(ctx)
			wait = e.untilNextPoll()
		}
		// Polls just made may have moved the earliest feed: look again
		// before setting a timer for the old one.
		select {
		case <-e.sched.wake:
			continue
		default:
		}
		select {
		case <-ctx.Done():
		case <-e.stopping:
		case id := <-notified:
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.pushed(ctx, id)
			}()
			continue
		case <-e.sched.wake:
			// A feed became the earliest while this loop slept or polled
			// (a poll ending after a push): look again.
			continue
		case <-e.clock.After(wait):
			continue
		}
		e.senders.end()
		wg.Wait()
		return nil
	}
}

// untilNextPoll is how long the poll loop may sleep: until the earliest
// feed is due or the hourly prune, whichever comes first.
func (e *Engine) untilNextPoll() time.Duration {
	now := e.clock.Now()
	wait := max(e.pruned.Add(time.Hour).Sub(now), e.tick)
	if next, ok := e.sched.next(); ok {
		wait = min(wait, next.Sub(now))
	}
	return max(wait, time.Millisecond)
}

// pushed polls a feed whose hub said it changed, under the same
// concurrency cap as scheduled polls.
func (e *Engine) pushed(ctx context.Context, feedID string) {
	if _, ok := e.feed(feedID); !ok {
		e.log.Warn("push notification for an unknown feed", "feed", feedID)
		return
	}
	e.log.Debug("push notification; polling now", "feed", feedID)
	// Ask the pusher again after this poll: the hub may have ended the
	// subscription rather than announced content.
	e.pushMu.Lock()
	delete(e.pushStatus, feedID)
	e.pushMu.Unlock()
	if err := e.PollFeed(ctx, feedID, true); err != nil && ctx.Err() == nil {
		e.log.Error("poll after push failed", "feed", feedID, "error", err)
	}
}

// Once polls every feed once and delivers every job that is due, then
// returns. It reports how many deliveries are left waiting (backoff or
// rate limits) for a later run.
func (e *Engine) Once(ctx context.Context) (waiting int, err error) {
	left, err := e.Cycle(ctx, 0)
	for _, w := range left {
		waiting += w.Jobs
	}
	return waiting, err
}

// restore takes back the claims an earlier process under this worker's
// name left (see Store.ReleaseClaims), hands remembered destination facts to publishers and lifts
// pauses left from an earlier run: an operator restarts after fixing the
// cause, so the destination is tried again. It is done once, on the first
// call that reaches the store.
func (e *Engine) restore(ctx context.Context) error {
	e.restoreMu.Lock()
	defer e.restoreMu.Unlock()
	if e.restored {
		return nil
	}
	// Claims this worker's name still holds were made by an earlier
	// process under the same name, now gone.
	released, err := e.store.ReleaseClaims(ctx, e.owner)
	if err != nil {
		return fmt.Errorf("release claims of %s: %w", e.owner, err)
	}
	if released > 0 {
		e.log.Info("claims of an earlier run under this worker id released", "worker", e.owner, "claims", released)
	}
	t := e.topology()
	for _, id := range t.order {
		if err := e.restoreDestination(ctx, t.dests[id]); err != nil {
			return err
		}
	}
	e.restored = true
	return nil
}

// restoreDestination hands a destination's remembered facts to its
// publisher and lifts its pause.
func (e *Engine) restoreDestination(ctx context.Context, d *Destination) error {
	st, err := e.store.LoadDestination(ctx, d.ID)
	if err != nil {
		return fmt.Errorf("load destination %s: %w", d.ID, err)
	}
	if r, ok := d.Publisher.(Restorer); ok && len(st.Values) > 0 {
		r.Restore(st.Values)
	}
	if st.PausedReason != "" {
		e.log.Warn("destination was paused; trying it again", "destination", d.ID, "reason", st.PausedReason)
		st.PausedReason, st.PausedAt = "", time.Time{}
		if err := e.store.SaveDestination(ctx, d.ID, st); err != nil {
			return fmt.Errorf("save destination %s: %w", d.ID, err)
		}
	}
	return nil
}

// prune forgets state older than the retention, at most once an hour.
func (e *Engine) prune(ctx context.Context) {
	now := e.clock.Now()
	if now.Sub(e.pruned) < time.Hour {
		return
	}
	if err := e.store.Prune(ctx, now.Add(-e.keep)); err != nil {
		e.log.Warn("prune failed", "error", err)
		return
	}
	e.pruned = now
}

// PollDue polls the feeds whose next poll time has come (every feed when
// force is set), a few at a time and at most PerHost at once per host. A
// broken feed is logged and skipped; the error returned is only a store
// failure.
func (e *Engine) PollDue(ctx context.Context, force bool) error {
	if err := e.fill(ctx); err != nil {
		return err
	}
	now := e.clock.Now()
	var ids []string
	if force {
		for _, f := range e.topology().feeds {
			ids = append(ids, f.ID)
		}
	} else {
		ids = e.sched.popDue(now)
	}
	if len(ids) == 0 {
		return nil
	}
	var mu sync.Mutex
	var firstErr error
	pool := &pollPool{conc: e.conc, perHost: e.perHost, host: e.feedHost, poll: func(id string) {
		if _, ok := e.feed(id); !ok {
			// Removed by Reconfigure after it was scheduled.
			return
		}
		if err := e.PollFeed(ctx, id, force); err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	}}
	// Feeds left unpolled at a stop stay due.
	for _, id := range pool.run(ctx, ids, e.stopped) {
		e.sched.set(id, now)
	}
	return firstErr
}

// fill puts every feed in the schedule at its stored next poll time, once;
// feeds due already (never polled, or overdue after downtime) are spread
// over the Spread window so that a start does not fetch them all at once.
func (e *Engine) fill(ctx context.Context) error {
	e.fillMu.Lock()
	defer e.fillMu.Unlock()
	if e.filled {
		return nil
	}
	now := e.clock.Now()
	waiting, last := 0, time.Duration(0)
	feeds := e.topology().feeds
	for _, f := range feeds {
		st, err := e.store.LoadFeed(ctx, f.ID)
		if err != nil {
			return fmt.Errorf("load feed %s: %w", f.ID, err)
		}
		due := st.NextPoll
		if !due.After(now) {
			window := min(e.startIn, max(f.PollInterval, 0))
			due = now.Add(time.Duration(phase(f.ID) * float64(window)))
		}
		e.sched.set(f.ID, due)
		if due.After(now) {
			waiting++
			last = max(last, due.Sub(now))
		}
	}
	e.filled = true
	if len(feeds) > 0 {
		e.log.Info("feeds scheduled", "feeds", len(feeds), "due_now", len(feeds)-waiting, "later", waiting, "all_within", last.Round(time.Second))
	}
	return nil
}

func (e *Engine) feed(id string) (Feed, bool) { return e.topology().feed(id) }

func (e *Engine) feedHost(id string) string {
	if f, ok := e.feed(id); ok {
		return f.host
	}
	return ""
}

// PollFeed fetches one feed now (or when due, without force) and queues
// its new items. It can be called on demand, e.g. on a push notification;
// a forced call for a feed being polled already polls it again after.
func (e *Engine) PollFeed(ctx context.Context, feedID string, force bool) error {
	f, ok := e.feed(feedID)
	if !ok {
		return fmt.Errorf("unknown feed %q", feedID)
	}
	if !e.startPoll(f.ID, force) {
		return nil
	}
	for {
		next, err := e.pollFeed(ctx, f, force)
		e.sched.set(f.ID, next)
		again := e.endPoll(f.ID)
		if err != nil || !again {
			return err
		}
		force = true
	}
}

// startPoll marks the feed as being polled by this worker; when it is
// already, a forced poll is remembered to follow and false is returned.
func (e *Engine) startPoll(id string, force bool) bool {
	e.pollMu.Lock()
	defer e.pollMu.Unlock()
	if e.polling[id] {
		if force {
			e.again[id] = true
		}
		return false
	}
	e.polling[id] = true
	return true
}

// endPoll reports whether another poll was asked for meanwhile; if not,
// the feed is no longer being polled.
func (e *Engine) endPoll(id string) bool {
	e.pollMu.Lock()
	defer e.pollMu.Unlock()
	if e.again[id] {
		delete(e.again, id)
		return true
	}
	delete(e.polling, id)
	return false
}

// pollFeed polls a feed under its lease and returns when this worker
// should look at it next. With nothing new it costs two store round
// trips: BeginPoll and EndPoll.
func (e *Engine) pollFeed(ctx context.Context, f Feed, force bool) (time.Time, error) {
	log := e.log.With("feed", f.ID)
	now := e.clock.Now()
	// Replicas sharing the store poll each feed one at a time: the lease
	// is taken as the state is read, so the holder sees the state the
	// previous holder committed.
	st, leased, err := e.store.BeginPoll(ctx, f.ID, e.owner, now, e.lease)
	if err != nil {
		return now.Add(e.tick), fmt.Errorf("lease feed %s: %w", f.ID, err)
	}
	if !leased {
		// Another replica is polling it and will store the next time,
		// which this worker reads when it comes.
		return now.Add(max(f.PollInterval, e.tick)), nil
	}
	if !force && now.Before(st.NextPoll) {
		if err := e.store.ReleaseFeed(context.WithoutCancel(ctx), f.ID, e.owner); err != nil {
			log.Warn("release feed lease", "error", err)
		}
		return st.NextPoll, nil
	}
	end := func(st FeedState, seen map[string]string) (time.Time, error) {
		if err := e.store.EndPoll(context.WithoutCancel(ctx), f.ID, e.owner, st, seen, now); err != nil {
			return now.Add(e.tick), fmt.Errorf("save feed %s: %w", f.ID, err)
		}
		return st.NextPoll, nil
	}
	start := now
	var res FetchResult
	ferr := safely("fetching feed "+f.ID, func() (err error) {
		res, err = e.source.Fetch(ctx, f.FeedSpec, st)
		return err
	})
	now = e.clock.Now()
	st.LastAttempt = now
	// failed records a poll that failed and when to try again.
	failed := func(ferr error) (time.Time, error) {
		st.Failures++
		st.LastError = ferr.Error()
		wait := pollBackoff(f.PollInterval, st.Failures)
		var fe *FetchError
		if errors.As(ferr, &fe) && fe.RetryAfter > wait {
			wait = fe.RetryAfter
		}
		st.NextPoll = now.Add(wait)
		var pe *PanicError
		if errors.As(ferr, &pe) {
			log.Error("feed poll panicked; the feed waits for its next poll", "error", ferr, "stack", string(pe.Stack), "failures", st.Failures, "next_poll", st.NextPoll)
		} else {
			log.Warn("feed poll failed", "error", ferr, "failures", st.Failures, "next_poll", st.NextPoll)
		}
		e.metrics.FeedPolled(f.ID, "error", now.Sub(start))
		return end(st, nil)
	}
	if ferr != nil {
		if ctx.Err() != nil {
			return end(st, nil)
		}
		return failed(ferr)
	}
	if res.MovedTo != "" {
		log.Warn("feed moved permanently; update its url in the config", "from", f.URL, "to", res.MovedTo)
	}
	if res.NotModified {
		st.Failures, st.LastError = 0, ""
		st.LastSuccess = now
		st.NextPoll = e.nextPoll(ctx, f, res, now)
		e.metrics.FeedPolled(f.ID, "not_modified", now.Sub(start))
		log.Debug("feed not modified")
		return end(st, nil)
	}
	if sv := res.Salvaged; sv != nil {
		if waitsForWhole(st, res) {
			st.PartialPolls++
			log.Warn("feed document damaged before the feed was primed; waiting for a whole one", "items_readable", sv.Items, "partial_polls", st.PartialPolls, "error", sv.Err)
			st.Failures, st.LastError = 0, ""
			st.LastSuccess = now
			st.NextPoll = e.nextPoll(ctx, f, res, now)
			e.metrics.FeedPolled(f.ID, "ok", now.Sub(start))
			return end(st, nil)
		}
		log.Warn("feed document damaged; planning the complete items read from it", "items_kept", sv.Items, "rest_dropped", sv.Dropped, "error", sv.Err)
	}
	var (
		jobs []Delivery
		seen map[string]string
	)
	err = safely("reading feed "+f.ID, func() (err error) {
		jobs, seen, err = e.plan(ctx, f, st, res, now)
		return err
	})
	if pe := (*PanicError)(nil); errors.As(err, &pe) {
		// A document that trips a bug fails like a broken feed, with
		// backoff, rather than being tried again every tick.
		return failed(err)
	}
	e.metrics.FeedPolled(f.ID, "ok", now.Sub(start))
	if err != nil {
		e.releaseAfterFailure(ctx, f.ID)
		return now.Add(e.tick), err
	}
	e.prepareImages(ctx, jobs)
	added, err := e.store.Enqueue(ctx, jobs, now)
	if err != nil {
		e.releaseAfterFailure(ctx, f.ID)
		return now.Add(e.tick), fmt.Errorf("enqueue %s: %w", f.ID, err)
	}
	for _, j := range added {
		e.wake(j.Destination)
	}
	if !st.Primed {
		log.Info("feed primed: existing items recorded, not posted", "items", len(seen), "backfill_queued", len(added))
	}
	st.Primed, st.PartialPolls = true, 0
	st.ETag, st.LastModified = res.ETag, res.LastModified
	st.Failures, st.LastError = 0, ""
	st.LastSuccess = now
	st.NextPoll = e.nextPoll(ctx, f, res, now)
	next, err := end(st, seen)
	if err != nil {
		return next, fmt.Errorf("mark seen %s: %w", f.ID, err)
	}
	e.metrics.ItemsDiscovered(f.ID, len(added))
	for _, j := range added {
		log.Info("queued", "destination", j.Destination, "item", j.ArticleKey, "kind", j.Kind, "title", j.Item.Title)
	}
	return next, nil
}

// primeAfterPartialPolls is how many polls in a row that read only a part
// of a new feed make its damage count as lasting: the feed is then primed
// with what they read, or it would never post at all.
const primeAfterPartialPolls = 3

// waitsForWhole reports a poll that read only a part of a feed not yet
// primed, which is not used while the damage may be passing: priming with
// it would have the items after the damage posted as new at the next
// whole download.
func waitsForWhole(st FeedState, res FetchResult) bool {
	return res.Salvaged != nil && res.Salvaged.Dropped && !st.Primed && st.PartialPolls+1 < primeAfterPartialPolls
}

// releaseAfterFailure gives the feed's lease back after a store failure
// mid-poll, so that another replica need not wait for it to expire.
func (e *Engine) releaseAfterFailure(ctx context.Context, feedID string) {
	if err := e.store.ReleaseFeed(context.WithoutCancel(ctx), feedID, e.owner); err != nil {
		e.log.Warn("release feed lease", "feed", feedID, "error", err)
	}
}

// nextPoll is when a feed polled successfully now is polled again: after
// its interval with jitter, or, while its hub pushes changes, after the
// longer safety-net interval, and never after its subscription must be
// renewed.
func (e *Engine) nextPoll(ctx context.Context, f Feed, res FetchResult, now time.Time) time.Time {
	interval := f.PollInterval
	active, callBy := e.subscribe(ctx, f, res, now)
	if active {
		interval = max(interval, e.pushPoll)
	}
	next := now.Add(interval)
	if e.spread {
		next = pointAfter(now.Add(interval/2), interval, phase(f.ID))
	}
	next = next.Add(jitterOf(interval, e.jitter))
	if !callBy.IsZero() && callBy.Before(next) {
		next = callBy
		if soonest := now.Add(e.tick); next.Before(soonest) {
			next = soonest
		}
	}
	return next
}

// pushStatus is what the pusher last said about a feed's subscription.
type pushStatus struct {
	active bool
	callBy time.Time
	topic  string
	hubs   string
}

// subscribe asks the pusher about the feed's subscription when it has not
// been asked since this worker started, when the feed names other hubs,
// or when the time it gave has come; otherwise it costs nothing.
func (e *Engine) subscribe(ctx context.Context, f Feed, res FetchResult, now time.Time) (bool, time.Time) {
	if e.push == nil {
		return false, time.Time{}
	}
	topic := res.Self
	if topic == "" {
		topic = f.URL
	}
	hubs := strings.Join(res.Hubs, " ")
	e.pushMu.Lock()
	ps, known := e.pushStatus[f.ID]
	e.pushMu.Unlock()
	if !res.NotModified && len(res.Hubs) == 0 {
		// The whole document was read and names no hub (any more): a
		// subscription left from when it did is ended, and the feed is
		// polled at its interval. A 304 says nothing about hubs.
		if !known || ps.hubs != "" {
			if err := e.push.Unsubscribe(ctx, f.ID); err != nil {
				e.log.Warn("ending the push subscription of a feed that names no hub", "feed", f.ID, "error", err)
			}
			e.pushMu.Lock()
			e.pushStatus[f.ID] = pushStatus{topic: topic}
			e.pushMu.Unlock()
		}
		return false, time.Time{}
	}
	changed := len(res.Hubs) > 0 && (hubs != ps.hubs || topic != ps.topic)
	if known && !changed && (ps.callBy.IsZero() || now.Before(ps.callBy)) {
		return ps.active, ps.callBy
	}
	active, callBy, err := e.push.Subscribe(ctx, f.ID, topic, res.Hubs)
	if err != nil {
		e.log.Warn("push subscription failed; polling meanwhile", "feed", f.ID, "error", err)
		if callBy.IsZero() {
			callBy = now.Add(max(f.PollInterval, time.Minute))
		}
	}
	if len(res.Hubs) == 0 {
		hubs = ps.hubs
	}
	e.pushMu.Lock()
	e.pushStatus[f.ID] = pushStatus{active: active, callBy: callBy, topic: topic, hubs: hubs}
	e.pushMu.Unlock()
	return active, callBy
}

// wake tells a destination's sender that a job was queued for it.
func (e *Engine) wake(dest string) {
	if ch, ok := e.topology().wakes[dest]; ok {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Plan returns what polling the feeds now would queue, without changing
// any state: preview uses it. Feeds are fetched unconditionally.
func (e *Engine) Plan(ctx context.Context) ([]Delivery, error) {
	var out []Delivery
	for _, f := range e.topology().feeds {
		st, err := e.store.LoadFeed(ctx, f.ID)
		if err != nil {
			return nil, fmt.Errorf("load feed %s: %w", f.ID, err)
		}
		fresh := st
		fresh.ETag, fresh.LastModified = "", ""
		res, err := e.source.Fetch(ctx, f.FeedSpec, fresh)
		if err != nil {
			e.log.Warn("feed fetch failed", "feed", f.ID, "error", err)
			continue
		}
		if s := res.Salvaged; s != nil {
			if waitsForWhole(st, res) {
				e.log.Warn("feed document damaged before the feed was primed; waiting for a whole one", "feed", f.ID, "items_readable", s.Items, "error", s.Err)
				continue
			}
			e.log.Warn("feed document damaged; planning the complete items read from it", "feed", f.ID, "items_kept", s.Items, "rest_dropped", s.Dropped, "error", s.Err)
		}
		jobs, _, err := e.plan(ctx, f, st, res, e.clock.Now())
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			if j.Kind == JobPost {
				if _, exists, err := e.store.Get(ctx, j.Destination, j.ArticleKey); err != nil {
					return nil, err
				} else if exists {
					continue
				}
			}
			out = append(out, j)
		}
	}
	e.prepareImages(ctx, out)
	return out, nil
}

// plan decides which items of a fetched feed become jobs on which
// destinations and returns the marks to record as seen. Only entries that
// are new or whose raw fields changed are normalised, and only they (and
// marks grown old, see refreshMarks) are written back.
func (e *Engine) plan(ctx context.Context, f Feed, st FeedState, res FetchResult, now time.Time) ([]Delivery, map[string]string, error) {
	entries, normalise := res.Entries, res.Normalise
	if normalise == nil {
		// A source that normalised every item: nothing to save but the
		// store's answer.
		items := uniqueItems(res.Items)
		entries = make([]Entry, len(items))
		for i, it := range items {
			entries[i] = Entry{Key: it.Key, Date: it.Date()}
		}
		normalise = func(idx []int) []Item {
			out := make([]Item, 0, len(idx))
			for _, i := range idx {
				out = append(out, items[i])
			}
			return out
		}
	}
	keys := make([]string, len(entries))
	for i, en := range entries {
		keys[i] = en.Key
	}
	stored, err := e.store.SeenFingerprints(ctx, f.ID, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("seen %s: %w", f.ID, err)
	}
	day := dayOf(now)
	refresh := e.refreshMarks()
	t := e.topology()
	routes := t.routesFor(f.ID)
	// At first sight without a backfill no item can become a job: the
	// entries are only recorded.
	mayPost := st.Primed || maxBackfill(routes) > 0
	seen := map[string]string{}
	hashes := make(map[string]string, len(entries))
	var want []int
	for i, en := range entries {
		v, wasSeen := stored[en.Key]
		m := parseMark(v)
		switch {
		case !wasSeen && (!mayPost || (f.MaxAge > 0 && !en.Date.IsZero() && now.Sub(en.Date) > f.MaxAge)):
			seen[en.Key] = mark{hash: en.Hash, day: day}.String()
		case !wasSeen || en.Hash == "" || m.hash != token(en.Hash):
			// Recorded as seen even if normalising finds nothing to post.
			seen[en.Key] = mark{hash: en.Hash, day: day}.String()
			hashes[en.Key] = en.Hash
			want = append(want, i)
		case day-m.day >= refresh:
			seen[en.Key] = mark{fp: m.fp, hash: m.hash, day: day}.String()
		}
	}
	if res.Heads != nil {
		want = narrow(res.Heads, want, stored, routes)
	}
	if len(want) == 0 {
		return nil, seen, nil
	}
	items := normalise(want)
	var fresh, changed []*Item
	for i := range items {
		it := &items[i]
		it.Published, it.Updated = clampDate(it.Published, now), clampDate(it.Updated, now)
		fp := it.Fingerprint()
		seen[it.Key] = mark{fp: fp, hash: hashes[it.Key], day: day}.String()
		v, wasSeen := stored[it.Key]
		old := parseMark(v)
		switch {
		case !wasSeen:
			if f.MaxAge > 0 && !it.Date().IsZero() && now.Sub(it.Date()) > f.MaxAge {
				continue
			}
			fresh = append(fresh, it)
		case old.fp != "" && old.fp != fp:
			changed = append(changed, it)
		}
	}
	checked := map[*Item]bool{}
	check := func(it *Item) {
		if !checked[it] {
			checked[it] = true
			e.checkLanguage(it)
		}
	}
	// match applies a route to an item: the route's language, else the
	// item's checked against its text; the check (costly) is made only for
	// items the route takes, or first when the route filters by language.
	match := func(r Route, it *Item) (Item, bool) {
		if r.Language != "" && it.LanguageFrom != LanguageFromItem {
			cp := *it
			cp.Language, cp.LanguageFrom = r.Language, LanguageFromOperator
			return cp, r.Filter.Match(cp)
		}
		if len(r.Filter.Languages) > 0 {
			check(it)
			return *it, r.Filter.Match(*it)
		}
		if !r.Filter.Match(*it) {
			return Item{}, false
		}
		check(it)
		return *it, true
	}
	var jobs []Delivery
	for _, r := range routes {
		var rf, rc []Item
		for _, it := range fresh {
			if m, ok := match(r, it); ok {
				rf = append(rf, m)
			}
		}
		for _, it := range changed {
			if m, ok := match(r, it); ok {
				rc = append(rc, m)
			}
		}
		if !st.Primed {
			rf = newest(rf, r.Backfill)
			rc = nil
		}
		sortOldestFirst(rf)
		for _, d := range r.To {
			for _, it := range rf {
				jobs = append(jobs, Delivery{Destination: d, ArticleKey: it.ArticleKey(), Kind: JobPost, Item: it})
			}
			edits, err := e.editJobs(ctx, t, d, rc, now)
			if err != nil {
				return nil, nil, err
			}
			jobs = append(jobs, edits...)
		}
	}
	return jobs, seen, nil
}

// narrow keeps, of the entries to normalise, those whose item a route
// may take and those that may have been posted (their mark holds a
// fingerprint, so an edit must be looked for), judged by the items' heads
// when no route's filter reads more than that. The others stay marked
// with their raw hash and no fingerprint: nothing was posted of them, so
// there is no post to edit if they change.
func narrow(heads func([]int) []Item, want []int, stored map[string]string, routes []Route) []int {
	for _, r := range routes {
		if r.Filter.ReadsText() {
			return want
		}
	}
	hs := heads(want)
	if len(hs) != len(want) {
		return want
	}
	var keep []int
	for k, h := range hs {
		if v, ok := stored[h.Key]; ok && parseMark(v).fp != "" || takes(routes, h) {
			keep = append(keep, want[k])
		}
	}
	return keep
}

// takes reports whether a route lets an item through, with the route's
// language in place of one the item does not declare itself, as match
// applies it.
func takes(routes []Route, it Item) bool {
	for _, r := range routes {
		cp := it
		if r.Language != "" && cp.LanguageFrom != LanguageFromItem {
			cp.Language, cp.LanguageFrom = r.Language, LanguageFromOperator
		}
		if r.Filter.Match(cp) {
			return true
		}
	}
	return false
}

// refreshMarks is, in days, how old a seen mark may grow before a poll
// that finds its item unchanged writes it again: well within the
// retention, so that pruning never forgets an item still in its feed.
func (e *Engine) refreshMarks() int64 {
	return max(int64(e.keep/(3*24*time.Hour)), 1)
}

func dayOf(t time.Time) int64 { return t.Unix() / 86400 }

// mark is what the store keeps per seen item: the fingerprint of what a
// post of it shows (empty when it was recorded without being
// normalised), the hash of its raw fields and the day it was marked. It
// is stored as "fp hash day"; a mark from before hashes were kept is the
// bare fingerprint.
type mark struct {
	fp, hash string
	day      int64
}

func (m mark) String() string {
	fp, hash := m.fp, token(m.hash)
	if fp == "" {
		fp = "-"
	}
	if hash == "" {
		hash = "-"
	}
	return fp + " " + hash + " " + strconv.FormatInt(m.day, 10)
}

// token makes a source's hash one field of a mark.
func token(hash string) string {
	return strings.Join(strings.Fields(hash), "_")
}

func parseMark(v string) mark {
	f := strings.Fields(v)
	var m mark
	if len(f) > 0 && f[0] != "-" {
		m.fp = f[0]
	}
	if len(f) > 1 && f[1] != "-" {
		m.hash = f[1]
	}
	if len(f) > 2 {
		m.day, _ = strconv.ParseInt(f[2], 10, 64)
	}
	return m
}

// maxBackfill is the largest backfill of a feed's routes.
func maxBackfill(routes []Route) int {
	n := 0
	for _, r := range routes {
		n = max(n, r.Backfill)
	}
	return n
}

// checkLanguage replaces a language the feed declared (or the default)
// by the one identified from the text when the text's script contradicts
// it, and logs the first mismatch of each feed with its fix. A language
// the operator chose is trusted as written.
func (e *Engine) checkLanguage(it *Item) {
	if e.langs == nil || it.LanguageFrom == LanguageFromOperator || it.LanguageFrom == LanguageFromText {
		return
	}
	lang, ok := e.langs.Identify(it.Language, it.Title+"\n"+it.Summary)
	if !ok {
		return
	}
	if it.Language != "" {
		if _, logged := e.misdeclared.LoadOrStore(it.FeedID, true); !logged {
			e.log.Warn("feed declares a language its text is not written in; set language: on the feed to choose it",
				"feed", it.FeedID, "declared", it.Language, "declared_by", string(it.LanguageFrom), "identified", lang, "item", it.Key)
		}
	}
	it.Language, it.LanguageFrom = lang, LanguageFromText
}

// editJobs returns edit jobs for changed items: for posts still queued (so
// they go out with the new content) and for posts made within the
// destination's edit window.
func (e *Engine) editJobs(ctx context.Context, t *topology, dest string, changed []Item, now time.Time) ([]Delivery, error) {
	var window time.Duration
	if ed, ok := t.dests[dest].Publisher.(Editor); ok {
		window = ed.EditWindow()
	}
	var jobs []Delivery
	for _, it := range changed {
		rec, found, err := e.store.Get(ctx, dest, it.ArticleKey())
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", dest, err)
		}
		if !found {
			continue
		}
		queued := rec.Status == StatusQueued
		editable := rec.Status == StatusSent && window > 0 && now.Sub(rec.SentAt) <= window && rec.Fingerprint != it.Fingerprint()
		if queued || editable {
			jobs = append(jobs, Delivery{Destination: dest, ArticleKey: it.ArticleKey(), Kind: JobEdit, Item: it})
		}
	}
	return jobs, nil
}

// findPageImages looks up og:image for new items that have no image; with
// a checker, a page image that does not load is left out too.
func (e *Engine) findPageImages(ctx context.Context, jobs []Delivery, checks *imageChecks) {
	if e.pages == nil {
		return
	}
	found := map[string]*Image{}
	for i := range jobs {
		it := &jobs[i].Item
		if it.Image != nil || it.Link == "" {
			continue
		}
		f, ok := e.feed(it.FeedID)
		if !ok || !f.PageImage {
			continue
		}
		img, done := found[it.Link]
		if !done {
			var err error
			img, err = e.pages.PageImage(ctx, it.Link)
			if err != nil {
				e.log.Info("no page image", "feed", it.FeedID, "item", it.Key, "error", err)
			}
			if img != nil && checks.on() {
				img = checks.checked(ctx, *it, *img)
			}
			found[it.Link] = img
		}
		if img != nil {
			cp := *img
			it.Image = &cp
		}
	}
}

// Bounds of the image checks of one poll.
const (
	// maxImageChecks is how many image URLs of one item are checked: the
	// lead, its alternates and the content images, in that order; images
	// past it are left out unchecked.
	maxImageChecks = 12
	// imageCheckConcurrency is how many image URLs are checked at once.
	imageCheckConcurrency = 4
)

// prepareImages settles the images of the jobs about to be queued. With a
// checker, the lead becomes the first candidate that loads (the feed's
// lead, its alternates, the content images) and only content images that
// load stay; an item left without a lead gets its page's og:image where
// the feed allows it. Each URL is checked at most once per call.
func (e *Engine) prepareImages(ctx context.Context, jobs []Delivery) {
	checks := &imageChecks{checker: e.images, log: e.log, done: map[string]imageResult{}, logged: map[string]bool{}}
	if checks.on() {
		// The lead and the content images are needed whatever the outcome,
		// so they are checked together; alternates only when a lead fails.
		var urls []string
		for i := range jobs {
			for _, c := range imageCandidates(jobs[i].Item) {
				if c.alternate {
					continue
				}
				urls = append(urls, c.URL)
			}
		}
		checks.prefetch(ctx, urls)
		for i := range jobs {
			e.chooseImages(ctx, &jobs[i].Item, checks)
		}
	}
	e.findPageImages(ctx, jobs, checks)
}

// imageCandidate is an image an item may show, with whether it is one of
// the lead's alternates rather than a content image.
type imageCandidate struct {
	Image
	alternate bool
}

// imageCandidates lists an item's images in the order they are tried, each
// URL once, at most maxImageChecks.
func imageCandidates(it Item) []imageCandidate {
	var out []imageCandidate
	seen := map[string]bool{}
	add := func(img Image, alternate bool) {
		if len(out) < maxImageChecks && img.URL != "" && !seen[img.URL] {
			seen[img.URL] = true
			out = append(out, imageCandidate{Image: img, alternate: alternate})
		}
	}
	if it.Image != nil {
		add(*it.Image, false)
	}
	for _, img := range it.LeadAlternates {
		add(img, true)
	}
	for _, img := range it.Images {
		add(img, false)
	}
	return out
}

// chooseImages sets the item's lead to the first candidate that loads and
// keeps the content images that load; the alternates are used up.
func (e *Engine) chooseImages(ctx context.Context, it *Item, checks *imageChecks) {
	var lead *Image
	var more []Image
	for _, c := range imageCandidates(*it) {
		if c.alternate && lead != nil {
			continue
		}
		img := checks.checked(ctx, *it, c.Image)
		switch {
		case img == nil:
		case lead == nil:
			lead = img
		default:
			more = append(more, *img)
		}
	}
	it.Image, it.Images, it.LeadAlternates = lead, more, nil
}

// imageChecks remembers the checks of one poll, so that an image shared by
// several jobs (one per destination) is checked once.
type imageChecks struct {
	checker ImageChecker
	log     *slog.Logger

	mu     sync.Mutex
	done   map[string]imageResult
	logged map[string]bool
}

type imageResult struct {
	info ImageInfo
	err  error
}

func (m *imageChecks) on() bool { return m.checker != nil }

// prefetch checks urls a few at a time.
func (m *imageChecks) prefetch(ctx context.Context, urls []string) {
	sem := make(chan struct{}, imageCheckConcurrency)
	var wg sync.WaitGroup
	seen := map[string]bool{}
	for _, u := range urls {
		if seen[u] {
			continue
		}
		seen[u] = true
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			m.result(ctx, u)
		}()
	}
	wg.Wait()
}

func (m *imageChecks) result(ctx context.Context, url string) imageResult {
	m.mu.Lock()
	r, ok := m.done[url]
	m.mu.Unlock()
	if ok {
		return r
	}
	r.info, r.err = m.checker.CheckImage(ctx, url)
	m.mu.Lock()
	m.done[url] = r
	m.mu.Unlock()
	return r
}

// checked returns img with what its check learnt, or nil (logged) when it
// does not load.
func (m *imageChecks) checked(ctx context.Context, it Item, img Image) *Image {
	r := m.result(ctx, img.URL)
	if r.err != nil {
		m.mu.Lock()
		key := it.FeedID + "\x00" + it.Key + "\x00" + img.URL
		first := !m.logged[key]
		m.logged[key] = true
		m.mu.Unlock()
		if first {
			m.log.Info("image does not load; left out", "feed", it.FeedID, "item", it.Key, "source", img.Source, "error", r.err)
		}
		return nil
	}
	img.Checked, img.Type, img.Bytes, img.Sniffed = true, r.info.Type, r.info.Bytes, r.info.Sniffed
	return &img
}

// uniqueItems drops later items whose key repeats an earlier one (feeds
// with duplicate GUIDs).
func uniqueItems(items []Item) []Item {
	seen := make(map[string]bool, len(items))
	out := items[:0:0]
	for _, it := range items {
		if seen[it.Key] {
			continue
		}
		seen[it.Key] = true
		out = append(out, it)
	}
	return out
}

// storeBackoff is the wait after consecutive store failures: doubling
// from the tick up to 30s, so an unreachable store is neither hammered nor
// left long after it returns.
func storeBackoff(tick time.Duration, failures int) time.Duration {
	d := tick
	for i := 1; i < failures && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// pollBackoff doubles the wait after each consecutive failure, from the
// poll interval up to a day.
func pollBackoff(interval time.Duration, failures int) time.Duration {
	d := interval
	for i := 1; i < failures && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}

// retryBackoff is the wait before delivery attempt n+1: exponential from
// 10s, capped at 30m, with up to 20% jitter so replicas do not retry in step.
func retryBackoff(attempts int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempts && d < 30*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 30*time.Minute)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
