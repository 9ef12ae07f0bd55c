package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/discover"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/feedyaml"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/progress"
	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate/feed"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

// checkConcurrency is how many feeds are checked at once: a few, since
// discover's candidates are all on one site and an import's often are.
const checkConcurrency = 4

// fetcher is the guarded client and feed source of the commands that
// fetch without a config (discover, import-opml).
func fetcher(allowPrivate bool) (*guard.Client, *feed.Source) {
	c := guard.New(guard.Options{AllowPrivate: allowPrivate, UserAgent: config.DefaultUserAgent(version)})
	return c, feed.New(feed.Options{Client: c})
}

func cmdDiscover(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlagsArgs("discover", "URL", "Find the feeds of a site from one of its pages (its front page is best): the feeds\n"+
		"the page links, its WordPress /feed/ and those of the language editions it names.\n"+
		"Each is fetched and parsed; the feeds are printed as YAML feeds: entries.", stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of YAML")
	allowPrivate := fs.Bool("allow-private", false, "allow loopback and private addresses (a site on this machine or network)")
	operands, err := parseFlagsArgs(fs, args, 1)
	if err != nil {
		return err
	}
	client, src := fetcher(*allowPrivate)
	interactive := progress.Interactive(stderr, env.get("TERM"))
	var rep *progress.Reporter
	res, err := discover.Find(ctx, discover.Options{
		Client: client, Source: src, Concurrency: checkConcurrency,
		Start: func(total int) { rep = progress.New(stderr, "checking", total, interactive) },
		Progress: func(rawURL string, c discover.Checked) {
			rep.Step(guard.Redact(rawURL), checkOutcome(c))
		},
	}, operands[0])
	if rep != nil {
		rep.Done()
	}
	if err != nil {
		if errors.Is(err, guard.ErrBlockedAddress) {
			return fmt.Errorf("%w (pass --allow-private for a site on this machine or network)", err)
		}
		return err
	}
	feeds := discoveredFeeds(res)
	if *asJSON {
		if err := writeDiscoverJSON(stdout, res, feeds); err != nil {
			return err
		}
	} else {
		// The plain progress lines said it already; a bar was cleared.
		if interactive {
			for _, r := range res.Rejected {
				fmt.Fprintf(stderr, "not a feed: %s (%s): %v\n", guard.Redact(r.URL), r.Via, r.Err)
			}
		}
		if len(feeds) > 0 {
			doc := feedyaml.Doc{
				Comment: fmt.Sprintf("Feeds found at %s (%d of %d candidates).", res.Page, len(feeds), len(res.Found)+len(res.Rejected)),
				Feeds:   feeds,
			}
			if err := feedyaml.Write(stdout, doc); err != nil {
				return err
			}
		}
	}
	if len(feeds) == 0 {
		return fmt.Errorf("no feed found at %s", guard.Redact(res.Page))
	}
	return nil
}

// checkOutcome is one line about a check, for progress.
func checkOutcome(c discover.Checked) string {
	if c.Err != nil {
		return "not a feed: " + oneLine(c.Err.Error(), 100)
	}
	return "feed, " + count(c.Feed.Items, "item")
}

// discoveredFeeds makes the config entries of the feeds found. An id is
// the feed's language when no other feed found has that language (as
// editions of one site have), else derived from its URL.
func discoveredFeeds(res discover.Result) []feedyaml.Feed {
	langs := make([]string, len(res.Found))
	primaries, tags := map[string]int{}, map[string]int{}
	for i, f := range res.Found {
		if config.IsLanguage(f.Language) {
			langs[i] = f.Language
			primaries[primaryLanguage(f.Language)]++
			tags[strings.ToLower(f.Language)]++
		}
	}
	ids := feedyaml.NewIDs()
	var out []feedyaml.Feed
	for i, f := range res.Found {
		l := langs[i]
		base := feedyaml.FromURL(f.Feed.URL)
		switch {
		case l == "":
		case primaries[primaryLanguage(l)] == 1:
			base = primaryLanguage(l)
		case tags[strings.ToLower(l)] == 1:
			base = l
		}
		title := f.Feed.Title
		if title == "" {
			title = f.Title
		}
		out = append(out, feedyaml.Feed{
			ID: ids.Take(base), URL: f.Feed.URL, Language: l,
			Comment: fmt.Sprintf("%s: %s (%s)", oneLine(title, 100), count(f.Feed.Items, "item"), f.Via),
		})
	}
	return out
}

func primaryLanguage(tag string) string {
	p, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return p
}

func writeDiscoverJSON(w io.Writer, res discover.Result, feeds []feedyaml.Feed) error {
	type found struct {
		ID       string `json:"id"`
		URL      string `json:"url"`
		Language string `json:"language,omitempty"`
		Title    string `json:"title"`
		Items    int    `json:"items"`
		FoundBy  string `json:"found_by"`
	}
	type rejected struct {
		URL     string `json:"url"`
		FoundBy string `json:"found_by"`
		Error   string `json:"error"`
	}
	out := struct {
		Page     string     `json:"page"`
		Feeds    []found    `json:"feeds"`
		NotFeeds []rejected `json:"not_feeds"`
	}{Page: res.Page, Feeds: []found{}, NotFeeds: []rejected{}}
	for i, f := range res.Found {
		out.Feeds = append(out.Feeds, found{ID: feeds[i].ID, URL: feeds[i].URL, Language: feeds[i].Language,
			Title: f.Feed.Title, Items: f.Feed.Items, FoundBy: f.Via})
	}
	for _, r := range res.Rejected {
		out.NotFeeds = append(out.NotFeeds, rejected{URL: r.URL, FoundBy: r.Via, Error: r.Err.Error()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// count is n followed by noun, in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
