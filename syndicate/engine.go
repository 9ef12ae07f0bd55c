package syndicate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
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
}

type noMetrics struct{}

func (noMetrics) FeedPolled(string, string, time.Duration) {}
func (noMetrics) ItemsDiscovered(string, int)              {}
func (noMetrics) Delivered(string, string, time.Duration)  {}

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
	feeds   []Feed
	routes  []Route
	dests   map[string]*Destination
	order   []string
	clock   Clock
	log     *slog.Logger
	metrics Metrics
	owner   string
	lease   time.Duration
	conc    int
	tick    time.Duration
	keep    time.Duration
	pruned  time.Time

	// feedIndex finds a feed by id.
	feedIndex map[string]int
	// dueMu guards due: the next poll time of each feed as this worker
	// last saw it in the store, so that a feed that is not due costs
	// neither a lease nor a store read. Another replica may have moved the
	// time later; the lease and the stored state still decide.
	dueMu sync.Mutex
	due   map[string]time.Time

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
		feeds: o.Feeds, routes: o.Routes,
		dests: map[string]*Destination{}, stopping: make(chan struct{}),
		feedIndex: map[string]int{}, due: map[string]time.Time{},
		clock: o.Clock, log: o.Logger, metrics: o.Metrics,
		owner: o.Owner, lease: o.Lease, conc: o.FeedConcurrency, tick: o.Tick, keep: o.Retention,
	}
	if e.store == nil || e.source == nil {
		return nil, errors.New("engine needs a store and a source")
	}
	for i, f := range e.feeds {
		if _, dup := e.feedIndex[f.ID]; !dup {
			e.feedIndex[f.ID] = i
		}
	}
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
	for i := range o.Destinations {
		d := o.Destinations[i]
		if d.Policy.MaxAttempts <= 0 {
			d.Policy.MaxAttempts = 10
		}
		if d.Policy.MaxAge <= 0 {
			d.Policy.MaxAge = 24 * time.Hour
		}
		e.dests[d.ID] = &d
		e.order = append(e.order, d.ID)
	}
	feeds := map[string]bool{}
	for _, f := range e.feeds {
		feeds[f.ID] = true
	}
	for i, r := range e.routes {
		for _, f := range r.Feeds {
			if !feeds[f] {
				return nil, fmt.Errorf("route %d: unknown feed %q", i, f)
			}
		}
		for _, d := range r.To {
			if e.dests[d] == nil {
				return nil, fmt.Errorf("route %d: unknown destination %q", i, d)
			}
		}
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
	for _, id := range e.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.deliverLoop(ctx, id)
		}()
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
		}
		select {
		case <-ctx.Done():
		case <-e.stopping:
		case <-e.clock.After(wait):
			continue
		}
		wg.Wait()
		return nil
	}
}

// Once polls every feed once and delivers every job that is due, then
// returns. It reports how many deliveries are left waiting (backoff or
// rate limits) for a later run.
func (e *Engine) Once(ctx context.Context) (waiting int, err error) {
	if err := e.restore(ctx); err != nil {
		return 0, err
	}
	if err := e.PollDue(ctx, true); err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, id := range e.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.drain(ctx, id)
		}()
	}
	wg.Wait()
	e.prune(ctx)
	for _, id := range e.order {
		left, err := e.store.List(ctx, id, 0, StatusQueued, StatusSending)
		if err != nil {
			return 0, fmt.Errorf("list %s: %w", id, err)
		}
		waiting += len(left)
	}
	return waiting, ctx.Err()
}

// restore hands remembered destination facts to publishers and lifts
// pauses left from an earlier run: an operator restarts after fixing the
// cause, so the destination is tried again. It is done once, on the first
// call that reaches the store.
func (e *Engine) restore(ctx context.Context) error {
	e.restoreMu.Lock()
	defer e.restoreMu.Unlock()
	if e.restored {
		return nil
	}
	for _, id := range e.order {
		st, err := e.store.LoadDestination(ctx, id)
		if err != nil {
			return fmt.Errorf("load destination %s: %w", id, err)
		}
		if r, ok := e.dests[id].Publisher.(Restorer); ok && len(st.Values) > 0 {
			r.Restore(st.Values)
		}
		if st.PausedReason != "" {
			e.log.Warn("destination was paused; trying it again", "destination", id, "reason", st.PausedReason)
			st.PausedReason, st.PausedAt = "", time.Time{}
			if err := e.store.SaveDestination(ctx, id, st); err != nil {
				return fmt.Errorf("save destination %s: %w", id, err)
			}
		}
	}
	e.restored = true
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
// force is set), a few at a time. A broken feed is logged and skipped; the
// error returned is only a store failure.
func (e *Engine) PollDue(ctx context.Context, force bool) error {
	sem := make(chan struct{}, e.conc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	now := e.clock.Now()
	for _, f := range e.feeds {
		if e.stopped() {
			break
		}
		if !force && e.notDue(f.ID, now) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := e.PollFeed(ctx, f.ID, force); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func (e *Engine) feed(id string) (Feed, bool) {
	if i, ok := e.feedIndex[id]; ok {
		return e.feeds[i], true
	}
	return Feed{}, false
}

// notDue reports whether the feed's next poll, as last seen, is later
// than now.
func (e *Engine) notDue(id string, now time.Time) bool {
	e.dueMu.Lock()
	defer e.dueMu.Unlock()
	return now.Before(e.due[id])
}

func (e *Engine) noteDue(id string, next time.Time) {
	e.dueMu.Lock()
	defer e.dueMu.Unlock()
	e.due[id] = next
}

// PollFeed fetches one feed now (or when due, without force) and queues
// its new items. It can be called on demand, e.g. on a push notification.
func (e *Engine) PollFeed(ctx context.Context, feedID string, force bool) error {
	f, ok := e.feed(feedID)
	if !ok {
		return fmt.Errorf("unknown feed %q", feedID)
	}
	log := e.log.With("feed", f.ID)
	now := e.clock.Now()
	// Replicas sharing the store poll each feed one at a time: the lease
	// is taken before the state is read, so the holder sees the state the
	// previous holder committed.
	leased, err := e.store.LeaseFeed(ctx, f.ID, e.owner, now, e.lease)
	if err != nil {
		return fmt.Errorf("lease feed %s: %w", f.ID, err)
	}
	if !leased {
		return nil
	}
	defer func() {
		if err := e.store.ReleaseFeed(context.WithoutCancel(ctx), f.ID, e.owner); err != nil {
			log.Warn("release feed lease", "error", err)
		}
	}()
	st, err := e.store.LoadFeed(ctx, f.ID)
	if err != nil {
		return fmt.Errorf("load feed %s: %w", f.ID, err)
	}
	// Whatever happens below, st.NextPoll ends as the time to come back.
	defer func() { e.noteDue(f.ID, st.NextPoll) }()
	if !force && now.Before(st.NextPoll) {
		return nil
	}
	start := now
	res, ferr := e.source.Fetch(ctx, f.FeedSpec, st)
	now = e.clock.Now()
	st.LastAttempt = now
	if ferr != nil {
		if ctx.Err() != nil {
			return nil
		}
		st.Failures++
		st.LastError = ferr.Error()
		wait := pollBackoff(f.PollInterval, st.Failures)
		var fe *FetchError
		if errors.As(ferr, &fe) && fe.RetryAfter > wait {
			wait = fe.RetryAfter
		}
		st.NextPoll = now.Add(wait)
		log.Warn("feed poll failed", "error", ferr, "failures", st.Failures, "next_poll", st.NextPoll)
		e.metrics.FeedPolled(f.ID, "error", now.Sub(start))
		if err := e.store.SaveFeed(ctx, f.ID, st); err != nil {
			return fmt.Errorf("save feed %s: %w", f.ID, err)
		}
		return nil
	}
	if res.MovedTo != "" {
		log.Warn("feed moved permanently; update its url in the config", "from", f.URL, "to", res.MovedTo)
	}
	if res.NotModified {
		st.Failures, st.LastError = 0, ""
		st.LastSuccess = now
		st.NextPoll = now.Add(f.PollInterval)
		e.metrics.FeedPolled(f.ID, "not_modified", now.Sub(start))
		log.Debug("feed not modified")
		if err := e.store.SaveFeed(ctx, f.ID, st); err != nil {
			return fmt.Errorf("save feed %s: %w", f.ID, err)
		}
		return nil
	}
	e.metrics.FeedPolled(f.ID, "ok", now.Sub(start))
	items := uniqueItems(res.Items)
	jobs, seen, err := e.plan(ctx, f, st, items, now)
	if err != nil {
		return err
	}
	e.prepareImages(ctx, jobs)
	added, err := e.store.Enqueue(ctx, jobs, now)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", f.ID, err)
	}
	if err := e.store.MarkSeen(ctx, f.ID, seen, now); err != nil {
		return fmt.Errorf("mark seen %s: %w", f.ID, err)
	}
	if !st.Primed {
		log.Info("feed primed: existing items recorded, not posted", "items", len(items), "backfill_queued", len(added))
	}
	st.Primed = true
	st.ETag, st.LastModified = res.ETag, res.LastModified
	st.Failures, st.LastError = 0, ""
	st.LastSuccess = now
	st.NextPoll = now.Add(f.PollInterval)
	if err := e.store.SaveFeed(ctx, f.ID, st); err != nil {
		return fmt.Errorf("save feed %s: %w", f.ID, err)
	}
	e.metrics.ItemsDiscovered(f.ID, len(added))
	for _, j := range added {
		log.Info("queued", "destination", j.Destination, "item", j.ArticleKey, "kind", j.Kind, "title", j.Item.Title)
	}
	return nil
}

// Plan returns what polling the feeds now would queue, without changing
// any state: preview uses it. Feeds are fetched unconditionally.
func (e *Engine) Plan(ctx context.Context) ([]Delivery, error) {
	var out []Delivery
	for _, f := range e.feeds {
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
		jobs, _, err := e.plan(ctx, f, st, uniqueItems(res.Items), e.clock.Now())
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
// destinations and returns the fingerprints to record as seen.
func (e *Engine) plan(ctx context.Context, f Feed, st FeedState, items []Item, now time.Time) ([]Delivery, map[string]string, error) {
	keys := make([]string, len(items))
	seen := make(map[string]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
		seen[it.Key] = it.Fingerprint()
	}
	known, err := e.store.SeenFingerprints(ctx, f.ID, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("seen %s: %w", f.ID, err)
	}
	// Only items that may become jobs have their language checked (at
	// first sight none do without a backfill), and only when a route takes
	// the language from the feed.
	if e.routesKeepLanguage(f.ID) && (st.Primed || e.maxBackfill(f.ID) > 0) {
		items = slices.Clone(items)
		for i := range items {
			if fp, wasSeen := known[items[i].Key]; !wasSeen || (fp != "" && fp != seen[items[i].Key]) {
				e.checkLanguage(&items[i])
			}
		}
	}
	var jobs []Delivery
	for _, r := range e.routes {
		if !slices.Contains(r.Feeds, f.ID) {
			continue
		}
		var fresh, changed []Item
		for _, it := range items {
			if r.Language != "" && it.LanguageFrom != LanguageFromItem {
				it.Language, it.LanguageFrom = r.Language, LanguageFromOperator
			}
			if !r.Filter.Match(it) {
				continue
			}
			fp, wasSeen := known[it.Key]
			switch {
			case !wasSeen:
				if f.MaxAge > 0 && !it.Date().IsZero() && now.Sub(it.Date()) > f.MaxAge {
					continue
				}
				fresh = append(fresh, it)
			case fp != "" && fp != seen[it.Key]:
				changed = append(changed, it)
			}
		}
		if !st.Primed {
			fresh = newest(fresh, r.Backfill)
			changed = nil
		}
		sortOldestFirst(fresh)
		for _, d := range r.To {
			for _, it := range fresh {
				jobs = append(jobs, Delivery{Destination: d, ArticleKey: it.ArticleKey(), Kind: JobPost, Item: it})
			}
			edits, err := e.editJobs(ctx, d, changed, now)
			if err != nil {
				return nil, nil, err
			}
			jobs = append(jobs, edits...)
		}
	}
	return jobs, seen, nil
}

// routesKeepLanguage reports whether a route of the feed leaves its items'
// language as the feed gives it.
func (e *Engine) routesKeepLanguage(feedID string) bool {
	for _, r := range e.routes {
		if r.Language == "" && slices.Contains(r.Feeds, feedID) {
			return true
		}
	}
	return false
}

// maxBackfill is the largest backfill of the feed's routes.
func (e *Engine) maxBackfill(feedID string) int {
	n := 0
	for _, r := range e.routes {
		if slices.Contains(r.Feeds, feedID) {
			n = max(n, r.Backfill)
		}
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
func (e *Engine) editJobs(ctx context.Context, dest string, changed []Item, now time.Time) ([]Delivery, error) {
	var window time.Duration
	if ed, ok := e.dests[dest].Publisher.(Editor); ok {
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

// newest returns the n newest items: by date where known, otherwise by
// document order (feeds list newest first).
func newest(items []Item, n int) []Item {
	if n <= 0 {
		return nil
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		da, db := items[a].Date(), items[b].Date()
		if !da.IsZero() && !db.IsZero() {
			return db.Compare(da)
		}
		return cmp.Compare(a, b)
	})
	if n > len(idx) {
		n = len(idx)
	}
	out := make([]Item, 0, n)
	for _, i := range idx[:n] {
		out = append(out, items[i])
	}
	return out
}

// sortOldestFirst orders items for posting: oldest first; items without a
// date keep the reverse of document order.
func sortOldestFirst(items []Item) {
	slices.Reverse(items)
	slices.SortStableFunc(items, func(a, b Item) int {
		da, db := a.Date(), b.Date()
		if da.IsZero() || db.IsZero() {
			return 0
		}
		return da.Compare(db)
	})
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
