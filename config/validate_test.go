package config

import (
	"strings"
	"testing"
)

// withRoutes puts extra YAML before the routes of minimal, so that
// channels and accounts can be added to its lists.
func withRoutes(extra string) string {
	return strings.Replace(minimal, "routes:\n", extra+"routes:\n", 1)
}

func TestValidateProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "redis single node needs a url with a redis scheme",
			doc: minimal + `store:
  redis: {key_prefix: "a b"}
`,
			want: []string{
				"15:10: store.redis.url: is required (or give sentinel or cluster)",
				"15:23: store.redis.key_prefix: must not contain spaces or braces",
			},
		},
		{
			name: "redis url scheme and sentinel without master",
			doc: minimal + `store:
  redis:
    url: https://localhost
    sentinel: {addrs: ["[::1]:26379", "host:0", "${SET}:26379"]}
`,
			want: []string{
				"16:10: store.redis.url: must be a redis://, rediss:// or unix:// URL",
				"17:15: store.redis.sentinel.master_name: is required",
				`17:39: store.redis.sentinel.addrs[1]: "host:0" is not host:port`,
			},
		},
		{
			name: "empty cluster",
			doc:  minimal + "store:\n  redis:\n    cluster:\n",
			want: []string{"16:13: store.redis.cluster.addrs: at least one host:port is required"},
		},
		{
			name: "channel bot may only be omitted with one bot",
			doc: strings.Replace(minimal, "  channels:", `    - id: other
      token: "2:b"
  channels:`, 1),
			want: []string{"11:7: telegram.channels[0].bot: is required (it may be left out only when exactly one bot is defined)"},
		},
		{
			name: "duplicate bot ids and bad tokens",
			doc: strings.Replace(minimal, "  channels:", `    - id: main
      token: "not a token"
    - id: "b/c"
      api_url: file:///tmp
      per_second: -1
  channels:`, 1),
			want: []string{
				`8:11: telegram.bots[1].id: duplicate bot id "main" (first at telegram.bots[0])`,
				"9:14: telegram.bots[1].token: does not look like a bot token (digits, a colon, then letters, digits, _ or -)",
				// A missing field is located at its enclosing mapping.
				"10:7: telegram.bots[2].token: is required (give token, possibly as ${ENV_VAR}, or token_file)",
				`10:11: telegram.bots[2].id: "b/c" is not a valid id (up to 64 letters, digits, "_", "-" or ".", starting with a letter or digit)`,
				"11:16: telegram.bots[2].api_url: must be an absolute URL (http:// or https://)",
				"12:19: telegram.bots[2].per_second: must be a positive number",
				"14:7: telegram.channels[0].bot: is required (it may be left out only when exactly one bot is defined)",
			},
		},
		{
			name: "channel values",
			doc: withRoutes(`    - id: tg2
      chat: -1001234567890
      topic: -1
      per_minute: .inf
      format:
        buttons_per_row: -1
        max_hashtags: -1
        button_labels: {read: " ", skype: Skype}
        utm: {default: {source: a}, fax: {}}
      delivery: {max_attempts: -3}
`),
			want: []string{
				"13:14: telegram.channels[1].topic: must not be negative",
				"14:19: telegram.channels[1].per_minute: must be a positive number",
				"16:26: telegram.channels[1].format.buttons_per_row: must be between 1 and 8",
				"17:23: telegram.channels[1].format.max_hashtags: must not be negative",
				"18:31: telegram.channels[1].format.button_labels.read: must not be empty",
				`18:43: telegram.channels[1].format.button_labels.skype: "skype" is not allowed (allowed: read, telegram, whatsapp, x, facebook, pinterest, linkedin, email)`,
				`19:42: telegram.channels[1].format.utm.fax: "fax" is not allowed (allowed: default, read, telegram, whatsapp, x, facebook, pinterest, linkedin, email)`,
				"20:32: telegram.channels[1].delivery.max_attempts: must be at least 1",
			},
		},
		{
			name: "mastodon values",
			doc: withRoutes(`mastodon:
  accounts:
    - id: tg
      server: https://mastodon.example/
      access_token_file: ""
      format: {images: -1, max_hashtags: -2, share_links: [x, x, email], telegram_channel: tg, excerpt_max: -3}
`),
			want: []string{
				`13:11: mastodon.accounts[0].id: duplicate destination id "tg" (first at telegram.channels[0]; channels and accounts share ids)`,
				"15:26: mastodon.accounts[0].access_token_file: must name a file",
				"16:24: mastodon.accounts[0].format.images: must not be negative",
				"16:42: mastodon.accounts[0].format.max_hashtags: must not be negative",
				`16:63: mastodon.accounts[0].format.share_links[1]: "x" is listed twice`,
				`16:66: mastodon.accounts[0].format.share_links[2]: "email" is not allowed (allowed: telegram, whatsapp, x, facebook, pinterest, linkedin)`,
				"16:109: mastodon.accounts[0].format.excerpt_max: must not be negative",
			},
		},
		{
			name: "feeds",
			doc: strings.Replace(minimal, "telegram:", `  - id: ar
    url: "https://example.org/ar/feed/?key=$$x"
    poll_interval: 29s
    backfill: -1
    language: arabic
  - id: fa
    url: //example.org/fa/feed/
defaults: {language: e}
telegram:`, 1),
			want: []string{
				"6:20: feeds[1].poll_interval: must be at least 30s",
				"7:15: feeds[1].backfill: must not be negative",
				`8:15: feeds[1].language: "arabic" is not a language tag (like en, ar, fa, sq, pt-BR)`,
				"10:10: feeds[2].url: must be an absolute URL (http:// or https://)",
				`11:22: defaults.language: "e" is not a language tag (like en, ar, fa, sq, pt-BR)`,
			},
		},
		{
			name: "inherited values are reported once, where written",
			doc:  minimal + "defaults: {poll_interval: 10s, backfill: -1}\ndelivery: {max_attempts: -1}\n",
			want: []string{
				"14:27: defaults.poll_interval: must be at least 30s",
				"14:42: defaults.backfill: must not be negative",
				"15:26: delivery.max_attempts: must be at least 1",
			},
		},
		{
			name: "routes",
			doc: minimal + `  - feeds: [en, en]
    to: [tg, tg]
    filter:
      include_categories: [""]
      exclude_keywords: ["  "]
      exclude_regexps: ['[z-a]']
      languages: [""]
`,
			want: []string{
				`14:17: routes[1].feeds[1]: "en" is listed twice`,
				`15:14: routes[1].to[1]: "tg" is listed twice`,
				"17:28: routes[1].filter.include_categories[0]: must not be empty",
				"18:26: routes[1].filter.exclude_keywords[0]: must not be empty",
				"19:25: routes[1].filter.exclude_regexps[0]: invalid regexp: invalid character class range: `z-a`",
				"20:19: routes[1].filter.languages[0]: must not be empty",
			},
		},
		{
			name: "push needs a public url and worker.listen",
			doc:  minimal + "push:\n  enabled: true\n",
			want: []string{
				"15:3: push.public_url: is required",
				"15:12: push.enabled: push needs worker.listen: the hubs call back on the worker's HTTP server",
			},
		},
		{
			name: "push values",
			doc: minimal + `worker: {listen: ":9090"}
push:
  enabled: true
  public_url: "https://bot.example.org/hooks?x=1"
  lease: 59m
  poll_interval: 10s
  max_body: 512
`,
			want: []string{
				"17:15: push.public_url: must have no query or fragment",
				"18:10: push.lease: must be at least 1h",
				"19:18: push.poll_interval: must be at least 30s",
				"20:13: push.max_body: must be at least 1KiB (a notification carries the feed)",
			},
		},
		{
			name: "push url scheme",
			doc:  minimal + "worker: {listen: \":9090\"}\npush: {enabled: true, public_url: \"ftp://bot.example.org\"}\n",
			want: []string{"15:35: push.public_url: must be an absolute URL (http:// or https://)"},
		},
		{
			name: "push off is not checked",
			doc:  minimal + "push: {public_url: \"not a url\", lease: 1m}\n",
			want: nil,
		},
		{
			name: "nothing to do",
			doc:  "log: {level: debug}\n",
			want: []string{"1:1: feeds: at least one feed is required", "1:1: routes: at least one route is required"},
		},
		{
			name: "user agent on one line",
			doc:  minimal + "network: {user_agent: \"a\\nb\", feeds: {max_redirects: -1}}\n",
			want: []string{
				"14:23: network.user_agent: must be one line",
				"14:54: network.feeds.max_redirects: must not be negative",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, tt.doc, tt.want)
		})
	}
}
