package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/discover"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/feedyaml"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/opml"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/progress"
	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

func cmdImportOPML(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlagsArgs("import-opml", "FILE", "Turn an OPML subscription list (as feed readers export it) into YAML feeds:\n"+
		"entries, and with --to a route from them, to merge into a config.\n"+
		"Ids are derived from the feed URLs; repeated feeds are skipped with a note.", stderr)
	var to stringList
	fs.Var(&to, "to", "route the imported feeds to these destination `IDs` (comma-separated or repeated)")
	interval := fs.String("interval", "", "poll_interval of every imported feed (a `DURATION` like 15m or 1h; at least 30s)")
	outPath := fs.String("out", "", "write the YAML to `FILE` instead of standard output")
	check := fs.Bool("check", false, "fetch every feed and leave out those that do not answer as a feed")
	allowPrivate := fs.Bool("allow-private", false, "with --check, allow loopback and private addresses")
	operands, err := parseFlagsArgs(fs, args, 1)
	if err != nil {
		return err
	}
	for _, d := range to {
		if !config.IsID(d) {
			fmt.Fprintf(stderr, "--to: %q is not a destination id\n", d)
			return errUsage
		}
	}
	if *interval != "" {
		d, err := config.ParseDuration(*interval)
		if err != nil || d < config.MinPollInterval {
			fmt.Fprintf(stderr, "--interval: %q is not a duration of at least %s\n", *interval, config.MinPollInterval)
			return errUsage
		}
	}
	path := operands[0]
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	outlines, err := opml.Parse(bytes.NewReader(data))
	if err != nil {
		var pe *opml.Error
		if errors.As(err, &pe) {
			return fmt.Errorf("%s:%d: %s", path, pe.Line, pe.Msg)
		}
		return fmt.Errorf("%s: %w", path, err)
	}

	type entry struct {
		opml.Outline
		url string
	}
	var entries []entry
	first := map[string]int{} // feed URL key → line of its first outline
	skipped := 0
	note := func(o opml.Outline, format string, a ...any) {
		fmt.Fprintf(stderr, "%s:%d: %s\n", path, o.Line, fmt.Sprintf(format, a...))
	}
	for _, o := range outlines {
		u, ok := feedURL(o.XMLURL)
		if !ok {
			note(o, "xmlUrl is not an absolute http(s) URL; skipped")
			skipped++
			continue
		}
		if line, dup := first[urlKey(u)]; dup {
			note(o, "%s is listed at line %d already; skipped", guard.Redact(u), line)
			skipped++
			continue
		}
		first[urlKey(u)] = o.Line
		if o.Language != "" && !config.IsLanguage(o.Language) {
			note(o, "language %q is not a language tag; left out", o.Language)
			o.Language = ""
		}
		entries = append(entries, entry{Outline: o, url: u})
	}

	if *check && len(entries) > 0 {
		_, src := fetcher(*allowPrivate)
		urls := make([]string, len(entries))
		for i, e := range entries {
			urls[i] = e.url
		}
		rep := progress.New(stderr, "checking", len(urls), progress.Interactive(stderr, env.get("TERM")))
		checked := discover.CheckAll(ctx, src, urls, checkConcurrency, func(rawURL string, c discover.Checked) {
			rep.Step(guard.Redact(rawURL), checkOutcome(c))
		})
		rep.Done()
		if err := ctx.Err(); err != nil {
			return err
		}
		kept := entries[:0]
		for i, e := range entries {
			c := checked[i]
			if c.Err != nil {
				note(e.Outline, "%s: not a feed: %s; skipped", guard.Redact(e.url), oneLine(c.Err.Error(), 100))
				skipped++
				continue
			}
			if c.Feed.URL != e.url {
				note(e.Outline, "%s moved permanently to %s; the new URL is used", guard.Redact(e.url), guard.Redact(c.Feed.URL))
				e.url = c.Feed.URL
			}
			if e.Language == "" && config.IsLanguage(c.Feed.Language) {
				e.Language = c.Feed.Language
			}
			if e.Title == "" {
				e.Title = c.Feed.Title
			}
			kept = append(kept, e)
		}
		entries = kept
	}
	if len(entries) == 0 {
		return fmt.Errorf("%s: no feeds to import", path)
	}

	ids := feedyaml.NewIDs()
	doc := feedyaml.Doc{Comment: fmt.Sprintf("Imported from %s: %d feeds.", filepath.Base(path), len(entries))}
	var feedIDs []string
	for _, e := range entries {
		id := ids.Take(feedyaml.FromURL(e.url))
		feedIDs = append(feedIDs, id)
		doc.Feeds = append(doc.Feeds, feedyaml.Feed{
			ID: id, URL: e.url, Language: e.Language, PollInterval: *interval, Comment: outlineComment(e.Outline),
		})
	}
	if len(to) > 0 {
		doc.Routes = []feedyaml.Route{{Feeds: feedIDs, To: to}}
	}
	var out bytes.Buffer
	if err := feedyaml.Write(&out, doc); err != nil {
		return err
	}
	if *outPath != "" {
		if err := os.WriteFile(*outPath, out.Bytes(), 0o644); err != nil {
			return err
		}
	} else if _, err := stdout.Write(out.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: %d feeds imported, %d skipped\n", path, len(entries), skipped)
	return nil
}

// feedURL reads an xmlUrl: an absolute http(s) URL, or a feed: URL as old
// readers wrote them ("feed://host/…", "feed:https://host/…").
func feedURL(raw string) (string, bool) {
	if rest, ok := strings.CutPrefix(raw, "feed:"); ok {
		if strings.HasPrefix(rest, "//") {
			raw = "http:" + rest
		} else {
			raw = rest
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

// urlKey is what makes two feed URLs the same feed for an import: scheme
// and host are case-insensitive and a fragment is never sent.
func urlKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// outlineComment is the line above an imported entry: its title, the
// categories it was filed under and its site.
func outlineComment(o opml.Outline) string {
	parts := []string{oneLine(o.Title, 100)}
	if len(o.Categories) > 0 {
		parts = append(parts, "("+strings.Join(o.Categories, " / ")+")")
	}
	if o.HTMLURL != "" {
		parts = append(parts, o.HTMLURL)
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}
