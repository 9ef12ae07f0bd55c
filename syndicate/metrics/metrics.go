// Package metrics is the worker's observability: Prometheus counters and
// timings recorded where things happen, the delivery queue read from the
// store at scrape time, and the health and readiness endpoints.
//
// Every series lives in the registry given to New, never in the global
// one, so a config reload or a test builds a fresh set without clashes.
package metrics

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// DefaultQueueTimeout bounds the store reads of one scrape, so a slow or
// unreachable store makes a scrape report store_up 0 instead of hanging it.
const DefaultQueueTimeout = 2 * time.Second

// Options build the metrics of one worker.
type Options struct {
	// Registry receives every collector; nil makes a new one that also
	// carries the Go runtime and process collectors.
	Registry *prometheus.Registry
	// Store is read at scrape time for the queue depth; nil reports no
	// queue depth and no store_up.
	Store syndicate.Store
	// Destinations are the destination ids whose queues are reported and
	// whose delivery counters start at zero (so alerts see the first event).
	Destinations []string
	// Version is reported by syndicate_build_info.
	Version string
}

// Metrics records the engine's events as Prometheus series.
type Metrics struct {
	reg *prometheus.Registry

	feeds       *feedCounters
	feedPollDur *prometheus.HistogramVec
	deliveries  *prometheus.CounterVec
	deliveryDur *prometheus.HistogramVec
	ambiguous   *prometheus.CounterVec
	parked      *prometheus.CounterVec

	// store is what /readyz pings when Handler is given no ready func.
	store        syndicate.Store
	readyTimeout time.Duration
}

var _ syndicate.Metrics = (*Metrics)(nil)

// New registers the worker's metrics in o.Registry (or a new registry).
// It fails when a series of the same name is already registered there.
func New(o Options) (*Metrics, error) {
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		if err := registerAll(reg,
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		); err != nil {
			return nil, err
		}
	}
	m := &Metrics{
		reg:   reg,
		feeds: newFeedCounters(),
		feedPollDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "syndicate_feed_poll_seconds",
			Help:    "Time taken to fetch and parse a feed, by result.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
			// By result, not by feed: a histogram per feed costs about a
			// kilobyte each, 11 MB of live heap at 10,000 feeds; the poll
			// counters keep the feed.
		}, []string{"result"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_deliveries_total",
			Help: "Delivery attempts by outcome: sent, or the kind of failure (temporary, rate_limited, permanent_item, permanent_destination, ambiguous).",
		}, []string{"destination", "outcome"}),
		deliveryDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "syndicate_delivery_seconds",
			Help:    "Time taken by a delivery attempt, including media uploads and rate-limit waits.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"destination"}),
		ambiguous: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_ambiguous_deliveries_total",
			Help: "Delivery attempts whose outcome is unknown (the post may have reached the platform): possible duplicates or, under at-most-once, possible losses.",
		}, []string{"destination"}),
		parked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_parked_deliveries_total",
			Help: "Deliveries given up on (a permanent error or their retries spent); syndicate status lists them and syndicate retry queues them again.",
		}, []string{"destination"}),
		store:        o.Store,
		readyTimeout: DefaultReadyTimeout,
	}
	version := o.Version
	if version == "" {
		version = "unknown"
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "syndicate_build_info",
		Help: "Always 1; its label carries the running version.",
	}, []string{"version"})
	build.WithLabelValues(version).Set(1)

	dests := slices.Clone(o.Destinations)
	slices.Sort(dests)
	dests = slices.Compact(dests)
	outcomes := []string{"sent"}
	for _, k := range []syndicate.ErrorKind{
		syndicate.ErrTemporary, syndicate.ErrRateLimited, syndicate.ErrPermanentItem,
		syndicate.ErrPermanentDestination, syndicate.ErrAmbiguous,
	} {
		outcomes = append(outcomes, k.String())
	}
	for _, d := range dests {
		for _, out := range outcomes {
			m.deliveries.WithLabelValues(d, out)
		}
		m.ambiguous.WithLabelValues(d)
		m.parked.WithLabelValues(d)
	}

	cs := []prometheus.Collector{m.feeds, m.feedPollDur, m.deliveries, m.deliveryDur, m.ambiguous, m.parked, build}
	if o.Store != nil {
		cs = append(cs, newQueueCollector(o.Store, dests, DefaultQueueTimeout))
	}
	if err := registerAll(reg, cs...); err != nil {
		return nil, err
	}
	return m, nil
}

func registerAll(reg *prometheus.Registry, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Registry returns the registry the metrics live in, so the caller can
// add its own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// FeedPolled counts one fetch of a feed and its duration.
func (m *Metrics) FeedPolled(feed, result string, took time.Duration) {
	m.feeds.polled(feed, result)
	m.feedPollDur.WithLabelValues(result).Observe(took.Seconds())
}

// ItemsDiscovered counts the jobs a poll of a feed queued.
func (m *Metrics) ItemsDiscovered(feed string, n int) {
	m.feeds.found(feed, n)
}

// Delivered counts one delivery attempt, its outcome and duration; an
// ambiguous outcome is counted on its own too, since it is the one an
// operator must look at (a possible duplicate or loss).
func (m *Metrics) Delivered(destination, outcome string, took time.Duration) {
	m.deliveries.WithLabelValues(destination, outcome).Inc()
	m.deliveryDur.WithLabelValues(destination).Observe(took.Seconds())
	if outcome == syndicate.ErrAmbiguous.String() {
		m.ambiguous.WithLabelValues(destination).Inc()
	}
}

// Parked counts a delivery given up on.
func (m *Metrics) Parked(destination string) { m.parked.WithLabelValues(destination).Inc() }
