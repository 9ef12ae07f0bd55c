package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"
)

// benchCommand is one benchmark of "syndicate bench".
type benchCommand struct {
	name     string
	synopsis string
	// hidden commands are the child processes a benchmark starts, so that
	// the CPU time and memory they report are theirs alone.
	hidden bool
	run    func(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error
}

// benchCommands are the benchmarks; a new one is a new line here.
func benchCommands() []benchCommand {
	return []benchCommand{
		{name: "poll", synopsis: "polling cost: the real poller against a bare net/http+gofeed loop on a local feed farm", run: cmdBenchPoll},
		{name: "idle", synopsis: "idle cost: CPU and store writes of `run` while nothing is due", run: cmdBenchIdle},
		{name: "deliver", synopsis: "delivery pace: a backlog against the Telegram and Mastodon stand-ins' limits, one replica and three", run: cmdBenchDeliver},
		{name: "push", synopsis: "push latency: a publish at a local WebSub hub to the post at the Telegram stand-in", run: cmdBenchPush},
		{name: "poll-child", hidden: true, run: cmdBenchPollChild},
		{name: "idle-child", hidden: true, run: cmdBenchIdleChild},
	}
}

func cmdBench(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	cmds := benchCommands()
	if len(args) > 0 {
		for _, c := range cmds {
			if c.name == args[0] {
				return c.run(ctx, args[1:], env, stdout, stderr)
			}
		}
	}
	var b strings.Builder
	b.WriteString("Measure what the worker costs, on this machine, against local stand-ins.\n\nUsage:\n")
	for _, c := range cmds {
		if !c.hidden {
			fmt.Fprintf(&b, "  syndicate bench %-8s %s\n", c.name, c.synopsis)
		}
	}
	b.WriteString("\nRun \"syndicate bench NAME --help\" for a benchmark's flags.\n")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, b.String())
		return nil
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "unknown benchmark %q\n\n", args[0])
	}
	fmt.Fprint(stderr, b.String())
	return errUsage
}

// manualClock is the engine's clock in a benchmark that drives time
// itself: it moves only when advanced, so an interval of polling takes
// only as long as the polls.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []clockWaiter
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

func newManualClock(start time.Time) *manualClock { return &manualClock{now: start} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, clockWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock on by d and wakes the waiters whose time came.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
}

// logTail is the end of a child's log, to show why it failed.
func logTail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(all[max(len(all)-lines, 0):], "\n")
}

// printTable prints rows as a Markdown table, numbers aligned right.
func printTable(w io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for n, row := range rows {
		fmt.Fprint(w, "|")
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i == 0 {
				fmt.Fprintf(w, " %s%s |", c, pad)
			} else {
				fmt.Fprintf(w, " %s%s |", pad, c)
			}
		}
		fmt.Fprintln(w)
		if n == 0 {
			fmt.Fprint(w, "|")
			for i, wd := range widths {
				if i == 0 {
					fmt.Fprintf(w, "%s|", strings.Repeat("-", wd+2))
				} else {
					fmt.Fprintf(w, "%s:|", strings.Repeat("-", wd+1))
				}
			}
			fmt.Fprintln(w)
		}
	}
}

// seconds shows a duration in seconds with three significant digits.
func seconds(s float64) string {
	switch {
	case math.IsNaN(s) || s == 0:
		return "0 s"
	case s >= 100:
		return fmt.Sprintf("%.0f s", s)
	case s >= 10:
		return fmt.Sprintf("%.1f s", s)
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	}
	return fmt.Sprintf("%.3f s", s)
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

func kb(b int64) string { return fmt.Sprintf("%.0f KB", float64(b)/1e3) }

func percent(f float64) string { return fmt.Sprintf("%g%%", f*100) }

func times(f float64) string {
	switch {
	case f == 0:
		return "–"
	case f >= 10:
		return fmt.Sprintf("%.0f×", f)
	case f >= 0.1:
		return fmt.Sprintf("%.2g×", f)
	}
	return fmt.Sprintf("%.1g×", f)
}

// thousands rounds to a whole number written with thousands separators.
func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
