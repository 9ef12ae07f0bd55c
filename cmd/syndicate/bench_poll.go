package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/feedfarm"
	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
)

// The poll benchmark runs two pollers, each in a child process of its own,
// one after the other against the same farm in the same states: the bare
// loop, the floor any poller must pay (conditional GET, parse, remember the
// item ids), and the worker as `run` builds it. Each child reports the CPU
// time of each round from getrusage; the parent advances the farm between
// rounds and reads each child's peak RSS when it exits.

// runTick is how often `run` looks for due feeds: the engine's default
// tick, which the config cannot change.
const runTick = time.Second

// benchDestination is the poll benchmark's only destination; its filter
// lets no item through, so it never receives a post.
const benchDestination = "bench"

// pollRound is one round of one poller: the CPU and wall time the child
// measured, and what the farm answered meanwhile.
type pollRound struct {
	Round int     `json:"round"`
	UserS float64 `json:"user_s"`
	SysS  float64 `json:"sys_s"`
	WallS float64 `json:"wall_s"`
	// Steps counts the worker's calls of PollDue, one per tick of
	// virtual time.
	Steps int `json:"steps,omitempty"`
	// NewItems and Errors are counted by the bare loop: item ids it had
	// not seen, and polls that failed.
	NewItems int `json:"new_items,omitempty"`
	Errors   int `json:"errors,omitempty"`
	// Filled in by the parent from the farm's counters.
	OK          int64 `json:"ok"`
	NotModified int64 `json:"not_modified"`
	Other       int64 `json:"other"`
	Bytes       int64 `json:"bytes"`
	Conns       int64 `json:"conns"`
}

func (r pollRound) cpu() float64   { return r.UserS + r.SysS }
func (r pollRound) polls() float64 { return float64(r.OK + r.NotModified) }

// pollEnd is a child's last message.
type pollEnd struct {
	// Known is how many item ids the bare loop holds.
	Known int `json:"known"`
}

// pollResult is one poller's outcome.
type pollResult struct {
	Rounds          []pollRound `json:"rounds"`
	FirstSightCPUS  float64     `json:"first_sight_cpu_s"`
	SteadyCPUS      float64     `json:"steady_cpu_s"`
	SteadyPollsPerS float64     `json:"steady_polls_per_s"`
	PeakRSSBytes    int64       `json:"peak_rss_bytes"`
	// ProcessCPUS is the child's whole CPU time, start-up included.
	ProcessCPUS float64 `json:"process_cpu_s"`
	// ItemsSeen is how many of the farm's items the poller recorded: for
	// the bare loop every id in its map, for the worker the items the
	// feeds show at the end that its store marks seen. AddedSeen counts
	// those of them added in the steady rounds.
	ItemsSeen int `json:"items_seen"`
	AddedSeen int `json:"added_seen"`
	// Deliveries is how many deliveries the worker queued: none, since
	// the filter matches nothing.
	Deliveries int `json:"deliveries"`
}

// summarise fills the per-round means from the rounds.
func (p *pollResult) summarise() {
	var cpu, polls, wall float64
	for i, r := range p.Rounds {
		if i == 0 {
			p.FirstSightCPUS = r.cpu()
			continue
		}
		cpu += r.cpu()
		polls += r.polls()
		wall += r.WallS
	}
	if n := len(p.Rounds) - 1; n > 0 {
		p.SteadyCPUS = cpu / float64(n)
		p.SteadyPollsPerS = polls / wall
	}
}

// pollReport is what bench poll prints.
type pollReport struct {
	Feeds           int     `json:"feeds"`
	SteadyRounds    int     `json:"steady_rounds"`
	Changed         float64 `json:"changed"`
	ChangedPerRound int     `json:"changed_per_round"`
	FeedBytes       int64   `json:"feed_bytes"`
	Concurrency     int     `json:"concurrency"`
	Interval        string  `json:"interval"`
	CPUs            int     `json:"cpus"`
	GoVersion       string  `json:"go_version"`
	// ExpectedItems and ExpectedAdded are what a poller that missed
	// nothing records: every item the feeds show at the end, and the
	// items added in the steady rounds.
	ExpectedItems int        `json:"expected_items"`
	ExpectedAdded int        `json:"expected_added"`
	Bare          pollResult `json:"bare"`
	Syndicate     pollResult `json:"syndicate"`
	// Ratios are syndicate / bare for each column of the table.
	Ratios struct {
		SteadyCPU       float64 `json:"steady_cpu"`
		FirstSightCPU   float64 `json:"first_sight_cpu"`
		PeakRSS         float64 `json:"peak_rss"`
		SteadyPollsPerS float64 `json:"steady_polls_per_s"`
	} `json:"ratios"`
}

func cmdBenchPoll(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("bench poll", "Measure polling: serve a farm of WordPress-sized feeds on loopback, poll it with a bare\nnet/http+gofeed loop and then with the worker (built as `run` builds it, on an embedded store,\nall feeds routed through a filter that matches nothing), each in a child process, and print\nCPU per round, peak RSS and polls per second of both.", stderr)
	feeds := fs.Int("feeds", 10_000, "the farm serves `N` feeds")
	rounds := fs.Int("rounds", 3, "steady rounds after the first-sight round")
	changed := fs.Float64("changed", 0.1, "`share` of feeds that gain an item each round")
	conc := fs.Int("concurrency", 32, "feeds polled at once by both pollers")
	interval := fs.Duration("interval", 10*time.Minute, "the feeds' poll interval: the worker's clock moves by it each round, one tick at a time")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the worker's steady rounds to `FILE`")
	memprofile := fs.String("memprofile", "", "write heap profiles of the worker to `FILE` after its last round and FILE.first after the first-sight round")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *feeds < 1 || *rounds < 0 || *conc < 1 || *interval < config.MinPollInterval.D() {
		fmt.Fprintf(stderr, "--feeds and --concurrency must be at least 1, --rounds at least 0, --interval at least %s\n", config.MinPollInterval)
		return errUsage
	}
	for _, p := range []*string{cpuprofile, memprofile} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return fmt.Errorf("profile: %w", err)
			}
			*p = abs
		}
	}
	farm, err := feedfarm.Start(feedfarm.Options{Feeds: *feeds, Changed: *changed, Step: *interval})
	if err != nil {
		return err
	}
	defer farm.Close()
	dir, err := os.MkdirTemp("", "syndicate-bench-")
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(dir)

	rep := pollReport{
		Feeds: *feeds, SteadyRounds: *rounds, Changed: *changed, ChangedPerRound: farm.ChangedIn(1),
		Concurrency: *conc, Interval: interval.String(), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		ExpectedItems: *feeds * feedfarm.ItemsPerFeed, ExpectedAdded: *rounds * farm.ChangedIn(1),
	}
	list := filepath.Join(dir, "feeds.txt")
	var urls strings.Builder
	for i := range *feeds {
		urls.WriteString(farm.FeedURL(i) + "\n")
	}
	if err := os.WriteFile(list, []byte(urls.String()), 0o600); err != nil {
		return fmt.Errorf("feed list: %w", err)
	}
	common := []string{"--rounds", fmt.Sprint(*rounds), "--concurrency", fmt.Sprint(*conc)}
	rep.Bare, err = runPollChild(ctx, farm, *rounds, filepath.Join(dir, "bare.log"),
		slices.Concat(common, []string{"--mode", "bare", "--feed-list", list}))
	if err != nil {
		return fmt.Errorf("bare loop: %w", err)
	}
	for _, r := range rep.Bare.Rounds[1:] {
		rep.Bare.AddedSeen += r.NewItems
	}

	farm.SetRound(0)
	cfgPath, dbPath := filepath.Join(dir, "bench.yaml"), filepath.Join(dir, "state.db")
	if err := writePollConfig(cfgPath, dbPath, farm, *interval, *conc); err != nil {
		return err
	}
	synArgs := slices.Concat(common, []string{"--mode", "syndicate", "--config", cfgPath, "--farm", farm.URL(),
		"--feeds", fmt.Sprint(*feeds), "--interval", interval.String(), "--epoch", farm.Epoch().Format(time.RFC3339)})
	if *memprofile != "" {
		synArgs = append(synArgs, "--memprofile", *memprofile)
	}
	if *cpuprofile != "" {
		synArgs = append(synArgs, "--cpuprofile", *cpuprofile)
	}
	rep.Syndicate, err = runPollChild(ctx, farm, *rounds, filepath.Join(dir, "syndicate.log"), synArgs)
	if err != nil {
		return fmt.Errorf("syndicate: %w", err)
	}
	if err := checkSeen(ctx, dbPath, farm, *rounds, &rep.Syndicate); err != nil {
		return err
	}
	if first := rep.Bare.Rounds[0]; first.OK > 0 {
		rep.FeedBytes = first.Bytes / first.OK
	}
	rep.Ratios.SteadyCPU = ratio(rep.Syndicate.SteadyCPUS, rep.Bare.SteadyCPUS)
	rep.Ratios.FirstSightCPU = ratio(rep.Syndicate.FirstSightCPUS, rep.Bare.FirstSightCPUS)
	rep.Ratios.PeakRSS = ratio(float64(rep.Syndicate.PeakRSSBytes), float64(rep.Bare.PeakRSSBytes))
	rep.Ratios.SteadyPollsPerS = ratio(rep.Syndicate.SteadyPollsPerS, rep.Bare.SteadyPollsPerS)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printPollReport(stdout, rep)
	return nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// runPollChild runs one poller's rounds in a child process, advancing the
// farm between them.
func runPollChild(ctx context.Context, farm *feedfarm.Farm, rounds int, logPath string, args []string) (pollResult, error) {
	var res pollResult
	exe, err := os.Executable()
	if err != nil {
		return res, fmt.Errorf("find own executable: %w", err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return res, fmt.Errorf("child log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, exe, append([]string{"bench", "poll-child"}, args...)...)
	cmd.Stderr = logFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start child: %w", err)
	}
	fail := func(err error) (pollResult, error) {
		stdin.Close()
		werr := cmd.Wait()
		return res, fmt.Errorf("%w (child: %v)\n%s", err, werr, logTail(logPath, 20))
	}
	dec := json.NewDecoder(stdout)
	for r := 0; r <= rounds; r++ {
		var round pollRound
		if err := dec.Decode(&round); err != nil {
			return fail(fmt.Errorf("round %d report: %w", r, err))
		}
		st := farm.Stats()
		round.OK, round.NotModified, round.Other, round.Bytes, round.Conns = st.OK, st.NotModified, st.Other, st.Bytes, st.Conns
		res.Rounds = append(res.Rounds, round)
		if r < rounds {
			farm.Advance()
			if _, err := io.WriteString(stdin, "next\n"); err != nil {
				return fail(fmt.Errorf("start round %d: %w", r+1, err))
			}
		}
	}
	var end pollEnd
	if err := dec.Decode(&end); err != nil {
		return fail(fmt.Errorf("final report: %w", err))
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return res, fmt.Errorf("child: %w\n%s", err, logTail(logPath, 20))
	}
	res.ItemsSeen = end.Known
	res.PeakRSSBytes = peakRSS(cmd.ProcessState)
	res.ProcessCPUS = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	res.summarise()
	return res, nil
}

// writePollConfig writes the worker's config: the farm's feeds, one route
// to one Telegram channel through a filter no item passes.
func writePollConfig(path, db string, farm *feedfarm.Farm, interval time.Duration, conc int) error {
	ids := make([]string, farm.Feeds())
	for i := range ids {
		ids[i] = fmt.Sprintf("feed-%d", i)
	}
	var b strings.Builder
	err := pollConfigTemplate.Execute(&b, map[string]any{
		"DB": db, "Interval": interval.String(), "Concurrency": conc, "Farm": farm, "IDs": ids,
		"Destination": benchDestination,
	})
	if err != nil {
		return fmt.Errorf("bench config: %w", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("bench config: %w", err)
	}
	return nil
}

// Every feed of the farm is on one host: the per-host cap is lifted to the
// concurrency, as the bare loop has none.
var pollConfigTemplate = template.Must(template.New("bench").Parse(`# Written by "syndicate bench poll": the feeds of a loopback feed farm,
# all routed through a filter that matches no item, so that only polling
# is measured.
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
  concurrency: {{.Concurrency}}
  per_host: {{.Concurrency}}
  # Each feed polled once a round, as the bare loop does: no spreading
  # over the interval (which, in its first interval, polls some feeds
  # twice as they move to their points) and no jitter.
  start_spread: 0s
  spread: false
  jitter: 0
telegram:
  bots:
    - id: bench
      token: "123456:BENCH-not-a-real-token"
      api_url: {{.Farm.URL}}   # never called: nothing passes the filter
  channels:
    - id: {{.Destination}}
      chat: "@bench"
feeds:
{{- range $i, $id := .IDs}}
  - id: {{$id}}
    url: {{$.Farm.FeedURL $i}}
{{- end}}
routes:
  - to: [{{.Destination}}]
    filter:
      include_categories: ["bench: no item has this category"]
    feeds:
{{- range .IDs}}
      - {{.}}
{{- end}}
`))

// checkSeen reads the worker's store after it exited: which of the items
// the farm's feeds show at the end it recorded as seen, and that it queued
// nothing.
func checkSeen(ctx context.Context, dbPath string, farm *feedfarm.Farm, rounds int, res *pollResult) error {
	st, err := boltstore.Open(dbPath, boltstore.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("read the worker's store: %w", err)
	}
	defer st.Close()
	for i := range farm.Feeds() {
		id := fmt.Sprintf("feed-%d", i)
		current := farm.CurrentGUIDs(i, rounds)
		keys := make([]string, len(current))
		for k, g := range current {
			keys[k] = "guid:" + g
		}
		seen, err := st.SeenFingerprints(ctx, id, keys)
		if err != nil {
			return fmt.Errorf("read the worker's store: %w", err)
		}
		res.ItemsSeen += len(seen)
		for _, g := range farm.AddedGUIDs(i, rounds) {
			if _, ok := seen["guid:"+g]; ok {
				res.AddedSeen++
			}
		}
	}
	jobs, err := st.List(ctx, benchDestination, 0)
	if err != nil {
		return fmt.Errorf("read the worker's store: %w", err)
	}
	res.Deliveries = len(jobs)
	return nil
}

func printPollReport(w io.Writer, r pollReport) {
	fmt.Fprintf(w, "%s feeds of %s (%d items, 4 languages) on a loopback farm; %s of them (%s) gain an item each round.\n",
		thousands(float64(r.Feeds)), kb(r.FeedBytes), feedfarm.ItemsPerFeed, percent(r.Changed), thousands(float64(r.ChangedPerRound)))
	fmt.Fprintf(w, "One first-sight round, then %d steady; %d polls at a time; the worker's clock steps through a %s interval by %s ticks. %d CPUs, %s.\n\n",
		r.SteadyRounds, r.Concurrency, r.Interval, runTick, r.CPUs, r.GoVersion)
	rows := [][]string{
		{"", "CPU per steady round", "CPU first-sight round", "peak RSS", "polls/s steady"},
		{"bare loop", seconds(r.Bare.SteadyCPUS), seconds(r.Bare.FirstSightCPUS), mb(r.Bare.PeakRSSBytes), thousands(r.Bare.SteadyPollsPerS)},
		{"syndicate", seconds(r.Syndicate.SteadyCPUS), seconds(r.Syndicate.FirstSightCPUS), mb(r.Syndicate.PeakRSSBytes), thousands(r.Syndicate.SteadyPollsPerS)},
		{"syndicate / bare", times(r.Ratios.SteadyCPU), times(r.Ratios.FirstSightCPU), times(r.Ratios.PeakRSS), times(r.Ratios.SteadyPollsPerS)},
	}
	printTable(w, rows)
	fmt.Fprintln(w, "\nRounds: CPU (user+sys) / wall, feeds sent in full + not modified, connections opened")
	for _, p := range []struct {
		name string
		res  pollResult
	}{{"bare loop", r.Bare}, {"syndicate", r.Syndicate}} {
		fmt.Fprintf(w, "  %s:", p.name)
		for i, rd := range p.res.Rounds {
			label := "first sight"
			if i > 0 {
				label = fmt.Sprintf("round %d", i)
			}
			fmt.Fprintf(w, "\n    %-11s %9s / %9s, %d+%d, %d", label, seconds(rd.cpu()), seconds(rd.WallS), rd.OK, rd.NotModified, rd.Conns)
			if rd.Errors > 0 {
				fmt.Fprintf(w, " (%d failed)", rd.Errors)
			}
		}
		fmt.Fprintf(w, "\n    whole process %s CPU\n", seconds(p.res.ProcessCPUS))
	}
	fmt.Fprintf(w, "\nChecks: the bare loop holds %s item ids (expected %s) and found %s of the %s added; the worker recorded %s of the %s items the feeds show as seen, %s of the %s added, and queued %d deliveries.\n",
		thousands(float64(r.Bare.ItemsSeen)), thousands(float64(r.ExpectedItems+r.ExpectedAdded)),
		thousands(float64(r.Bare.AddedSeen)), thousands(float64(r.ExpectedAdded)),
		thousands(float64(r.Syndicate.ItemsSeen)), thousands(float64(r.ExpectedItems)),
		thousands(float64(r.Syndicate.AddedSeen)), thousands(float64(r.ExpectedAdded)), r.Syndicate.Deliveries)
}

// cmdBenchPollChild is one poller of bench poll, in its own process: it
// reports each round on stdout and waits for a line on stdin before the
// next, while the parent advances the farm.
func cmdBenchPollChild(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("bench poll-child", "One poller of bench poll (started by it).", stderr)
	mode := fs.String("mode", "", "bare or syndicate")
	rounds := fs.Int("rounds", 0, "steady rounds")
	conc := fs.Int("concurrency", 32, "feeds polled at once")
	list := fs.String("feed-list", "", "bare: file of feed URLs, one a line")
	cfgPath := fs.String("config", "", "syndicate: config file")
	farmURL := fs.String("farm", "", "syndicate: the farm's base URL, for its counters")
	feeds := fs.Int("feeds", 0, "syndicate: number of feeds")
	interval := fs.Duration("interval", 10*time.Minute, "syndicate: poll interval")
	epoch := fs.String("epoch", "", "syndicate: start of the clock (RFC 3339)")
	cpuprofile := fs.String("cpuprofile", "", "syndicate: CPU profile `FILE`")
	memprofile := fs.String("memprofile", "", "syndicate: heap profile `FILE`, after the last round")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	in := bufio.NewReader(os.Stdin)
	out := json.NewEncoder(stdout)
	// report sends a round's figures and waits for the parent to start the
	// next round.
	report := func(r pollRound, last bool) error {
		if err := out.Encode(r); err != nil {
			return fmt.Errorf("report round %d: %w", r.Round, err)
		}
		if last {
			return nil
		}
		if _, err := in.ReadString('\n'); err != nil {
			return fmt.Errorf("wait for round %d: %w", r.Round+1, err)
		}
		return nil
	}
	switch *mode {
	case "bare":
		known, err := benchBare(ctx, *list, *rounds, *conc, stderr, report)
		if err != nil {
			return err
		}
		return out.Encode(pollEnd{Known: known})
	case "syndicate":
		start, err := time.Parse(time.RFC3339, *epoch)
		if err != nil {
			return fmt.Errorf("--epoch: %w", err)
		}
		o := syndicateBenchOptions{
			config: *cfgPath, farm: *farmURL, feeds: *feeds, rounds: *rounds,
			interval: *interval, start: start, cpuprofile: *cpuprofile, memprofile: *memprofile,
		}
		if err := benchSyndicate(ctx, o, env, stderr, report); err != nil {
			return err
		}
		return out.Encode(pollEnd{})
	}
	return fmt.Errorf("unknown mode %q", *mode)
}

// roundTimer measures one round's CPU and wall time.
type roundTimer struct {
	user, sys time.Duration
	wall      time.Time
}

func startRound() (roundTimer, error) {
	u, s, err := cpuSelf()
	return roundTimer{user: u, sys: s, wall: time.Now()}, err
}

func (t roundTimer) stop(round int) (pollRound, error) {
	wall := time.Since(t.wall)
	u, s, err := cpuSelf()
	return pollRound{Round: round, UserS: (u - t.user).Seconds(), SysS: (s - t.sys).Seconds(), WallS: wall.Seconds()}, err
}

// bareFeed is what the bare loop keeps of a feed.
type bareFeed struct {
	url            string
	etag, modified string
	ids            map[string]struct{}
}

// benchBare is the floor: a conditional GET of every feed, a gofeed parse
// of those that changed and their item ids in a map, concurrency at a
// time, with a transport that keeps a connection per worker.
func benchBare(ctx context.Context, list string, rounds, conc int, stderr io.Writer, report func(pollRound, bool) error) (int, error) {
	data, err := os.ReadFile(list)
	if err != nil {
		return 0, fmt.Errorf("feed list: %w", err)
	}
	var feeds []bareFeed
	for u := range strings.FieldsSeq(string(data)) {
		feeds = append(feeds, bareFeed{url: u, ids: map[string]struct{}{}})
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: 90 * time.Second,
		},
	}
	for r := 0; r <= rounds; r++ {
		t, err := startRound()
		if err != nil {
			return 0, err
		}
		work := make(chan int)
		var mu sync.Mutex
		newItems, failed := 0, 0
		var wg sync.WaitGroup
		for range conc {
			wg.Go(func() {
				parser := gofeed.NewParser()
				for i := range work {
					n, err := pollBare(ctx, client, parser, &feeds[i])
					mu.Lock()
					newItems += n
					if err != nil {
						failed++
						if failed == 1 {
							fmt.Fprintf(stderr, "poll %s: %v\n", feeds[i].url, err)
						}
					}
					mu.Unlock()
				}
			})
		}
		for i := range feeds {
			work <- i
		}
		close(work)
		wg.Wait()
		rd, err := t.stop(r)
		if err != nil {
			return 0, err
		}
		rd.NewItems, rd.Errors = newItems, failed
		if err := report(rd, r == rounds); err != nil {
			return 0, err
		}
	}
	known := 0
	for _, f := range feeds {
		known += len(f.ids)
	}
	return known, nil
}

// pollBare polls one feed and returns how many item ids were new.
func pollBare(ctx context.Context, client *http.Client, parser *gofeed.Parser, f *bareFeed) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return 0, err
	}
	if f.etag != "" {
		req.Header.Set("If-None-Match", f.etag)
	}
	if f.modified != "" {
		req.Header.Set("If-Modified-Since", f.modified)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		_, _ = io.Copy(io.Discard, resp.Body)
		return 0, nil
	case http.StatusOK:
	default:
		_, _ = io.Copy(io.Discard, resp.Body)
		return 0, fmt.Errorf("http %d", resp.StatusCode)
	}
	feed, err := parser.Parse(resp.Body)
	if err != nil {
		return 0, err
	}
	f.etag, f.modified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	n := 0
	for _, it := range feed.Items {
		id := it.GUID
		if id == "" {
			id = it.Link
		}
		if _, ok := f.ids[id]; !ok {
			f.ids[id] = struct{}{}
			n++
		}
	}
	return n, nil
}

type syndicateBenchOptions struct {
	config, farm string
	feeds        int
	rounds       int
	interval     time.Duration
	start        time.Time
	cpuprofile   string
	memprofile   string
}

// benchSyndicate builds the worker as `run` does, on a clock it moves
// itself, and polls as `run` does: PollDue once per tick. A round moves
// the clock through one poll interval, and on until the farm has answered
// every feed once in the round.
func benchSyndicate(ctx context.Context, o syndicateBenchOptions, env env, stderr io.Writer, report func(pollRound, bool) error) error {
	cfg, err := loadConfig(o.config, env)
	if err != nil {
		return err
	}
	clock := newManualClock(o.start)
	a, err := build(ctx, cfg, buildOptions{env: env, logger: newLogger(cfg.Log, stderr), clock: clock, waitForStore: true})
	if err != nil {
		return err
	}
	defer a.Close()
	// The CPU profile covers the steady rounds (or the first-sight round
	// when there are none), which is where the worker meets the bare loop.
	profileFrom := min(1, o.rounds)
	ticks := int(o.interval / runTick)
	for r := 0; r <= o.rounds; r++ {
		if r == profileFrom && o.cpuprofile != "" {
			f, err := os.Create(o.cpuprofile)
			if err != nil {
				return fmt.Errorf("cpuprofile: %w", err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return fmt.Errorf("cpuprofile: %w", err)
			}
			defer pprof.StopCPUProfile()
		}
		t, err := startRound()
		if err != nil {
			return err
		}
		steps := 0
		step := func() error {
			if err := a.engine.PollDue(ctx, false); err != nil {
				return fmt.Errorf("round %d: %w", r, err)
			}
			clock.Advance(runTick)
			steps++
			return nil
		}
		for range ticks {
			if err := step(); err != nil {
				return err
			}
		}
		// A scheduler that spreads feeds over their interval may leave
		// some due just after it: keep ticking, up to another interval.
		for extra := 0; extra < ticks; extra++ {
			if extra%10 == 0 {
				polled, err := farmPolls(ctx, o.farm)
				if err != nil {
					return err
				}
				if polled >= int64(o.feeds) {
					break
				}
			}
			if err := step(); err != nil {
				return err
			}
		}
		rd, err := t.stop(r)
		if err != nil {
			return err
		}
		rd.Steps = steps
		if o.memprofile != "" && (r == 0 || r == o.rounds) {
			// FILE.first is the base to subtract (pprof -diff_base) to
			// see what the steady rounds allocated.
			path := o.memprofile
			if r == 0 && o.rounds > 0 {
				path += ".first"
			}
			if err := writeHeapProfile(path); err != nil {
				return err
			}
		}
		if err := report(rd, r == o.rounds); err != nil {
			return err
		}
	}
	return nil
}

// writeHeapProfile writes what is live after a collection.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	return f.Close()
}

// farmPolls asks the farm how many feed requests it answered this round.
func farmPolls(ctx context.Context, farmURL string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, farmURL+feedfarm.StatsPath, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("farm stats: %w", err)
	}
	defer resp.Body.Close()
	var st feedfarm.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("farm stats: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, errors.New("farm stats: " + resp.Status)
	}
	return st.Polls(), nil
}
