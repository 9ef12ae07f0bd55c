package main

import (
	"context"
	"encoding/json"
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
	asJSON := fs.Bool("json", false, "print the same information as one JSON object, for scripts")
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
	rep, err := collectStatus(ctx, cfg, st, *limit, time.Now())
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write status: %w", err)
		}
		return nil
	}
	return printStatus(stdout, rep)
}

// statusReport is what status shows, as --json prints it.
type statusReport struct {
	At           time.Time           `json:"at"`
	Feeds        []feedStatus        `json:"feeds"`
	Destinations []destinationStatus `json:"destinations"`
	// Deliveries are the parked deliveries and those whose outcome is
	// unknown, the latest --items of each destination.
	Deliveries []problemDelivery `json:"deliveries"`
}

type feedStatus struct {
	ID       string `json:"id"`
	Disabled bool   `json:"disabled"`
	// Polled is false until the feed's first successful poll.
	Polled      bool       `json:"polled"`
	LastSuccess *time.Time `json:"last_success"`
	Failures    int        `json:"failures"`
	NextPoll    *time.Time `json:"next_poll"`
	LastError   string     `json:"last_error"`
}

type destinationStatus struct {
	ID      string `json:"id"`
	Queued  int    `json:"queued"`
	Sending int    `json:"sending"`
	Sent    int    `json:"sent"`
	Parked  int    `json:"parked"`
	Unknown int    `json:"unknown"`
	// PausedReason is set while the destination is paused.
	PausedReason string `json:"paused_reason"`
	// RateLimitedUntil is set while the platform holds it back.
	RateLimitedUntil *time.Time `json:"rate_limited_until"`
}

type problemDelivery struct {
	Destination string `json:"destination"`
	Status      string `json:"status"`
	Article     string `json:"article"`
	Title       string `json:"title"`
	Link        string `json:"link"`
	Reason      string `json:"reason"`
}

// timeOrNil is nil for the zero time, so that JSON says null.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// collectStatus reads the state of every feed and destination of the
// config from the store.
func collectStatus(ctx context.Context, cfg *config.Config, st syndicate.Store, limit int, now time.Time) (statusReport, error) {
	rep := statusReport{At: now, Feeds: []feedStatus{}, Destinations: []destinationStatus{}, Deliveries: []problemDelivery{}}
	for _, f := range cfg.Feeds {
		fst, err := st.LoadFeed(ctx, f.ID)
		if err != nil {
			return rep, fmt.Errorf("feed %s: %w", f.ID, err)
		}
		rep.Feeds = append(rep.Feeds, feedStatus{ID: f.ID, Disabled: f.Disabled, Polled: fst.Primed || !fst.LastSuccess.IsZero(),
			LastSuccess: timeOrNil(fst.LastSuccess), Failures: fst.Failures, NextPoll: timeOrNil(fst.NextPoll), LastError: fst.LastError})
	}
	for _, id := range configDestinations(cfg) {
		recs, err := st.List(ctx, id, 0)
		if err != nil {
			return rep, fmt.Errorf("destination %s: %w", id, err)
		}
		counts := map[syndicate.Status]int{}
		var bad []syndicate.Delivery
		for _, r := range recs {
			counts[r.Status]++
			if r.Status == syndicate.StatusParked || r.Status == syndicate.StatusUnknown {
				bad = append(bad, r)
			}
		}
		if len(bad) > limit {
			bad = bad[len(bad)-limit:]
		}
		for _, b := range bad {
			rep.Deliveries = append(rep.Deliveries, problemDelivery{Destination: id, Status: string(b.Status), Article: b.ArticleKey,
				Title: b.Item.Title, Link: b.Item.Link, Reason: b.LastError})
		}
		ds, err := st.LoadDestination(ctx, id)
		if err != nil {
			return rep, fmt.Errorf("destination %s: %w", id, err)
		}
		d := destinationStatus{ID: id, Queued: counts[syndicate.StatusQueued], Sending: counts[syndicate.StatusSending],
			Sent: counts[syndicate.StatusSent], Parked: counts[syndicate.StatusParked], Unknown: counts[syndicate.StatusUnknown],
			PausedReason: ds.PausedReason}
		if now.Before(ds.BlockedUntil) {
			d.RateLimitedUntil = &ds.BlockedUntil
		}
		rep.Destinations = append(rep.Destinations, d)
	}
	return rep, nil
}

// printStatus writes the report as tables.
func printStatus(stdout io.Writer, rep statusReport) error {
	now := rep.At
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FEED\tLAST SUCCESS\tFAILURES\tNEXT POLL\tLAST ERROR")
	for _, f := range rep.Feeds {
		state := ago(now, deref(f.LastSuccess))
		if f.Disabled {
			state = "disabled"
		} else if !f.Polled {
			state = "never polled"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", f.ID, state, f.Failures, until(now, deref(f.NextPoll)), oneLine(f.LastError, 60))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "DESTINATION\tQUEUED\tSENDING\tSENT\tPARKED\tUNKNOWN\tSTATE")
	for _, d := range rep.Destinations {
		state := "ok"
		switch {
		case d.PausedReason != "":
			state = "paused: " + oneLine(d.PausedReason, 60)
		case d.RateLimitedUntil != nil:
			state = "rate limited " + until(now, *d.RateLimitedUntil)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", d.ID, d.Queued, d.Sending, d.Sent, d.Parked, d.Unknown, state)
	}
	if len(rep.Deliveries) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "DESTINATION\tSTATUS\tARTICLE\tTITLE\tREASON")
		for _, p := range rep.Deliveries {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Destination, p.Status, p.Article, oneLine(p.Title, 40), oneLine(p.Reason, 200))
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
