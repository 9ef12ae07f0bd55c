package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/syndicate-bot/syndicate/syndicate"
)

func cmdPreview(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("preview", "Fetch the feeds and show, destination by destination, exactly what would be posted.\nNothing is posted and no state changes.", stderr)
	path := fs.String("config", "", "config `FILE` (YAML)")
	htmlOut := fs.String("html", "", "also write the posts as their readers would see them to `OUT.html`, a self-contained page")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, env)
	if err != nil {
		return err
	}
	a, err := build(ctx, cfg, buildOptions{env: env, logger: newLogger(cfg.Log, stderr), readOnly: true})
	if err != nil {
		return err
	}
	defer a.Close()
	planned, err := a.engine.Plan(ctx)
	if err != nil {
		return err
	}
	byDest := map[string][]syndicate.Delivery{}
	for _, id := range a.destinationIDs() {
		queued, err := a.store.List(ctx, id, 0, syndicate.StatusQueued, syndicate.StatusSending)
		if err != nil {
			return fmt.Errorf("list %s: %w", id, err)
		}
		byDest[id] = queued
	}
	for _, j := range planned {
		byDest[j.Destination] = append(byDest[j.Destination], j)
	}
	total := 0
	for _, id := range a.destinationIDs() {
		total += printPosts(stdout, a.dests[id], byDest[id])
	}
	fmt.Fprintf(stdout, "\n%d post(s) would be sent.\n", total)
	if *htmlOut != "" {
		if err := writePreviewHTML(ctx, *htmlOut, "syndicate preview", a, byDest); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "The posts as their readers would see them: %s\n", *htmlOut)
	}
	return nil
}

// destinationIDs lists the destinations in config order.
func (a *app) destinationIDs() []string {
	return slices.DeleteFunc(configDestinations(a.cfg), func(id string) bool { _, ok := a.dests[id]; return !ok })
}

// printPosts shows the jobs of one destination as its publisher renders
// them, and returns how many it showed.
func printPosts(w io.Writer, d destination, jobs []syndicate.Delivery) int {
	rule := strings.Repeat("═", 72)
	fmt.Fprintf(w, "\n%s\n%s — %s: %d post(s)\n%s\n", rule, d.ID, d.Label, len(jobs), rule)
	for i, j := range jobs {
		text, err := d.Publisher.Preview(j.Item)
		if err != nil {
			text = "cannot render: " + err.Error()
		}
		kind := "new post"
		if j.Kind == syndicate.JobEdit {
			kind = "edit of an earlier post"
		}
		fmt.Fprintf(w, "\n── %d/%d · %s · %s\n%s\n", i+1, len(jobs), kind, j.Item.Link, strings.TrimRight(text, "\n"))
	}
	return len(jobs)
}
