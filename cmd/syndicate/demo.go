package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/demosite"
	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate"
)

// demoToken is the Telegram bot token of the demo; the stand-in Bot API
// accepts it. It is not a real token.
const demoToken = "123456:DEMO-not-a-real-token"

func cmdDemo(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "Run the real pipeline on a bundled sample site served on loopback, posting to local\nstand-ins of the Telegram Bot API and a Mastodon server, and print what each destination got.\nA second run posts nothing: the state is kept in the state directory.", stderr)
	dir := fs.String("state-dir", "", "`DIR` for the demo's state (default $XDG_STATE_HOME/syndicate-demo or ~/.local/state/syndicate-demo)")
	reset := fs.Bool("reset", false, "forget what earlier runs posted")
	verbose := fs.Bool("verbose", false, "log what the pipeline does")
	serve := fs.Bool("serve-site", false, "only serve the sample site, until interrupted, to point a real config at its feeds")
	declare := fs.String("declare-language", "", "make every edition's feed declare `TAG` (as editions sharing one WordPress install do)")
	htmlOut := fs.String("html", "", "also write the posts of this run as their readers would see them to `OUT.html`, a self-contained page")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *serve {
		return serveSite(ctx, *declare, stdout)
	}
	stateDir, err := demoStateDir(*dir, env)
	if err != nil {
		return err
	}
	dbPath := filepath.Join(stateDir, "demo.db")
	if *reset {
		if err := os.Remove(dbPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reset: %w", err)
		}
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	site, err := demosite.StartWith(time.Now(), demosite.Options{DeclaredLanguage: *declare})
	if err != nil {
		return err
	}
	defer site.Close()
	// The stand-in fetches photo URLs from the sample site as Telegram would.
	tg := telegramfake.New(telegramfake.Options{Tokens: []string{demoToken}, Chats: demoChats(), FetchURLs: true})
	defer tg.Close()
	md := mastodonfake.New(mastodonfake.Options{Tokens: demoAccounts()})
	defer md.Close()

	cfgPath := filepath.Join(stateDir, "demo.yaml")
	text, err := demoConfig(site, tg.URL(), md.URL(), dbPath)
	if err != nil {
		return err
	}
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		return fmt.Errorf("write demo config: %w", err)
	}
	cfg, err := config.Load(cfgPath, config.LoadOptions{Getenv: env.lookup, Version: version})
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	a, err := build(ctx, cfg, buildOptions{env: env, logger: logger})
	if err != nil {
		return err
	}
	defer a.Close()

	fmt.Fprintf(stdout, "Sample site on %s: feeds %s\n", site.URL, strings.Join(demoFeedURLs(site), " "))
	fmt.Fprintf(stdout, "Stand-ins: Telegram Bot API %s, Mastodon %s\nState: %s (config written to %s)\n", tg.URL(), md.URL(), dbPath, cfgPath)
	start := time.Now()
	if _, err := a.engine.Once(ctx); err != nil {
		return err
	}
	total, already := 0, 0
	fresh := map[string][]syndicate.Delivery{}
	for _, id := range a.destinationIDs() {
		recs, err := a.store.List(ctx, id, 0)
		if err != nil {
			return err
		}
		for _, r := range recs {
			switch {
			case r.Status == syndicate.StatusSent && !r.SentAt.Before(start):
				fresh[id] = append(fresh[id], r)
			case r.Status == syndicate.StatusSent:
				already++
			}
		}
		if len(fresh[id]) > 0 {
			total += printPosts(stdout, a.dests[id], fresh[id])
		}
	}
	if total == 0 {
		fmt.Fprintf(stdout, "\nNothing new to post: the %d posts of the sample site were already delivered by an earlier run.\nRun with --reset to start over.\n", already)
	} else {
		fmt.Fprintf(stdout, "\n%d post(s) delivered. Run the demo again: nothing is posted twice.\n", total)
	}
	if *htmlOut != "" {
		if err := writePreviewHTML(ctx, *htmlOut, "syndicate demo", a, fresh); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "The posts as their readers see them: %s\n", *htmlOut)
	}
	return nil
}

// serveSite serves the sample site until ctx ends.
func serveSite(ctx context.Context, declare string, stdout io.Writer) error {
	site, err := demosite.StartWith(time.Now(), demosite.Options{DeclaredLanguage: declare})
	if err != nil {
		return err
	}
	defer site.Close()
	fmt.Fprintf(stdout, "Sample site on %s; feeds:\n", site.URL)
	for _, u := range demoFeedURLs(site) {
		fmt.Fprintln(stdout, "  "+u)
	}
	fmt.Fprintln(stdout, "Serving until interrupted.")
	<-ctx.Done()
	return nil
}

func demoStateDir(flagDir string, env env) (string, error) {
	dir := flagDir
	if dir == "" {
		base := env.get("XDG_STATE_HOME")
		if base == "" {
			home := env.get("HOME")
			if home == "" {
				var err error
				if home, err = os.UserHomeDir(); err != nil {
					return "", fmt.Errorf("no state directory: use --state-dir: %w", err)
				}
			}
			base = filepath.Join(home, ".local", "state")
		}
		dir = filepath.Join(base, "syndicate-demo")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return dir, nil
}

func demoChats() []telegramfake.Chat {
	var chats []telegramfake.Chat
	for i, e := range demosite.Editions() {
		chats = append(chats, telegramfake.Chat{ID: -1001000000001 - int64(i), Username: "freedomvoice_" + e.Lang, Title: e.Title})
	}
	return chats
}

// demoAccounts maps the stand-in Mastodon server's tokens to accounts.
func demoAccounts() map[string]string {
	accounts := map[string]string{}
	for _, e := range demosite.Editions() {
		accounts["demo-token-"+e.Lang] = "freedomvoice_" + e.Lang
	}
	return accounts
}

func demoFeedURLs(site *demosite.Site) []string {
	var out []string
	for _, e := range demosite.Editions() {
		out = append(out, site.FeedURL(e.Lang))
	}
	return out
}

// demoConfig is an ordinary config file, loaded by the real loader.
func demoConfig(site *demosite.Site, tgURL, mdURL, dbPath string) (string, error) {
	var b strings.Builder
	err := demoTemplate.Execute(&b, map[string]any{
		"Site": site, "Editions": demosite.Editions(), "TG": tgURL, "MD": mdURL, "DB": dbPath, "Token": demoToken,
	})
	return b.String(), err
}

var demoTemplate = template.Must(template.New("demo").Parse(`# Written by "syndicate demo": the sample site and the platform stand-ins
# run on loopback ports chosen at start.
store:
  embedded:
    path: {{.DB}}
defaults:
  backfill: 3          # post the 3 newest articles at first sight of each feed
  max_age: 168h
network:
  media:
    allow_private: true  # the sample site runs on loopback
feeds:
{{- range .Editions}}
  - id: {{.Lang}}
    url: {{$.Site.FeedURL .Lang}}
    language: {{.Lang}}
    page_image: true
{{- end}}
telegram:
  bots:
    - id: demo
      token: "{{.Token}}"
      api_url: {{.TG}}
  channels:
{{- range .Editions}}
    - id: telegram-{{.Lang}}
      bot: demo
      chat: "@freedomvoice_{{.Lang}}"
      per_minute: 60
      format:
        buttons: [read, telegram, whatsapp, x, facebook, pinterest]
{{- end}}
mastodon:
  accounts:
{{- range .Editions}}
    - id: mastodon-{{.Lang}}
      server: {{$.MD}}
      access_token: demo-token-{{.Lang}}
{{- end}}
routes:
{{- range .Editions}}
  - feeds: [{{.Lang}}]
    to: [telegram-{{.Lang}}, mastodon-{{.Lang}}]
{{- end}}
`))
