package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/feed"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

// checkResult is one line of `syndicate check`, and one object of its
// --json array.
type checkResult struct {
	Kind   string `json:"kind"` // telegram, mastodon or feed
	ID     string `json:"id"`
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Warning marks a check that passed with something worth reading.
	Warning bool `json:"warning,omitempty"`
}

func (r checkResult) verdict() string {
	switch {
	case !r.OK:
		return "FAIL"
	case r.Warning:
		return "WARN"
	}
	return "ok"
}

func cmdCheck(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("check", "Verify every destination live and every enabled feed, without posting anything:\n"+
		"Telegram tokens, chats, the bot's rights and forum topics; Mastodon tokens, their scopes and the\n"+
		"server's limits; each feed fetched and parsed. Exits 1 when a check fails.", stderr)
	path := fs.String("config", "", "config `FILE` (YAML)")
	asJSON := fs.Bool("json", false, "print a JSON array of {kind, id, check, ok, detail} instead of lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, env)
	if err != nil {
		return err
	}
	results, err := runChecks(ctx, cfg, env, newLogger(cfg.Log, stderr))
	if err != nil {
		return err
	}
	failed, warned := 0, 0
	for _, r := range results {
		switch {
		case !r.OK:
			failed++
		case r.Warning:
			warned++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	} else {
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		for _, r := range results {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Kind, r.ID, r.Check, r.verdict(), r.Detail)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		fmt.Fprintf(stdout, "\n%d checks: %d failed, %d warnings.\n", len(results), failed, warned)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed", failed, len(results))
	}
	return nil
}

// runChecks checks the destinations in config order, then the enabled
// feeds, through the same clients and publishers the worker builds. It
// opens no store: nothing is recorded and a running worker is no obstacle.
func runChecks(ctx context.Context, cfg *config.Config, env env, logger *slog.Logger) ([]checkResult, error) {
	// The same proxies as the worker's, so that the check goes the way
	// the posts will.
	o := buildOptions{env: env, logger: logger}
	px, err := buildProxies(cfg.Network, o)
	if err != nil {
		return nil, err
	}
	o.platforms = px.platforms
	mediaOpts := limitsOptions(cfg.Network.Media, cfg.Network.UserAgent)
	mediaOpts.Proxy = px.media
	mediaClient := guard.New(mediaOpts)
	feedOpts := limitsOptions(cfg.Network.Feeds, cfg.Network.UserAgent)
	feedOpts.Proxy = px.feeds
	// The store only serves Mastodon's links to Telegram posts, which are
	// made while posting: checks post nothing.
	dests, err := buildDestinations(cfg, nil, mediaClient, o)
	if err != nil {
		return nil, err
	}
	var out []checkResult
	for _, d := range dests {
		kind, _, _ := cfg.Destination(d.ID)
		checker, ok := d.Publisher.(syndicate.Checker)
		if !ok {
			out = append(out, checkResult{Kind: kind, ID: d.ID, Check: "publisher", OK: true, Warning: true, Detail: "this publisher has no checks"})
			continue
		}
		for _, c := range checker.Check(ctx) {
			out = append(out, checkResult{Kind: kind, ID: d.ID, Check: c.Name, OK: c.Verdict != syndicate.VerdictFail,
				Warning: c.Verdict == syndicate.VerdictWarn, Detail: c.Detail})
		}
	}
	src := feed.New(feed.Options{Client: guard.New(feedOpts), PageClient: mediaClient, Logger: logger})
	for i := range cfg.Feeds {
		if f := &cfg.Feeds[i]; !f.Disabled {
			out = append(out, checkFeed(ctx, src, cfg, f))
		}
	}
	return out, nil
}

// checkFeed fetches a feed unconditionally and parses it.
func checkFeed(ctx context.Context, src *feed.Source, cfg *config.Config, f *config.Feed) checkResult {
	r := checkResult{Kind: "feed", ID: f.ID, Check: "fetch"}
	spec := syndicate.FeedSpec{ID: f.ID, URL: f.URL, Language: f.Language, DefaultLanguage: cfg.Defaults.Language}
	res, err := src.Fetch(ctx, spec, syndicate.FeedState{})
	if err != nil {
		r.Detail = fmt.Sprintf("%s: %v", guard.Redact(f.URL), err)
		return r
	}
	n := len(res.Items)
	if res.Normalise != nil {
		n = len(res.Entries)
	}
	r.OK = true
	r.Detail = fmt.Sprintf("%d items", n)
	if res.Title != "" {
		r.Detail += fmt.Sprintf(", %q", res.Title)
	}
	if res.MovedTo != "" {
		r.Warning = true
		r.Detail += "; moved permanently to " + guard.Redact(res.MovedTo) + ": update the config"
	}
	return r
}
