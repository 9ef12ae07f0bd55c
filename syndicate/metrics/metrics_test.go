package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
)

// series finds one series in a gather of reg: a counter's or gauge's
// value, a histogram's sample count. found is false when it is absent.
func series(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (value float64, found bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !labelsMatch(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	if len(m.GetLabel()) != len(want) {
		return false
	}
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
			return false
		}
	}
	return true
}

func newMetrics(t *testing.T, o Options) (*Metrics, *prometheus.Registry) {
	t.Helper()
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	m, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, o.Registry
}

type want struct {
	name   string
	labels map[string]string
	value  float64
}

func TestEngineEvents(t *testing.T) {
	tests := []struct {
		name   string
		events func(m syndicate.Metrics)
		want   []want
	}{
		{
			name: "feed polls by result, each timed",
			events: func(m syndicate.Metrics) {
				m.FeedPolled("news-en", "ok", 300*time.Millisecond)
				m.FeedPolled("news-en", "ok", 200*time.Millisecond)
				m.FeedPolled("news-en", "not_modified", 50*time.Millisecond)
				m.FeedPolled("news-de", "error", 10*time.Second)
				m.FeedPolled("news-de", "cancelled", time.Second)
			},
			want: []want{
				{"syndicate_feed_polls_total", map[string]string{"feed": "news-en", "result": "ok"}, 2},
				{"syndicate_feed_polls_total", map[string]string{"feed": "news-en", "result": "not_modified"}, 1},
				{"syndicate_feed_polls_total", map[string]string{"feed": "news-de", "result": "error"}, 1},
				{"syndicate_feed_polls_total", map[string]string{"feed": "news-de", "result": "cancelled"}, 1},
				{"syndicate_feed_poll_seconds", map[string]string{"result": "ok"}, 2},
				{"syndicate_feed_poll_seconds", map[string]string{"result": "not_modified"}, 1},
				{"syndicate_feed_poll_seconds", map[string]string{"result": "error"}, 1},
			},
		},
		{
			name: "items discovered add up; an empty poll adds nothing",
			events: func(m syndicate.Metrics) {
				m.ItemsDiscovered("news-en", 3)
				m.ItemsDiscovered("news-en", 0)
				m.ItemsDiscovered("news-en", 2)
				m.ItemsDiscovered("news-de", 0)
			},
			want: []want{
				{"syndicate_items_discovered_total", map[string]string{"feed": "news-en"}, 5},
				{"syndicate_items_discovered_total", map[string]string{"feed": "news-de"}, 0},
			},
		},
		{
			name: "deliveries by destination and outcome, each timed",
			events: func(m syndicate.Metrics) {
				m.Delivered("tg-en", "sent", time.Second)
				m.Delivered("tg-en", "sent", time.Second)
				m.Delivered("tg-en", "temporary", time.Second)
				m.Delivered("tg-en", "ambiguous", 30*time.Second)
				m.Delivered("md-en", "rate_limited", time.Second)
			},
			want: []want{
				{"syndicate_deliveries_total", map[string]string{"destination": "tg-en", "outcome": "sent"}, 2},
				{"syndicate_deliveries_total", map[string]string{"destination": "tg-en", "outcome": "temporary"}, 1},
				{"syndicate_deliveries_total", map[string]string{"destination": "tg-en", "outcome": "ambiguous"}, 1},
				{"syndicate_deliveries_total", map[string]string{"destination": "md-en", "outcome": "rate_limited"}, 1},
				{"syndicate_deliveries_total", map[string]string{"destination": "md-en", "outcome": "sent"}, 0},
				{"syndicate_delivery_seconds", map[string]string{"destination": "tg-en"}, 4},
				{"syndicate_delivery_seconds", map[string]string{"destination": "md-en"}, 1},
				{"syndicate_ambiguous_deliveries_total", map[string]string{"destination": "tg-en"}, 1},
				{"syndicate_ambiguous_deliveries_total", map[string]string{"destination": "md-en"}, 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newMetrics(t, Options{Destinations: []string{"tg-en", "md-en"}})
			tt.events(m)
			for _, w := range tt.want {
				got, ok := series(t, reg, w.name, w.labels)
				if !ok {
					t.Errorf("%s%v: missing", w.name, w.labels)
					continue
				}
				if got != w.value {
					t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
				}
			}
		})
	}
}

func TestPollSecondsSumsDurations(t *testing.T) {
	m, _ := newMetrics(t, Options{})
	m.FeedPolled("news-en", "ok", 1500*time.Millisecond)
	m.FeedPolled("news-de", "ok", 500*time.Millisecond)
	want := `
# HELP syndicate_feed_poll_seconds Time taken to fetch and parse a feed, by result.
# TYPE syndicate_feed_poll_seconds histogram
syndicate_feed_poll_seconds_bucket{result="ok",le="0.05"} 0
syndicate_feed_poll_seconds_bucket{result="ok",le="0.1"} 0
syndicate_feed_poll_seconds_bucket{result="ok",le="0.25"} 0
syndicate_feed_poll_seconds_bucket{result="ok",le="0.5"} 1
syndicate_feed_poll_seconds_bucket{result="ok",le="1"} 1
syndicate_feed_poll_seconds_bucket{result="ok",le="2.5"} 2
syndicate_feed_poll_seconds_bucket{result="ok",le="5"} 2
syndicate_feed_poll_seconds_bucket{result="ok",le="10"} 2
syndicate_feed_poll_seconds_bucket{result="ok",le="30"} 2
syndicate_feed_poll_seconds_bucket{result="ok",le="60"} 2
syndicate_feed_poll_seconds_bucket{result="ok",le="+Inf"} 2
syndicate_feed_poll_seconds_sum{result="ok"} 2
syndicate_feed_poll_seconds_count{result="ok"} 2
`
	if err := testutil.CollectAndCompare(m.feedPollDur, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestAmbiguousCountsOnlyAmbiguous(t *testing.T) {
	outcomes := []struct {
		outcome string
		want    float64
	}{
		{"sent", 0},
		{syndicate.ErrTemporary.String(), 0},
		{syndicate.ErrRateLimited.String(), 0},
		{syndicate.ErrPermanentItem.String(), 0},
		{syndicate.ErrPermanentDestination.String(), 0},
		{syndicate.ErrAmbiguous.String(), 1},
	}
	for _, tt := range outcomes {
		t.Run(tt.outcome, func(t *testing.T) {
			m, reg := newMetrics(t, Options{Destinations: []string{"tg-en"}})
			m.Delivered("tg-en", tt.outcome, time.Second)
			got, ok := series(t, reg, "syndicate_ambiguous_deliveries_total", map[string]string{"destination": "tg-en"})
			if !ok || got != tt.want {
				t.Errorf("ambiguous after %q = %v (present %v), want %v", tt.outcome, got, ok, tt.want)
			}
			if n, _ := series(t, reg, "syndicate_deliveries_total", map[string]string{"destination": "tg-en", "outcome": tt.outcome}); n != 1 {
				t.Errorf("deliveries{outcome=%q} = %v, want 1", tt.outcome, n)
			}
		})
	}
}

func TestKnownDestinationsStartAtZero(t *testing.T) {
	_, reg := newMetrics(t, Options{Destinations: []string{"tg-en", "tg-en", "md-en"}})
	for _, d := range []string{"tg-en", "md-en"} {
		if v, ok := series(t, reg, "syndicate_ambiguous_deliveries_total", map[string]string{"destination": d}); !ok || v != 0 {
			t.Errorf("ambiguous{%s} = %v (present %v), want a zero series", d, v, ok)
		}
		for _, out := range []string{"sent", "temporary", "rate_limited", "permanent_item", "permanent_destination", "ambiguous"} {
			if _, ok := series(t, reg, "syndicate_deliveries_total", map[string]string{"destination": d, "outcome": out}); !ok {
				t.Errorf("deliveries{%s,%s} missing before any delivery", d, out)
			}
		}
	}
}

func TestBuildInfo(t *testing.T) {
	for _, tt := range []struct{ version, label string }{{"v1.2.3", "v1.2.3"}, {"", "unknown"}} {
		_, reg := newMetrics(t, Options{Version: tt.version})
		if v, ok := series(t, reg, "syndicate_build_info", map[string]string{"version": tt.label}); !ok || v != 1 {
			t.Errorf("build_info{version=%q} = %v (present %v), want 1", tt.label, v, ok)
		}
	}
}

func TestNew(t *testing.T) {
	t.Run("own registry carries runtime collectors", func(t *testing.T) {
		m, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := testutil.GatherAndCount(m.Registry(), "go_goroutines", "process_start_time_seconds"); err != nil || n == 0 {
			t.Errorf("runtime series: %d, %v", n, err)
		}
	})
	t.Run("given registry is used as is", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		m, err := New(Options{Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		if m.Registry() != reg {
			t.Error("Registry() is not the registry given")
		}
		if n, _ := testutil.GatherAndCount(reg, "go_goroutines"); n != 0 {
			t.Error("runtime collector added to a caller's registry")
		}
	})
	t.Run("a second set in one registry fails", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := New(Options{Registry: reg}); err != nil {
			t.Fatal(err)
		}
		if _, err := New(Options{Registry: reg}); err == nil {
			t.Error("second New in the same registry succeeded")
		}
	})
}

func TestMetricsLint(t *testing.T) {
	st := openStore(t)
	m, reg := newMetrics(t, Options{Store: st, Destinations: []string{"tg-en"}, Version: "v1"})
	m.FeedPolled("news-en", "ok", time.Second)
	m.ItemsDiscovered("news-en", 1)
	m.Delivered("tg-en", "sent", time.Second)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func openStore(t *testing.T) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func job(dest, key string) syndicate.Delivery {
	return syndicate.Delivery{
		Destination: dest, ArticleKey: key, Kind: syndicate.JobPost,
		Item: syndicate.Item{FeedID: "news-en", Key: "guid:" + key, Title: "Title " + key},
	}
}

func depth(t *testing.T, reg prometheus.Gatherer, dest string, status syndicate.Status) (float64, bool) {
	t.Helper()
	return series(t, reg, "syndicate_queue_depth", map[string]string{"destination": dest, "status": string(status)})
}

func TestQueueDepthFromStore(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	jobs := []syndicate.Delivery{job("tg-en", "a"), job("tg-en", "b"), job("tg-en", "c"), job("md-en", "a")}
	if _, err := st.Enqueue(ctx, jobs, now); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	claimed, err := st.Claim(ctx, "tg-en", "w1", now, time.Minute, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("Claim: %v, %d jobs", err, len(claimed))
	}
	// One job of md-en is sent: a finished job is not in the queue.
	done, err := st.Claim(ctx, "md-en", "w1", now, time.Minute, 1)
	if err != nil || len(done) != 1 {
		t.Fatalf("Claim: %v, %d jobs", err, len(done))
	}
	done[0].Status, done[0].SentAt, done[0].FinishedAt = syndicate.StatusSent, now, now
	if err := st.Finish(ctx, done[0]); err != nil {
		t.Fatalf("Finish: %v", err)
	}

	_, reg := newMetrics(t, Options{Store: st, Destinations: []string{"tg-en", "md-en", "idle"}})
	for _, w := range []struct {
		dest   string
		status syndicate.Status
		want   float64
	}{
		{"tg-en", syndicate.StatusQueued, 2},
		{"tg-en", syndicate.StatusSending, 1},
		{"md-en", syndicate.StatusQueued, 0},
		{"md-en", syndicate.StatusSending, 0},
		{"idle", syndicate.StatusQueued, 0},
		{"idle", syndicate.StatusSending, 0},
	} {
		got, ok := depth(t, reg, w.dest, w.status)
		if !ok || got != w.want {
			t.Errorf("queue_depth{%s,%s} = %v (present %v), want %v", w.dest, w.status, got, ok, w.want)
		}
	}
	if up, ok := series(t, reg, "syndicate_store_up", nil); !ok || up != 1 {
		t.Errorf("store_up = %v (present %v), want 1", up, ok)
	}

	// The depth is read at each scrape, not remembered.
	if _, err := st.Enqueue(ctx, []syndicate.Delivery{job("tg-en", "d")}, now); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if got, _ := depth(t, reg, "tg-en", syndicate.StatusQueued); got != 3 {
		t.Errorf("queue_depth{tg-en,queued} after another job = %v, want 3", got)
	}

	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if up, ok := series(t, reg, "syndicate_store_up", nil); !ok || up != 0 {
		t.Errorf("store_up with the store closed = %v (present %v), want 0", up, ok)
	}
	if _, ok := depth(t, reg, "tg-en", syndicate.StatusQueued); ok {
		t.Error("queue_depth reported while the store is closed")
	}
}

// failingList is a store whose List fails for one destination.
type failingList struct {
	syndicate.Store
	dest string
}

func (s failingList) List(ctx context.Context, destination string, limit int, states ...syndicate.Status) ([]syndicate.Delivery, error) {
	if destination == s.dest {
		return nil, errors.New("list: connection refused")
	}
	return s.Store.List(ctx, destination, limit, states...)
}

func TestStoreUpZeroWhenListFails(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	if _, err := st.Enqueue(ctx, []syndicate.Delivery{job("tg-en", "a"), job("md-en", "a")}, now); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	_, reg := newMetrics(t, Options{Store: failingList{Store: st, dest: "tg-en"}, Destinations: []string{"tg-en", "md-en"}})
	if up, ok := series(t, reg, "syndicate_store_up", nil); !ok || up != 0 {
		t.Errorf("store_up = %v (present %v), want 0", up, ok)
	}
	if _, ok := depth(t, reg, "tg-en", syndicate.StatusQueued); ok {
		t.Error("queue_depth reported for the destination whose read failed")
	}
	if got, ok := depth(t, reg, "md-en", syndicate.StatusQueued); !ok || got != 1 {
		t.Errorf("queue_depth{md-en,queued} = %v (present %v), want 1", got, ok)
	}
}

// blockingList is a store whose List waits for its context, as a hung
// Redis connection would.
type blockingList struct{ syndicate.Store }

func (blockingList) List(ctx context.Context, _ string, _ int, _ ...syndicate.Status) ([]syndicate.Delivery, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestQueueReadIsBounded(t *testing.T) {
	st := openStore(t)
	reg := prometheus.NewRegistry()
	c := newQueueCollector(blockingList{st}, []string{"tg-en"}, time.Millisecond)
	reg.MustRegister(c)
	if up, ok := series(t, reg, "syndicate_store_up", nil); !ok || up != 0 {
		t.Errorf("store_up with a hung store = %v (present %v), want 0", up, ok)
	}
}

func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(body)
}

func TestReadyz(t *testing.T) {
	unreachable := errors.New("ping redis: dial tcp 127.0.0.1:6379: connection refused")
	release := make(chan struct{})
	defer close(release)
	tests := []struct {
		name     string
		ready    func(context.Context) error
		wantCode int
		wantBody string
	}{
		{"ready", func(context.Context) error { return nil }, http.StatusOK, "ready"},
		{"store unreachable", func(context.Context) error { return unreachable }, http.StatusServiceUnavailable, "connection refused"},
		{"check hangs past the timeout", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, http.StatusServiceUnavailable, "deadline exceeded"},
		{"check ignores its context", func(context.Context) error { <-release; return nil }, http.StatusServiceUnavailable, "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newMetrics(t, Options{})
			m.readyTimeout = 10 * time.Millisecond
			code, body := get(t, m.Handler(tt.ready), http.MethodGet, "/readyz")
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET /readyz = %d %q, want %d containing %q", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestReadyzDefaultsToStorePing(t *testing.T) {
	st := openStore(t)
	m, _ := newMetrics(t, Options{Store: st})
	h := m.Handler(nil)
	if code, body := get(t, h, http.MethodGet, "/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz with the store open = %d %q, want 200", code, body)
	}
	st.Close()
	if code, body := get(t, h, http.MethodGet, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the store closed = %d %q, want 503", code, body)
	}
	// Liveness does not depend on the store: restarting would not help.
	if code, _ := get(t, h, http.MethodGet, "/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz with the store closed = %d, want 200", code)
	}
}

func TestHandlerRoutes(t *testing.T) {
	m, _ := newMetrics(t, Options{Destinations: []string{"tg-en"}, Version: "v1.2.3"})
	m.FeedPolled("news-en", "ok", time.Second)
	m.ItemsDiscovered("news-en", 2)
	m.Delivered("tg-en", "ambiguous", time.Second)
	h := m.Handler(func(context.Context) error { return errors.New("never asked") })

	tests := []struct {
		method, path string
		wantCode     int
		wantBody     []string
	}{
		{http.MethodGet, "/healthz", http.StatusOK, []string{"ok"}},
		{http.MethodGet, "/metrics", http.StatusOK, []string{
			"syndicate_feed_polls_total{feed=\"news-en\",result=\"ok\"} 1",
			"syndicate_feed_poll_seconds_count{result=\"ok\"} 1",
			"syndicate_items_discovered_total{feed=\"news-en\"} 2",
			"syndicate_deliveries_total{destination=\"tg-en\",outcome=\"ambiguous\"} 1",
			"syndicate_delivery_seconds_count{destination=\"tg-en\"} 1",
			"syndicate_ambiguous_deliveries_total{destination=\"tg-en\"} 1",
			"syndicate_build_info{version=\"v1.2.3\"} 1",
			"# HELP syndicate_ambiguous_deliveries_total ",
		}},
		{http.MethodGet, "/", http.StatusNotFound, nil},
		{http.MethodGet, "/metrics/extra", http.StatusNotFound, nil},
		{http.MethodGet, "/debug/pprof/", http.StatusNotFound, nil},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			code, body := get(t, h, tt.method, tt.path)
			if code != tt.wantCode {
				t.Errorf("status = %d, want %d; body %q", code, tt.wantCode, body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestMetricsShowQueueFromStore(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := st.Enqueue(ctx, []syndicate.Delivery{job("tg-en", "a")}, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	m, _ := newMetrics(t, Options{Store: st, Destinations: []string{"tg-en"}})
	_, body := get(t, m.Handler(nil), http.MethodGet, "/metrics")
	for _, w := range []string{
		`syndicate_queue_depth{destination="tg-en",status="queued"} 1`,
		`syndicate_queue_depth{destination="tg-en",status="sending"} 0`,
		`syndicate_store_up 1`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q:\n%s", w, body)
		}
	}
}

// TestQueueAgeAndPause: the oldest queued job's age and a paused
// destination are read from the store at scrape time, for the alerts.
func TestQueueAgeAndPause(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	enqueued := time.Now().Add(-90 * time.Minute)
	if _, err := st.Enqueue(ctx, []syndicate.Delivery{job("tg-en", "a")}, enqueued); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Enqueue(ctx, []syndicate.Delivery{job("tg-en", "b")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDestination(ctx, "md-en", syndicate.DestinationState{PausedReason: "401 The access token is invalid", PausedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, reg := newMetrics(t, Options{Store: st, Destinations: []string{"tg-en", "md-en"}})
	if age, ok := series(t, reg, "syndicate_queue_oldest_seconds", map[string]string{"destination": "tg-en"}); !ok || age < 90*60 || age > 91*60 {
		t.Errorf("queue_oldest_seconds{tg-en} = %v (present %v), want about 5400", age, ok)
	}
	if age, ok := series(t, reg, "syndicate_queue_oldest_seconds", map[string]string{"destination": "md-en"}); !ok || age != 0 {
		t.Errorf("queue_oldest_seconds{md-en} = %v (present %v), want 0 for an empty queue", age, ok)
	}
	for dest, want := range map[string]float64{"tg-en": 0, "md-en": 1} {
		if got, ok := series(t, reg, "syndicate_destination_paused", map[string]string{"destination": dest}); !ok || got != want {
			t.Errorf("destination_paused{%s} = %v (present %v), want %v", dest, got, ok, want)
		}
	}
}

// TestParkedCounts: a parked delivery is counted by destination, and
// known destinations start at zero so the alert sees the first one.
func TestParkedCounts(t *testing.T) {
	m, reg := newMetrics(t, Options{Destinations: []string{"tg-en", "md-en"}})
	m.Parked("tg-en")
	m.Parked("tg-en")
	for dest, want := range map[string]float64{"tg-en": 2, "md-en": 0} {
		if got, ok := series(t, reg, "syndicate_parked_deliveries_total", map[string]string{"destination": dest}); !ok || got != want {
			t.Errorf("parked_deliveries_total{%s} = %v (present %v), want %v", dest, got, ok, want)
		}
	}
}

// TestFeedCountersConcurrent: polls counted from many goroutines while
// scrapes run add up, and a feed only polled has no discovered series yet.
func TestFeedCountersConcurrent(t *testing.T) {
	m, reg := newMetrics(t, Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				m.FeedPolled(fmt.Sprintf("feed-%d", i%10), "not_modified", time.Millisecond)
				if g == 0 && i%100 == 0 {
					if _, err := reg.Gather(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	for i := range 10 {
		labels := map[string]string{"feed": fmt.Sprintf("feed-%d", i), "result": "not_modified"}
		if got, ok := series(t, reg, "syndicate_feed_polls_total", labels); !ok || got != 400 {
			t.Errorf("polls %v = %v (present %v), want 400", labels, got, ok)
		}
		if _, ok := series(t, reg, "syndicate_items_discovered_total", map[string]string{"feed": labels["feed"]}); ok {
			t.Errorf("items_discovered_total for %s before any discovery was reported", labels["feed"])
		}
	}
}
