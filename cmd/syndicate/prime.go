package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/progress"
	"github.com/syndicate-bot/syndicate/syndicate"
)

func cmdPrime(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("prime", "Fetch feeds and record the items they hold now as seen, without posting them,\n"+
		"so that only articles published afterwards are posted (before routing a feed,\n"+
		"or after a long pause). Deliveries already queued are left as they are.", stderr)
	path := fs.String("config", "", "config `FILE` (YAML)")
	var feeds stringList
	fs.Var(&feeds, "feed", "the feed `ID` to prime (repeat, or separate with commas, for several; a disabled feed may be named)")
	all := fs.Bool("all", false, "prime every enabled feed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (len(feeds) == 0) == !*all {
		fmt.Fprintln(stderr, "give --feed ID (one or more) or --all")
		fs.Usage()
		return errUsage
	}
	cfg, err := loadConfig(*path, env)
	if err != nil {
		return err
	}
	var ids, known []string
	for i := range cfg.Feeds {
		f := &cfg.Feeds[i]
		known = append(known, f.ID)
		switch {
		case *all && !f.Disabled:
			ids = append(ids, f.ID)
		case slices.Contains(feeds, f.ID):
			// A feed is best primed before it is enabled.
			f.Disabled = false
		}
	}
	for _, id := range feeds {
		if !slices.Contains(known, id) {
			return fmt.Errorf("unknown feed %q (feeds: %s)", id, oneLine(fmt.Sprint(known), 200))
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("%s: no enabled feed to prime", *path)
	}
	a, err := build(ctx, cfg, buildOptions{env: env, logger: newLogger(cfg.Log, stderr)})
	if err != nil {
		return err
	}
	defer a.Close()

	rep := progress.New(stderr, "priming", len(ids), progress.Interactive(stderr, env.get("TERM")))
	results := make([]syndicate.Primed, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, min(cfg.Worker.Concurrency, checkConcurrency)))
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i], errs[i] = a.engine.Prime(ctx, id)
			if errs[i] != nil {
				rep.Step(id, "failed: "+oneLine(errs[i].Error(), 100))
			} else {
				rep.Step(id, fmt.Sprintf("%d items, %d newly seen", results[i].Items, results[i].Marked))
			}
		}()
	}
	wg.Wait()
	rep.Done()
	failed, marked := 0, 0
	for i, id := range ids {
		if errs[i] != nil {
			failed++
			fmt.Fprintf(stdout, "%s: failed: %v\n", id, errs[i])
			continue
		}
		marked += results[i].Marked
		fmt.Fprintf(stdout, "%s: %d items in the feed, %d marked as seen\n", id, results[i].Items, results[i].Marked)
	}
	fmt.Fprintf(stdout, "%d items marked as seen in %d feeds; none will be posted.\n", marked, len(ids)-failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d feeds failed", failed, len(ids))
	}
	return nil
}
