package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
)

// The benchmarks run the program as child processes, so these tests run
// the built program.

func runBench(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(syndicateBinary(t), append([]string{"bench"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("syndicate bench %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestBenchPoll: a tiny farm polled by both pollers gives the table, and
// the worker recorded the farm's items, the added ones too, as seen
// without queueing any (its filter matches nothing).
func TestBenchPoll(t *testing.T) {
	t.Run("table", func(t *testing.T) {
		out := string(runBench(t, "poll", "--feeds", "20", "--rounds", "1"))
		for _, want := range []string{
			"|                  | CPU per steady round | CPU first-sight round | peak RSS | polls/s steady |\n",
			"\n| bare loop        |", "\n| syndicate        |", "\n| syndicate / bare |",
			"the worker recorded 200 of the 200 items the feeds show as seen, 2 of the 2 added, and queued 0 deliveries.",
			"the bare loop holds 202 item ids (expected 202) and found 2 of the 2 added",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		profile := filepath.Join(t.TempDir(), "cpu.pprof")
		var rep pollReport
		if err := json.Unmarshal(runBench(t, "poll", "--feeds", "20", "--rounds", "2", "--changed", "0.25", "--json", "--cpuprofile", profile), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.ExpectedItems != 200 || rep.ExpectedAdded != 10 || rep.ChangedPerRound != 5 {
			t.Errorf("expected %d items, %d added, %d per round", rep.ExpectedItems, rep.ExpectedAdded, rep.ChangedPerRound)
		}
		syn, bare := rep.Syndicate, rep.Bare
		if syn.ItemsSeen != 200 || syn.AddedSeen != 10 || syn.Deliveries != 0 {
			t.Errorf("worker: %d items seen, %d added seen, %d deliveries", syn.ItemsSeen, syn.AddedSeen, syn.Deliveries)
		}
		if bare.ItemsSeen != 210 || bare.AddedSeen != 10 {
			t.Errorf("bare loop: %d ids, %d added", bare.ItemsSeen, bare.AddedSeen)
		}
		for name, res := range map[string]pollResult{"bare": bare, "syndicate": syn} {
			if len(res.Rounds) != 3 {
				t.Fatalf("%s: %d rounds", name, len(res.Rounds))
			}
			for i, r := range res.Rounds {
				wantOK := int64(5)
				if i == 0 {
					wantOK = 20
				}
				if r.OK != wantOK || r.OK+r.NotModified != 20 || r.Other != 0 || r.Errors != 0 {
					t.Errorf("%s round %d: %+v", name, i, r)
				}
			}
			if res.PeakRSSBytes <= 0 || res.ProcessCPUS <= 0 {
				t.Errorf("%s: peak RSS %d, CPU %v", name, res.PeakRSSBytes, res.ProcessCPUS)
			}
		}
		// The worker's clock went through one interval of ticks a round.
		if steps := syn.Rounds[1].Steps; steps != 600 {
			t.Errorf("worker round 1: %d ticks, want 600", steps)
		}
		if fi, err := os.Stat(profile); err != nil || fi.Size() == 0 {
			t.Errorf("cpu profile: %v", err)
		}
	})
}

// TestBenchIdle: the idle benchmark runs `run`, reports its figures, and
// the worker polled nothing in a window far shorter than the interval.
func TestBenchIdle(t *testing.T) {
	var rep idleReport
	if err := json.Unmarshal(runBench(t, "idle", "--duration", "2s", "--json"), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Feeds != 4 || rep.Interval != "10m0s" || rep.Polls != 0 || rep.StartupCPUS <= 0 || rep.PeakRSSBytes <= 0 {
		t.Errorf("report %+v", rep)
	}
}

// TestBenchPush: articles published at the hub reach the Telegram
// stand-in through the worker's WebSub subscriptions (the feeds are
// polled only hourly), none lost.
func TestBenchPush(t *testing.T) {
	var rep pushReport
	if err := json.Unmarshal(runBench(t, "push", "--feeds", "3", "--samples", "6", "--pace", "100ms", "--json"), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Samples != 6 || rep.Lost != 0 || len(rep.Each) != 6 || rep.P50MS <= 0 {
		t.Errorf("report %+v", rep)
	}
}

// TestBenchUsage: bench lists its benchmarks, hides the children, and
// refuses an unknown one.
func TestBenchUsage(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"bench", "--help"}, 0, "syndicate bench poll", ""},
		{[]string{"bench"}, 2, "", "syndicate bench idle"},
		{[]string{"bench", "nope"}, 2, "", `unknown benchmark "nope"`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, env{}, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.out) || !strings.Contains(stderr.String(), tc.err) ||
			strings.Contains(stdout.String()+stderr.String(), "poll-child") {
			t.Errorf("%v: code %d\nstdout %s\nstderr %s", tc.args, code, stdout.String(), stderr.String())
		}
	}
}

// TestBoltTxID: the transaction id read from the file counts committed
// writes and nothing else.
func TestBoltTxID(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id := func() uint64 {
		t.Helper()
		n, err := boltTxID(path)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	start := id()
	for range 3 {
		if err := st.SaveFeed(ctx, "f", syndicate.FeedState{ETag: `"x"`}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.LoadFeed(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	if got := id(); got != start+3 {
		t.Errorf("after 3 writes and a read: id %d, want %d", got, start+3)
	}
	other := filepath.Join(t.TempDir(), "not-bbolt")
	if err := os.WriteFile(other, bytes.Repeat([]byte{1}, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := boltTxID(other); err == nil {
		t.Error("a file that is not bbolt gave a transaction id")
	}
}

// TestManualClock: After fires when the clock is advanced to its time,
// not before.
func TestManualClock(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := newManualClock(start)
	soon, later := c.After(time.Second), c.After(3*time.Second)
	select {
	case <-c.After(0):
	default:
		t.Error("After(0) did not fire at once")
	}
	c.Advance(time.Second)
	select {
	case at := <-soon:
		if !at.Equal(start.Add(time.Second)) {
			t.Errorf("fired at %v", at)
		}
	default:
		t.Error("After(1s) did not fire after 1s")
	}
	c.Advance(time.Second)
	select {
	case <-later:
		t.Error("After(3s) fired after 2s")
	default:
	}
	c.Advance(time.Second)
	select {
	case <-later:
	default:
		t.Error("After(3s) did not fire after 3s")
	}
	if !c.Now().Equal(start.Add(3 * time.Second)) {
		t.Errorf("Now %v", c.Now())
	}
}

// TestFormats: the table's numbers.
func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{thousands(2300.4), "2,300"},
		{thousands(240), "240"},
		{thousands(1234567), "1,234,567"},
		{seconds(37.44), "37.4 s"},
		{seconds(175.2), "175 s"},
		{seconds(6.5), "6.50 s"},
		{seconds(0.0123), "0.012 s"},
		{times(5.754), "5.8×"},
		{times(0.104), "0.1×"},
		{times(0.0432), "0.04×"},
		{times(12.3), "12×"},
		{times(0), "–"},
		{mb(43_200_000), "43 MB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
