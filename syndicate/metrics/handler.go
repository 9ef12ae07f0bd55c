package metrics

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultReadyTimeout bounds a readiness check, so a probe gets an answer
// before its own timeout even when the store hangs.
const DefaultReadyTimeout = 2 * time.Second

// Handler serves /metrics (the registry in Prometheus text format),
// /healthz (200 while the process can answer) and /readyz (200 when ready
// returns nil within DefaultReadyTimeout, 503 with the error otherwise).
// A nil ready pings the store given to New, or is always ready without one.
// Other paths are 404.
func (m *Metrics) Handler(ready func(ctx context.Context) error) http.Handler {
	if ready == nil {
		ready = func(context.Context) error { return nil }
		if m.store != nil {
			ready = m.store.Ping
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:      m.reg,
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := checkReady(r.Context(), ready, m.readyTimeout); err != nil {
			plain(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
		plain(w, http.StatusOK, "ready")
	})
	return mux
}

// checkReady runs ready in its own goroutine so that a check ignoring its
// context still cannot hold the probe past the timeout.
func checkReady(ctx context.Context, ready func(context.Context) error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ready(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("readiness check: %w", ctx.Err())
	}
}

func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, body)
}
