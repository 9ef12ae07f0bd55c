package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate"
)

// configDestinations lists a config's destinations in config order.
func configDestinations(cfg *config.Config) []string {
	var ids []string
	for _, c := range cfg.Telegram.Channels {
		ids = append(ids, c.ID)
	}
	for _, m := range cfg.Mastodon.Accounts {
		ids = append(ids, m.ID)
	}
	return ids
}

func cmdStatus(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("status", "Show the state of every feed and destination, and the deliveries that were\nparked or whose outcome is unknown, with their reasons.", stderr)
	path := fs.String("config", "", "config `FILE` (YAML)")
	limit := fs.Int("items", 20, "show at most `N` parked or unknown deliveries per destination")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, env)
	if err != nil {
		return err
	}
	st, _, err := openStore(ctx, cfg.Store, buildOptions{env: env, readOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()

	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FEED\tLAST SUCCESS\tFAILURES\tNEXT POLL\tLAST ERROR")
	for _, f := range cfg.Feeds {
		fst, err := st.LoadFeed(ctx, f.ID)
		if err != nil {
			return fmt.Errorf("feed %s: %w", f.ID, err)
		}
		state := ago(now, fst.LastSuccess)
		if f.Disabled {
			state = "disabled"
		} else if !fst.Primed && fst.LastSuccess.IsZero() {
			state = "never polled"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", f.ID, state, fst.Failures, until(now, fst.NextPoll), oneLine(fst.LastError, 60))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "DESTINATION\tQUEUED\tSENDING\tSENT\tPARKED\tUNKNOWN\tSTATE")
	type problem struct {
		dest string
		d    syndicate.Delivery
	}
	var problems []problem
	for _, id := range configDestinations(cfg) {
		recs, err := st.List(ctx, id, 0)
		if err != nil {
			return fmt.Errorf("destination %s: %w", id, err)
		}
		counts := map[syndicate.Status]int{}
		var bad []syndicate.Delivery
		for _, r := range recs {
			counts[r.Status]++
			if r.Status == syndicate.StatusParked || r.Status == syndicate.StatusUnknown {
				bad = append(bad, r)
			}
		}
		if len(bad) > *limit {
			bad = bad[len(bad)-*limit:]
		}
		for _, b := range bad {
			problems = append(problems, problem{id, b})
		}
		ds, err := st.LoadDestination(ctx, id)
		if err != nil {
			return fmt.Errorf("destination %s: %w", id, err)
		}
		state := "ok"
		switch {
		case ds.PausedReason != "":
			state = "paused: " + oneLine(ds.PausedReason, 60)
		case now.Before(ds.BlockedUntil):
			state = "rate limited " + until(now, ds.BlockedUntil)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", id, counts[syndicate.StatusQueued], counts[syndicate.StatusSending],
			counts[syndicate.StatusSent], counts[syndicate.StatusParked], counts[syndicate.StatusUnknown], state)
	}
	if len(problems) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "DESTINATION\tSTATUS\tARTICLE\tTITLE\tREASON")
		for _, p := range problems {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.dest, p.d.Status, p.d.ArticleKey, oneLine(p.d.Item.Title, 40), oneLine(p.d.LastError, 200))
		}
		fmt.Fprintln(w, "\nRe-drive them with: syndicate retry --config FILE [--destination ID] [ARTICLE...]")
	}
	return w.Flush()
}

func cmdRetry(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("retry", "Queue parked deliveries (and those whose outcome is unknown) again, and lift a\ndestination's pause. Without ARTICLE arguments every parked or unknown delivery is retried.\nUsage: syndicate retry --config FILE [--destination ID] [ARTICLE...]", stderr)
	path := fs.String("config", "", "config `FILE` (YAML)")
	only := fs.String("destination", "", "retry only on destination `ID`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	cfg, err := loadConfig(*path, env)
	if err != nil {
		return err
	}
	dests := configDestinations(cfg)
	if *only != "" {
		if kind, _, _ := cfg.Destination(*only); kind == "" {
			return fmt.Errorf("unknown destination %q (destinations: %s)", *only, strings.Join(dests, ", "))
		}
		dests = []string{*only}
	}
	st, _, err := openStore(ctx, cfg.Store, buildOptions{env: env})
	if err != nil {
		return err
	}
	defer st.Close()
	wanted := map[string]bool{}
	for _, a := range fs.Args() {
		wanted[a] = true
	}
	now := time.Now()
	total := 0
	for _, id := range dests {
		ds, err := st.LoadDestination(ctx, id)
		if err != nil {
			return fmt.Errorf("destination %s: %w", id, err)
		}
		if ds.PausedReason != "" {
			ds.PausedReason, ds.PausedAt = "", time.Time{}
			if err := st.SaveDestination(ctx, id, ds); err != nil {
				return fmt.Errorf("destination %s: %w", id, err)
			}
			fmt.Fprintf(stdout, "%s: pause lifted\n", id)
		}
		recs, err := st.List(ctx, id, 0, syndicate.StatusParked, syndicate.StatusUnknown)
		if err != nil {
			return fmt.Errorf("destination %s: %w", id, err)
		}
		for _, r := range recs {
			if len(wanted) > 0 && !wanted[r.ArticleKey] {
				continue
			}
			ok, err := st.Requeue(ctx, id, r.ArticleKey, now)
			if err != nil {
				return fmt.Errorf("requeue %s on %s: %w", r.ArticleKey, id, err)
			}
			if ok {
				total++
				fmt.Fprintf(stdout, "%s: queued again: %s (%s)\n", id, r.ArticleKey, oneLine(r.Item.Title, 60))
			}
		}
	}
	fmt.Fprintf(stdout, "%d deliver%s queued again.\n", total, map[bool]string{true: "y", false: "ies"}[total == 1])
	return nil
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}

func until(now, t time.Time) string {
	if t.IsZero() || !t.After(now) {
		return "due"
	}
	return "in " + t.Sub(now).Round(time.Second).String()
}

// oneLine shortens s to one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
