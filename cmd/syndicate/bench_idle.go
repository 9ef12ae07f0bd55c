package main

import (
	"context"
	byteorder "encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/feedfarm"
)

// The idle benchmark runs `run` itself in a child process, on the real
// clock, with a few feeds that never change, and measures what it costs
// once its first poll round is over: CPU time (the child reports its own
// getrusage when signalled, at the start and end of the window) and store
// writes (committed bbolt transactions, read from the file).

// idleUsage is the idle child's answer to the report signal.
type idleUsage struct {
	UserS float64 `json:"user_s"`
	SysS  float64 `json:"sys_s"`
	Error string  `json:"error,omitempty"`
}

// idleReport is what bench idle prints.
type idleReport struct {
	Feeds    int     `json:"feeds"`
	Interval string  `json:"interval"`
	WindowS  float64 `json:"window_s"`
	// StartupCPUS is the CPU time before the window: start-up and the
	// first poll round.
	StartupCPUS   float64 `json:"startup_cpu_s"`
	CPUS          float64 `json:"cpu_s"`
	CPUPerMinuteS float64 `json:"cpu_per_minute_s"`
	// StoreWrites counts committed write transactions in the window.
	StoreWrites          uint64  `json:"store_writes"`
	StoreWritesPerMinute float64 `json:"store_writes_per_minute"`
	// Polls counts feed requests the farm answered in the window.
	Polls        int64 `json:"polls"`
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// firstRoundSettle is how long after the farm answered the last feed of
// the first round the window starts: the round's store writes end within
// milliseconds of the last fetch.
const firstRoundSettle = 2 * time.Second

func cmdBenchIdle(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("bench idle", "Measure idling: run the worker (`run`, real clock) on a few feeds that never change, in a\nchild process, and report the CPU time and store writes it spends once its first poll round is done.", stderr)
	feeds := fs.Int("feeds", 4, "number of feeds")
	interval := fs.Duration("interval", 10*time.Minute, "the feeds' poll interval")
	window := fs.Duration("duration", time.Minute, "how long to measure, after the first poll round")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *feeds < 1 || *window <= 0 {
		fmt.Fprintln(stderr, "--feeds must be at least 1 and --duration positive")
		return errUsage
	}
	if reportSignal() == nil {
		return errors.New("bench idle needs unix signals and getrusage")
	}
	farm, err := feedfarm.Start(feedfarm.Options{Feeds: *feeds, Step: *interval})
	if err != nil {
		return err
	}
	defer farm.Close()
	dir, err := os.MkdirTemp("", "syndicate-bench-")
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(dir)
	cfgPath, dbPath, logPath := filepath.Join(dir, "idle.yaml"), filepath.Join(dir, "state.db"), filepath.Join(dir, "idle.log")
	ids := make([]string, *feeds)
	for i := range ids {
		ids[i] = fmt.Sprintf("feed-%d", i)
	}
	var cfg strings.Builder
	if err := idleConfigTemplate.Execute(&cfg, map[string]any{"DB": dbPath, "Interval": interval.String(), "Farm": farm, "IDs": ids}); err != nil {
		return fmt.Errorf("bench config: %w", err)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		return fmt.Errorf("bench config: %w", err)
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("child log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(exe, "bench", "idle-child", "--config", cfgPath)
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start child: %w", err)
	}
	exited := make(chan error, 1)
	usages := make(chan idleUsage)
	go func() {
		dec := json.NewDecoder(out)
		for {
			var u idleUsage
			if dec.Decode(&u) != nil {
				close(usages)
				exited <- cmd.Wait()
				return
			}
			usages <- u
		}
	}()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		_ = cmd.Process.Signal(stopSignal())
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return <-exited
		}
	}
	defer stop()
	fail := func(err error) error {
		serr := stop()
		return fmt.Errorf("%w (child: %v)\n%s", err, serr, logTail(logPath, 20))
	}
	usage := func() (idleUsage, error) {
		if err := cmd.Process.Signal(reportSignal()); err != nil {
			return idleUsage{}, fmt.Errorf("signal child: %w", err)
		}
		select {
		case u, ok := <-usages:
			if !ok {
				return u, errors.New("child exited")
			}
			if u.Error != "" {
				return u, errors.New(u.Error)
			}
			return u, nil
		case <-time.After(10 * time.Second):
			return idleUsage{}, errors.New("child did not report its CPU time")
		}
	}

	// The first poll round ends when the farm has answered every feed.
	deadline := time.Now().Add(time.Minute)
	for farm.Stats().Polls() < int64(*feeds) {
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("first poll round: %d of %d feeds polled in a minute", farm.Stats().Polls(), *feeds))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(firstRoundSettle):
	}

	tx0, err := boltTxID(dbPath)
	if err != nil {
		return fail(err)
	}
	polls0 := farm.Stats().Polls()
	u0, err := usage()
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(*window):
	}
	u1, err := usage()
	if err != nil {
		return fail(err)
	}
	took := time.Since(start)
	tx1, err := boltTxID(dbPath)
	if err != nil {
		return fail(err)
	}
	polls1 := farm.Stats().Polls()
	if err := stop(); err != nil {
		return fmt.Errorf("child: %w\n%s", err, logTail(logPath, 20))
	}
	minutes := took.Minutes()
	rep := idleReport{
		Feeds: *feeds, Interval: interval.String(), WindowS: took.Seconds(),
		StartupCPUS: u0.UserS + u0.SysS,
		CPUS:        (u1.UserS + u1.SysS) - (u0.UserS + u0.SysS),
		StoreWrites: tx1 - tx0, Polls: polls1 - polls0,
		PeakRSSBytes: peakRSS(cmd.ProcessState),
	}
	rep.CPUPerMinuteS = rep.CPUS / minutes
	rep.StoreWritesPerMinute = float64(rep.StoreWrites) / minutes
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "`run` with %d feeds at a %s interval that never change, measured for %s after its first poll round.\n\n",
		rep.Feeds, rep.Interval, took.Round(100*time.Millisecond))
	printTable(stdout, [][]string{
		{"", "CPU per minute", "store writes per minute", "feed polls", "peak RSS"},
		{"syndicate run", seconds(rep.CPUPerMinuteS), fmt.Sprintf("%.1f", rep.StoreWritesPerMinute), fmt.Sprint(rep.Polls), mb(rep.PeakRSSBytes)},
	})
	fmt.Fprintf(stdout, "\nIn the window: %s CPU, %d store writes (committed write transactions). Start-up and first poll round: %s CPU.\n",
		seconds(rep.CPUS), rep.StoreWrites, seconds(rep.StartupCPUS))
	return nil
}

var idleConfigTemplate = template.Must(template.New("idle").Parse(`# Written by "syndicate bench idle": a few feeds of a loopback feed farm
# that never change.
store:
  embedded:
    path: {{.DB}}
defaults:
  poll_interval: {{.Interval}}
network:
  feeds:
    allow_private: true   # the farm is on loopback
worker:
  id: bench
telegram:
  bots:
    - id: bench
      token: "123456:BENCH-not-a-real-token"
      api_url: {{.Farm.URL}}   # never called: no feed has anything new
  channels:
    - id: bench
      chat: "@bench"
feeds:
{{- range $i, $id := .IDs}}
  - id: {{$id}}
    url: {{$.Farm.FeedURL $i}}
{{- end}}
routes:
  - to: [bench]
    feeds: [{{range $i, $id := .IDs}}{{if $i}}, {{end}}{{$id}}{{end}}]
`))

// cmdBenchIdleChild is `run` with one addition: on the report signal it
// writes its CPU time so far to stdout, so that the parent can take the
// difference over a window.
func cmdBenchIdleChild(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("bench idle-child", "The worker of bench idle (started by it).", stderr)
	cfgPath := fs.String("config", "", "config `FILE`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if reportSignal() == nil {
		return errors.New("bench idle needs unix signals and getrusage")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, reportSignal())
	defer signal.Stop(sig)
	done := make(chan struct{})
	defer close(done)
	enc := json.NewEncoder(stdout)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-sig:
				var u idleUsage
				user, sys, err := cpuSelf()
				if err != nil {
					u.Error = err.Error()
				}
				u.UserS, u.SysS = user.Seconds(), sys.Seconds()
				_ = enc.Encode(u)
			}
		}
	}()
	return cmdRun(ctx, []string{"--config", *cfgPath}, env, io.Discard, stderr)
}

// boltTxID reads the id of the last committed write transaction of a bbolt
// file. bbolt writes it with every commit, even one that changed nothing,
// into the meta page numbered by its parity, and on open takes the valid
// meta page (magic, version and FNV-64a checksum) with the higher id; the
// same is done here. The file is read without its lock, so the worker
// keeps running.
func boltTxID(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read store transaction id: %w", err)
	}
	defer f.Close()
	buf := make([]byte, boltMetaEnd)
	if _, err := f.ReadAt(buf, 0); err != nil {
		return 0, fmt.Errorf("read store transaction id: %w", err)
	}
	id0, pageSize, ok0 := boltMeta(buf)
	if !ok0 {
		pageSize = uint32(os.Getpagesize())
	}
	if _, err := f.ReadAt(buf, int64(pageSize)); err != nil {
		return 0, fmt.Errorf("read store transaction id: %w", err)
	}
	id1, _, ok1 := boltMeta(buf)
	switch {
	case ok0 && ok1:
		return max(id0, id1), nil
	case ok0:
		return id0, nil
	case ok1:
		return id1, nil
	}
	return 0, fmt.Errorf("read store transaction id: %s has no valid bbolt meta page", path)
}

// The layout of a bbolt meta page (bbolt's internal/common/meta.go, file
// format version 2): a 16-byte page header, then magic, version, page size
// and flags (4 bytes each), the root bucket (page id and sequence), the
// freelist and high-water page ids, the transaction id and the checksum of
// everything before it (8 bytes each), in the machine's byte order.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltPageHeader = 16
	boltTxIDAt     = boltPageHeader + 48
	boltChecksumAt = boltPageHeader + 56
	boltMetaEnd    = boltPageHeader + 64
	boltPageSizeAt = boltPageHeader + 8
	boltVersionAt  = boltPageHeader + 4
)

func boltMeta(page []byte) (txid uint64, pageSize uint32, ok bool) {
	e := byteorder.NativeEndian
	h := fnv.New64a()
	h.Write(page[boltPageHeader:boltChecksumAt])
	if e.Uint32(page[boltPageHeader:]) != boltMagic || e.Uint32(page[boltVersionAt:]) != boltVersion ||
		e.Uint64(page[boltChecksumAt:]) != h.Sum64() {
		return 0, 0, false
	}
	return e.Uint64(page[boltTxIDAt:]), e.Uint32(page[boltPageSizeAt:]), true
}
