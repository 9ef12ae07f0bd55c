package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// queueCollector reads the delivery queue from the store at scrape time,
// so every replica reports the shared queue as it is, not as it last saw it.
//
// Only the live states (queued, sending) are read: the final states would
// make every scrape walk the whole delivery history on the Redis store.
type queueCollector struct {
	store   syndicate.Store
	dests   []string
	timeout time.Duration

	depth  *prometheus.Desc
	oldest *prometheus.Desc
	paused *prometheus.Desc
	up     *prometheus.Desc
	now    func() time.Time
}

func newQueueCollector(st syndicate.Store, dests []string, timeout time.Duration) *queueCollector {
	return &queueCollector{
		store: st, dests: dests, timeout: timeout,
		depth: prometheus.NewDesc("syndicate_queue_depth",
			"Delivery jobs of a destination waiting (queued) or being posted (sending), read from the store at scrape time.",
			[]string{"destination", "status"}, nil),
		oldest: prometheus.NewDesc("syndicate_queue_oldest_seconds",
			"Age of the destination's oldest queued job (0 when none waits), read from the store at scrape time.",
			[]string{"destination"}, nil),
		paused: prometheus.NewDesc("syndicate_destination_paused",
			"1 while a permanent error (a bad token, a bot removed from its channel) holds the destination's deliveries until an operator runs syndicate retry.",
			[]string{"destination"}, nil),
		now: time.Now,
		up: prometheus.NewDesc("syndicate_store_up",
			"1 when the store answered this scrape's reads, 0 when it failed or timed out.",
			nil, nil),
	}
}

// Describe sends the descriptors of the queue series.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
	ch <- c.paused
	ch <- c.up
}

// Collect reads each destination's live jobs; a destination whose read
// fails reports no depth rather than a misleading zero.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	up := 1.0
	if err := c.store.Ping(ctx); err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	live := []syndicate.Status{syndicate.StatusQueued, syndicate.StatusSending}
	for _, d := range c.dests {
		jobs, err := c.store.List(ctx, d, 0, live...)
		if err != nil {
			up = 0
			continue
		}
		count := make(map[syndicate.Status]int, len(live))
		var first time.Time
		for _, j := range jobs {
			count[j.Status]++
			if j.Status == syndicate.StatusQueued && !j.EnqueuedAt.IsZero() && (first.IsZero() || j.EnqueuedAt.Before(first)) {
				first = j.EnqueuedAt
			}
		}
		for _, s := range live {
			ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(count[s]), d, string(s))
		}
		age := 0.0
		if !first.IsZero() {
			age = max(c.now().Sub(first).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, d)
		st, err := c.store.LoadDestination(ctx, d)
		if err != nil {
			up = 0
			continue
		}
		paused := 0.0
		if st.PausedReason != "" {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, paused, d)
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
}
