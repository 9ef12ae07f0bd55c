package config

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// minimal is the smallest valid config; tests append sections to it.
const minimal = `feeds:
  - id: en
    url: https://example.org/feed/
telegram:
  bots:
    - id: main
      token: "123:abc"
  channels:
    - id: tg
      chat: "@example_news"
routes:
  - feeds: [en]
    to: [tg]
`

// problems parses doc and returns its problems as "line:col: path: msg".
func problems(t *testing.T, doc string) []string {
	t.Helper()
	_, err := Parse("c.yaml", []byte(doc), LoadOptions{
		Getenv: mapEnv(map[string]string{"SET": "value"}),
		ReadFile: func(name string) ([]byte, error) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
	})
	if err == nil {
		return nil
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v (%T), want *Errors", err, err)
	}
	var out []string
	for _, p := range errs.Problems {
		out = append(out, fmt.Sprintf("%d:%d: %s: %s", p.Line, p.Column, p.Path, p.Msg))
	}
	return out
}

func checkProblems(t *testing.T, doc string, want []string) {
	t.Helper()
	got := problems(t, doc)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMinimalIsValid(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(minimal), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Spot-check the defaults a minimal file gets.
	ch := cfg.Telegram.Channels[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"embedded store", cfg.Store.Embedded != nil && cfg.Store.Embedded.Path == "", true},
		{"retention", cfg.Store.Retention.String(), "2160h0m0s"},
		{"poll interval", cfg.Feeds[0].PollInterval.String(), "10m0s"},
		{"max age", cfg.Feeds[0].MaxAge.String(), "72h0m0s"},
		{"backfill", *cfg.Feeds[0].Backfill, 0},
		{"page image", *cfg.Feeds[0].PageImage, true},
		{"user agent", cfg.Network.UserAgent, "syndicate/dev (+https://github.com/syndicate-bot/syndicate)"},
		{"feed limits", fmt.Sprintf("%v %v %v %v", cfg.Network.Feeds.Timeout, cfg.Network.Feeds.MaxBytes, *cfg.Network.Feeds.MaxRedirects, *cfg.Network.Feeds.AllowPrivate), "30s 10MiB 5 true"},
		{"media limits", fmt.Sprintf("%v %v %v %v", cfg.Network.Media.Timeout, cfg.Network.Media.MaxBytes, *cfg.Network.Media.MaxRedirects, *cfg.Network.Media.AllowPrivate), "30s 20MiB 5 false"},
		{"api url", cfg.Telegram.Bots[0].APIURL, "https://api.telegram.org"},
		{"per second", *cfg.Telegram.Bots[0].PerSecond, 30.0},
		{"bot", ch.Bot, "main"},
		{"per minute", *ch.PerMinute, 20.0},
		{"format", fmt.Sprintf("%v %v %v %v %v %v %v %v %v", ch.Format.Image, *ch.Format.LinkPreview, ch.Format.Buttons, ch.Format.ButtonsPerRow, *ch.Format.Hashtags, ch.Format.MaxHashtags, *ch.Format.Documents, *ch.Format.Edits, ch.Format.EditWindow), "photo true [read telegram whatsapp x facebook] 3 true 5 true true 48h0m0s"},
		{"channel delivery", *ch.Delivery, Delivery{MaxAttempts: 10, MaxAge: Duration(24 * 60 * 60 * 1e9), OnAmbiguous: "resend"}},
		{"log", cfg.Log, Log{Level: "info", Format: "text"}},
		{"worker", fmt.Sprintf("%v %v", cfg.Worker.Concurrency, cfg.Worker.ShutdownTimeout), "4 20s"},
		{"push", fmt.Sprintf("%v %v %v %v", cfg.Push.Enabled, cfg.Push.Lease, cfg.Push.PollInterval, cfg.Push.MaxBody), "false 168h0m0s 1h0m0s 1MiB"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestMastodonAndRedisDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(minimal+`
store:
  redis: {url: "redis://localhost:6379"}
mastodon:
  accounts:
    - {id: md, server: "https://mastodon.example", access_token: t, delivery: {max_attempts: 3}}
delivery: {max_age: 1h}
`), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Store.Redis
	if cfg.Store.Embedded != nil || r.KeyPrefix != "syndicate" || r.DialTimeout.String() != "5s" || r.OpTimeout.String() != "3s" {
		t.Errorf("redis = %+v, embedded = %v", r, cfg.Store.Embedded)
	}
	f := cfg.Mastodon.Accounts[0].Format
	if got := fmt.Sprintf("%v %v %v %v %v %v", f.Visibility, *f.Hashtags, f.MaxHashtags, *f.Images, *f.Edits, f.EditWindow); got != "public true 5 1 true 48h0m0s" {
		t.Errorf("mastodon format = %s", got)
	}
	want := Delivery{MaxAttempts: 3, MaxAge: Duration(60 * 60 * 1e9), OnAmbiguous: "resend"}
	if got := *cfg.Mastodon.Accounts[0].Delivery; got != want {
		t.Errorf("account delivery = %+v, want %+v", got, want)
	}
	if got := cfg.DeliveryPolicy("md"); got != want {
		t.Errorf("DeliveryPolicy = %+v, want %+v", got, want)
	}
}

func TestAccessorsWithoutDefaults(t *testing.T) {
	// Accessors fall back to the built-in defaults for configs built in code.
	c := &Config{Mastodon: Mastodon{Accounts: []MastodonAccount{{ID: "md", Delivery: &Delivery{MaxAttempts: 2}}}}}
	f := &Feed{}
	if got := c.FeedPollInterval(f); got.String() != "10m0s" {
		t.Errorf("FeedPollInterval = %v", got)
	}
	if got := c.FeedMaxAge(f); got.String() != "72h0m0s" {
		t.Errorf("FeedMaxAge = %v", got)
	}
	if got := c.Backfill(nil, nil); got != 0 {
		t.Errorf("Backfill = %d", got)
	}
	if got := c.DeliveryPolicy("md"); got.MaxAttempts != 2 || got.OnAmbiguous != "resend" || got.MaxAge.String() != "24h0m0s" {
		t.Errorf("DeliveryPolicy = %+v", got)
	}
	if c.Bot("x") != nil || c.Feed("x") != nil {
		t.Error("lookups of unknown ids must return nil")
	}
}

func TestDecodeProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "top level is not a mapping",
			doc:  "- a\n- b\n",
			want: []string{"1:1: : expected a mapping, got a list"},
		},
		{
			name: "empty file",
			doc:  "# nothing\n",
			want: []string{"1:1: feeds: at least one feed is required", "1:1: routes: at least one route is required"},
		},
		{
			// The YAML library locates a parser error at the start of the
			// enclosing block, without a column.
			name: "syntax error",
			doc:  "feeds:\n  - id: en\n   url: x\n",
			want: []string{"2:0: : did not find expected '-' indicator"},
		},
		{
			name: "scanner error",
			doc:  "log:\n  level: \"info\n",
			want: []string{"2:0: : found unexpected end of stream"},
		},
		{
			name: "unknown alias",
			doc:  "log:\n  level: *lvl\n",
			want: []string{"2:10: : unknown anchor 'lvl' referenced"},
		},
		{
			name: "two documents",
			doc:  minimal + "---\nlog: {level: info}\n",
			want: []string{"14:0: : only one YAML document is allowed"},
		},
		{
			name: "unknown key far from any other",
			doc:  minimal + "telemetry: {}\n",
			want: []string{"14:1: telemetry: unknown key (allowed: defaults, delivery, feeds, log, mastodon, network, push, routes, store, telegram, worker)"},
		},
		{
			name: "x- keys hold anchors",
			doc: minimal + `x-format: &fmt {image: none, hashtags: false}
mastodon:
  accounts:
    - id: md
      server: https://mastodon.example
      access_token: t
      format:
        <<: *fmt
`,
			// A merged key is located where the anchor defines it.
			want: []string{`14:17: mastodon.accounts[0].format.image: unknown key (did you mean "images"?)`},
		},
		{
			name: "wrong scalar types",
			doc: minimal + `worker: {concurrency: "4", shutdown_timeout: 20s}
telegram_extra: 1
network:
  feeds: {max_redirects: 1.5, allow_private: 1, max_bytes: [1]}
  media: {timeout: {}}
defaults: {backfill: true}
`,
			want: []string{
				`14:23: worker.concurrency: expected an integer, got a string`,
				`15:1: telegram_extra: unknown key (allowed: defaults, delivery, feeds, log, mastodon, network, push, routes, store, telegram, worker)`,
				`17:26: network.feeds.max_redirects: expected an integer, got a number`,
				`17:46: network.feeds.allow_private: expected true or false, got an integer`,
				`17:60: network.feeds.max_bytes: expected a size (bytes, or like 512KiB, 10MiB, 10MB), got a list`,
				`18:20: network.media.timeout: expected a duration with a unit (like 90s, 10m, 1h30m or 7d), got a mapping`,
				`19:22: defaults.backfill: expected an integer, got a boolean`,
			},
		},
		{
			name: "keys that are not strings and unsupported tags",
			doc:  minimal + "log: {[a]: b, level: !!binary aGk=}\n",
			want: []string{"14:7: log: keys must be strings, got a list", "14:22: log.level: unsupported tag !!binary"},
		},
		{
			name: "duplicate map keys",
			doc: minimal + `  - feeds: [en]
    to: [tg]
    filter: {languages: [en]}
    filter: {}
`,
			want: []string{"17:5: routes[1].filter: duplicate key (first at line 16)"},
		},
		{
			name: "null values leave fields unset",
			doc:  minimal + "store:\n  embedded:\n  retention: ~\nlog:\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, tt.doc, tt.want)
		})
	}
}

func TestAliasExpansionIsBounded(t *testing.T) {
	got := problems(t, aliasBomb())
	if len(got) != 1 || !strings.HasSuffix(got[0], ": document too complex (too many aliases expanded)") {
		t.Errorf("problems = %q, want only the complexity problem", got)
	}
}

// aliasBomb repeats an alias to a long list so that a small file would
// expand into a million nodes.
func aliasBomb() string {
	words := strings.Repeat("w, ", 999) + "w"
	routes := strings.Repeat("*r, ", 999) + "*r"
	return minimal[:strings.Index(minimal, "routes:")] +
		"x-k: &k [" + words + "]\n" +
		"x-r: &r {feeds: [en], to: [tg], filter: {include_keywords: *k}}\n" +
		"routes: [" + routes + "]\n"
}

func TestMergeAndAliases(t *testing.T) {
	doc := strings.Replace(minimal, "routes:", `    - id: tg2
      chat: "@example_news2"
      format: &fmt
        image: none
        buttons: [read]
    - id: tg3
      chat: "@example_news3"
      format:
        <<: *fmt
        image: preview
routes:`, 1)
	cfg, err := Parse("c.yaml", []byte(doc), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Telegram.Channels[2].Format
	if f.Image != "preview" || len(f.Buttons) != 1 || f.Buttons[0] != "read" {
		t.Errorf("merged format = %+v", f)
	}
}

// TestLanguagesStayWhereTheOperatorWroteThem: defaults.language is not
// copied onto feeds, because a feed's own language overrides what the feed
// declares while the default only fills in when nothing is declared.
func TestLanguagesStayWhereTheOperatorWroteThem(t *testing.T) {
	doc := strings.Replace(minimal, "    url: https://example.org/feed/\n", `    url: https://example.org/feed/
  - id: ar
    url: https://example.org/ar/feed/
    language: ar
`, 1)
	doc = strings.Replace(doc, "routes:\n  - feeds: [en]\n    to: [tg]\n", `routes:
  - feeds: [en]
    to: [tg]
  - feeds: [ar]
    to: [tg]
    language: ar-EG
defaults:
  language: en
`, 1)
	cfg, err := Parse("c.yaml", []byte(doc), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{cfg.Feeds[0].Language, cfg.Feeds[1].Language, cfg.Routes[0].Language, cfg.Routes[1].Language, cfg.Defaults.Language}; strings.Join(got, ",") != ",ar,,ar-EG,en" {
		t.Errorf("languages = %q", got)
	}
	checkProblems(t, strings.Replace(doc, "language: ar-EG", "language: arabic_egypt", 1),
		[]string{`19:15: routes[1].language: "arabic_egypt" is not a language tag (like en, ar, fa, sq, pt-BR)`})
}
