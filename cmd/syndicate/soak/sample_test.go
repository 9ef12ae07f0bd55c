package soak

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sample is one measurement of a worker process from outside.
type sample struct {
	at         time.Time
	rss        float64 // bytes, VmRSS of /proc/PID/status
	goroutines float64 // go_goroutines of the worker's /metrics
	fds        float64 // entries of /proc/PID/fd
}

// measure samples process pid, whose metrics are served at metricsURL.
// The descriptors are counted before the scrape, so that its connection
// is never among them.
func measure(ctx context.Context, client *http.Client, pid int, metricsURL string) (sample, error) {
	s := sample{at: time.Now()}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, fmt.Errorf("open files of %d: %w", pid, err)
	}
	s.fds = float64(len(fds))
	if s.rss, err = vmRSS(pid); err != nil {
		return s, err
	}
	if s.goroutines, err = goroutines(ctx, client, metricsURL); err != nil {
		return s, err
	}
	return s, nil
}

// vmRSS reads the resident set size of process pid in bytes.
func vmRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("status of %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS of %d: %w", pid, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("status of %d has no VmRSS", pid)
}

// goroutines scrapes go_goroutines from a Prometheus text exposition.
func goroutines(ctx context.Context, client *http.Client, metricsURL string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", metricsURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape %s: %s", metricsURL, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", metricsURL, err)
	}
	return metricValue(string(body), "go_goroutines")
}

// metricValue finds the value of an unlabelled metric in a text
// exposition.
func metricValue(exposition, name string) (float64, error) {
	for l := range strings.Lines(exposition) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no %s in the exposition", name)
}

// slope fits y = a + b·x by least squares and returns b; with fewer than
// two distinct x it returns 0.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}

func TestSlope(t *testing.T) {
	tests := []struct {
		name   string
		xs, ys []float64
		want   float64
	}{
		{"flat", []float64{0, 1, 2, 3}, []float64{5, 5, 5, 5}, 0},
		{"line", []float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}, 2},
		{"falling", []float64{0, 10, 20}, []float64{30, 20, 10}, -1},
		// Noise around a rise of one a step.
		{"noisy", []float64{0, 1, 2, 3, 4}, []float64{0, 2, 1, 3, 4}, 0.9},
		// A one-off jump of the level halfway weighs in as a slope.
		{"step", []float64{0, 1, 2, 3}, []float64{0, 0, 4, 4}, 1.6},
		{"one point", []float64{1}, []float64{9}, 0},
		{"one x", []float64{2, 2}, []float64{1, 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slope(tt.xs, tt.ys)
			if d := got - tt.want; d > 1e-9 || d < -1e-9 {
				t.Errorf("slope = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMetricValue(t *testing.T) {
	const expo = `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_goroutines_extra{x="y"} 7
go_threads 9
`
	if v, err := metricValue(expo, "go_goroutines"); err != nil || v != 42 {
		t.Errorf("go_goroutines = %v, %v; want 42", v, err)
	}
	if v, err := metricValue(expo, "go_threads"); err != nil || v != 9 {
		t.Errorf("go_threads = %v, %v; want 9", v, err)
	}
	if _, err := metricValue(expo, "process_open_fds"); err == nil {
		t.Error("a missing metric gave no error")
	}
}
