package config

import "time"

// Config is one syndicate configuration file. Field tags name the YAML keys;
// a field tagged env:"expand" also expands "${ENV_VAR}" references (as
// Secret fields do). Top-level keys starting with "x-" are ignored, so they
// can hold YAML anchors for aliases elsewhere.
type Config struct {
	Store    Store    `yaml:"store"`
	Defaults Defaults `yaml:"defaults"`
	Network  Network  `yaml:"network"`
	Feeds    []Feed   `yaml:"feeds"`
	Telegram Telegram `yaml:"telegram"`
	Mastodon Mastodon `yaml:"mastodon"`
	Routes   []Route  `yaml:"routes"`
	Delivery Delivery `yaml:"delivery"`
	Log      Log      `yaml:"log"`
	Worker   Worker   `yaml:"worker"`
	Push     Push     `yaml:"push"`

	// Path is the file the config was loaded from (not a YAML key).
	Path string `yaml:"-"`
	// Secrets says where the secrets came from (not a YAML key), so that
	// files other users can read are warned about.
	Secrets SecretSources `yaml:"-"`
}

// SecretSources are the places secrets were read from.
type SecretSources struct {
	// Inline lists the keys whose secret is written in the config file
	// itself (not a "${VAR}" reference nor a "_file").
	Inline []string
	// Files are the files "_file" keys read secrets from.
	Files []string
}

// Store chooses where state is kept: Embedded (the default) or Redis, never
// both. After loading, Embedded is non-nil whenever Redis is nil.
type Store struct {
	Embedded *Embedded `yaml:"embedded"`
	Redis    *Redis    `yaml:"redis"`
	// Retention is how long seen items and finished delivery records are
	// kept after they were last seen (default 2160h = 90 days).
	Retention Duration `yaml:"retention"`
}

// Embedded is the one-file embedded store.
type Embedded struct {
	// Path of the database file (default empty: the command picks a file
	// in its state directory).
	Path string `yaml:"path"`
}

// Redis is a Redis store: one node (URL), Sentinel or Cluster.
type Redis struct {
	// URL is redis://[user:password@]host:port/db, rediss://… or unix://…
	// It is required for a single node; with Sentinel or Cluster it is
	// optional and only its credentials and database apply.
	URL Secret `yaml:"url"`
	// KeyPrefix namespaces every key (default "syndicate").
	KeyPrefix string `yaml:"key_prefix"`
	// Sentinel and Cluster are exclusive.
	Sentinel *Sentinel `yaml:"sentinel"`
	Cluster  *Cluster  `yaml:"cluster"`
	// Username and Password override the ones in URL (for Sentinel and Cluster).
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// TLS enables TLS for Sentinel and Cluster connections.
	TLS bool `yaml:"tls"`
	// DialTimeout and OpTimeout bound connecting and each command
	// (default 5s and 3s).
	DialTimeout Duration `yaml:"dial_timeout"`
	OpTimeout   Duration `yaml:"op_timeout"`
}

// Sentinel names the Sentinel servers and the monitored master.
type Sentinel struct {
	// MasterName and Addrs (host:port) are required.
	MasterName string   `yaml:"master_name"`
	Addrs      []string `yaml:"addrs" env:"expand"`
	// Password authenticates to the Sentinels themselves.
	Password Secret `yaml:"password"`
}

// Cluster names the seed nodes of a Redis Cluster.
type Cluster struct {
	// Addrs (host:port) are required.
	Addrs []string `yaml:"addrs" env:"expand"`
}

// Defaults apply to every feed and route that does not say otherwise.
type Defaults struct {
	// PollInterval between two polls of a feed (default 10m; at least 30s).
	PollInterval Duration `yaml:"poll_interval"`
	// MaxAge: items published longer ago are never posted (default 72h).
	MaxAge Duration `yaml:"max_age"`
	// Backfill: how many of the newest items are posted at first sight of
	// a feed (default 0).
	Backfill *int `yaml:"backfill"`
	// Language for items when neither the item, the route, the feed's
	// configuration nor the feed itself gives one (a tag like "en" or
	// "pt-BR").
	Language string `yaml:"language"`
}

// Network holds the limits and proxies of every outbound request.
type Network struct {
	// UserAgent sent with every request (default "syndicate/<version> (+repo URL)").
	UserAgent string `yaml:"user_agent"`
	Feeds     Limits `yaml:"feeds"`
	Media     Limits `yaml:"media"`
	// Platforms is the proxy of the calls to the Telegram and Mastodon APIs.
	Platforms Proxy `yaml:"platforms"`
}

// Proxy settings of one group of clients; unset, the environment's
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY apply.
type Proxy struct {
	// Proxy is a proxy URL (http, https, socks5 or socks5h; credentials in
	// its user info), used for http and https targets alike, or "direct"
	// for no proxy whatever the environment says.
	Proxy Secret `yaml:"proxy"`
	// NoProxy lists hosts reached directly, in NO_PROXY syntax; when set
	// it replaces the environment's NO_PROXY.
	NoProxy *string `yaml:"no_proxy"`
}

// Limits bound one kind of download.
type Limits struct {
	// Timeout for the whole request (feeds default 30s, media 30s).
	Timeout Duration `yaml:"timeout"`
	// MaxBytes of a body (feeds default 10MiB, media 20MiB).
	MaxBytes Size `yaml:"max_bytes"`
	// MaxRedirects followed (default 5).
	MaxRedirects *int `yaml:"max_redirects"`
	// AllowPrivate allows private, loopback and link-local addresses
	// (default false for media; feeds default true since the operator
	// chose their URLs).
	AllowPrivate *bool `yaml:"allow_private"`
	// Proxy and NoProxy are as in Proxy: unset, the environment's apply.
	Proxy   Secret  `yaml:"proxy"`
	NoProxy *string `yaml:"no_proxy"`
}

// ProxySettings returns the proxy part of the limits.
func (l Limits) ProxySettings() Proxy { return Proxy{Proxy: l.Proxy, NoProxy: l.NoProxy} }

// Feed is one feed to poll. Unset values inherit from Defaults when loaded.
type Feed struct {
	// ID is unique among feeds: up to 64 letters, digits, "_", "-" or ".".
	ID string `yaml:"id"`
	// URL is an absolute http(s) URL (required).
	URL string `yaml:"url" env:"expand"`
	// Language of the feed's items, chosen by the operator: it overrides
	// what the feed declares at channel level; only a declaration on the
	// item itself wins over it. Empty: the feed's declaration, else
	// defaults.language.
	Language string `yaml:"language"`
	// PollInterval (default: defaults.poll_interval; at least 30s).
	PollInterval Duration `yaml:"poll_interval"`
	// MaxAge (default: defaults.max_age).
	MaxAge Duration `yaml:"max_age"`
	// Backfill (default: defaults.backfill; a route may override it).
	Backfill *int `yaml:"backfill"`
	// PageImage: fetch the article page for og:image when the feed has no
	// image (default true: the site's feeds usually carry none).
	PageImage *bool `yaml:"page_image"`
	// Disabled feeds are not polled.
	Disabled bool `yaml:"disabled"`
}

// Telegram holds bots and the channels they post to.
type Telegram struct {
	Bots     []TelegramBot     `yaml:"bots"`
	Channels []TelegramChannel `yaml:"channels"`
}

// TelegramBot is one bot token.
type TelegramBot struct {
	// ID is unique among bots.
	ID string `yaml:"id"`
	// Token is required and looks like "123456:ABC-def".
	Token Secret `yaml:"token"`
	// APIURL points at a local Bot API server (default https://api.telegram.org).
	APIURL string `yaml:"api_url"`
	// PerSecond caps sends of this bot over all its chats (default 30).
	PerSecond *float64 `yaml:"per_second"`
}

// TelegramChannel is one destination: a chat a bot posts to.
type TelegramChannel struct {
	// ID is unique among all destinations (channels and accounts).
	ID string `yaml:"id"`
	// Bot is a bot id; it may be left out when exactly one bot is defined.
	Bot string `yaml:"bot"`
	// Chat is a numeric id (-100…) or @username.
	Chat string `yaml:"chat"`
	// Topic is a forum topic id (message_thread_id); 0 for none.
	Topic int64 `yaml:"topic"`
	// PerMinute caps sends to this chat (default 20).
	PerMinute *float64       `yaml:"per_minute"`
	Format    TelegramFormat `yaml:"format"`
	// Delivery overrides the top-level delivery policy field by field; after
	// loading it holds the effective policy.
	Delivery *Delivery `yaml:"delivery"`
}

// TelegramFormat shapes posts on a Telegram channel.
type TelegramFormat struct {
	// Template is a Go template overriding the layout; TemplateFile reads
	// it from a file (relative to the config file's directory) into
	// Template when loading. They are exclusive.
	Template     string `yaml:"template"`
	TemplateFile string `yaml:"template_file"`
	// Image: "photo" (photo with caption when it fits, the default),
	// "preview" (text with a large link preview of the image), "none".
	Image string `yaml:"image"`
	// LinkPreview shows a link preview on text posts (default true).
	LinkPreview *bool `yaml:"link_preview"`
	// Buttons in order; allowed: read, telegram, whatsapp, x, facebook,
	// pinterest, linkedin, email. Default: read, telegram, whatsapp, x,
	// facebook; an empty list means no buttons.
	Buttons []string `yaml:"buttons"`
	// ButtonsPerRow (default 3; 1 to 8).
	ButtonsPerRow int `yaml:"buttons_per_row"`
	// ButtonLabels overrides button texts by button name.
	ButtonLabels map[string]string `yaml:"button_labels"`
	// UTM parameters added to article links, per button name or "default".
	UTM map[string]UTM `yaml:"utm"`
	// EmailShareURL is an http(s) page that opens an e-mail with the
	// subject and body it is given: Telegram buttons cannot open mailto:
	// links, so the email button needs it (without it the button is left out).
	EmailShareURL string `yaml:"email_share_url"`
	// ExcerptMax caps the summary excerpt in characters (default 600).
	ExcerptMax int `yaml:"excerpt_max"`
	// Hashtags from categories (default true), at most MaxHashtags (default
	// 5; 0 means the default, so turn hashtags off with Hashtags).
	Hashtags    *bool `yaml:"hashtags"`
	MaxHashtags int   `yaml:"max_hashtags"`
	// Silent posts without notification; ProtectContent forbids forwarding.
	Silent         bool `yaml:"silent"`
	ProtectContent bool `yaml:"protect_content"`
	// Documents sends PDF attachments after the post (default true).
	Documents *bool `yaml:"documents"`
	// Album sends several images as an album (default false).
	Album bool `yaml:"album"`
	// AlbumButtons sends the buttons in a follow-up message after an album.
	AlbumButtons bool `yaml:"album_buttons"`
	// Edits: edit the post when the article changes within EditWindow
	// (default true, 48h).
	Edits      *bool    `yaml:"edits"`
	EditWindow Duration `yaml:"edit_window"`
}

// UTM is a set of campaign parameters.
type UTM struct {
	Source   string `yaml:"source"`
	Medium   string `yaml:"medium"`
	Campaign string `yaml:"campaign"`
}

// Mastodon holds the accounts to post as.
type Mastodon struct {
	Accounts []MastodonAccount `yaml:"accounts"`
}

// MastodonAccount is one destination: an account on a server speaking the
// Mastodon client API.
type MastodonAccount struct {
	// ID is unique among all destinations (channels and accounts).
	ID string `yaml:"id"`
	// Server is the instance's absolute http(s) URL (required).
	Server string `yaml:"server" env:"expand"`
	// AccessToken is required.
	AccessToken Secret         `yaml:"access_token"`
	Format      MastodonFormat `yaml:"format"`
	// Delivery overrides the top-level delivery policy field by field; after
	// loading it holds the effective policy.
	Delivery *Delivery `yaml:"delivery"`
}

// MastodonFormat shapes statuses on a Mastodon account.
type MastodonFormat struct {
	// Template and TemplateFile work as in TelegramFormat.
	Template     string `yaml:"template"`
	TemplateFile string `yaml:"template_file"`
	// Visibility: public (default), unlisted, private, direct.
	Visibility  string `yaml:"visibility"`
	SpoilerText string `yaml:"spoiler_text"`
	Sensitive   bool   `yaml:"sensitive"`
	// Hashtags from categories (default true), at most MaxHashtags (default
	// 5; 0 means the default).
	Hashtags    *bool `yaml:"hashtags"`
	MaxHashtags int   `yaml:"max_hashtags"`
	// ShareLinks adds a footer of share links; allowed: telegram, whatsapp,
	// x, facebook, pinterest, linkedin, email.
	ShareLinks []string `yaml:"share_links"`
	// TelegramChannel links to the same post on this Telegram channel id.
	TelegramChannel string `yaml:"telegram_channel"`
	// AllowMentions lets @user text from articles become mentions (default false).
	AllowMentions bool `yaml:"allow_mentions"`
	// ExcerptMax caps the summary excerpt in characters whatever the
	// server's limit (default 500): a status is a summary with a link.
	ExcerptMax int `yaml:"excerpt_max"`
	// Images attached (default 1; 0 for none; capped by the server).
	Images *int `yaml:"images"`
	// UTM parameters added to the article link.
	UTM *UTM `yaml:"utm"`
	// Edits: update the status when the article changes within EditWindow
	// (default true, 48h).
	Edits      *bool    `yaml:"edits"`
	EditWindow Duration `yaml:"edit_window"`
}

// Route sends the items of some feeds to some destinations.
type Route struct {
	// Feeds are feed ids; To are destination ids (Telegram channel or
	// Mastodon account ids). Both need at least one.
	Feeds []string `yaml:"feeds"`
	To    []string `yaml:"to"`
	// Backfill overrides the feeds' backfill for this route.
	Backfill *int `yaml:"backfill"`
	// Language overrides the language of the route's items, as a feed's
	// language does (an item's own declaration still wins).
	Language string `yaml:"language"`
	Filter   Filter `yaml:"filter"`
}

// Filter selects items. Empty lists select everything.
type Filter struct {
	IncludeCategories []string `yaml:"include_categories"`
	ExcludeCategories []string `yaml:"exclude_categories"`
	// Keywords match whole words, case-insensitively, in title or summary.
	IncludeKeywords []string `yaml:"include_keywords"`
	ExcludeKeywords []string `yaml:"exclude_keywords"`
	// Regexps (RE2 syntax) match title or summary.
	IncludeRegexps []string `yaml:"include_regexps"`
	ExcludeRegexps []string `yaml:"exclude_regexps"`
	// Languages: only items in these languages (primary subtag match).
	Languages []string `yaml:"languages"`
}

// Delivery is the retry policy of a destination (or the default for all).
// Zero values mean "inherit".
type Delivery struct {
	// MaxAttempts before a job is parked (default 10).
	MaxAttempts int `yaml:"max_attempts"`
	// MaxAge: a job still not delivered after this long is parked (default 24h).
	MaxAge Duration `yaml:"max_age"`
	// OnAmbiguous: "resend" (at-least-once, default) or "unknown"
	// (at-most-once: mark unknown and alert).
	OnAmbiguous string `yaml:"on_ambiguous"`
}

// Log configures logging.
type Log struct {
	// Level: debug, info (default), warn, error.
	Level string `yaml:"level"`
	// Format: text (default) or json.
	Format string `yaml:"format"`
}

// Worker tunes the running worker.
type Worker struct {
	// Concurrency: feeds fetched at once (default 4).
	Concurrency int `yaml:"concurrency"`
	// PerHost caps the feeds fetched at once from one host (default 2),
	// so that the editions of one site are polled politely.
	PerHost int `yaml:"per_host"`
	// Spread gives each feed its own point in its poll interval, placed
	// by its id (default true), so that polls are even over the interval
	// rather than in bursts, at start too.
	Spread *bool `yaml:"spread"`
	// StartSpread places the feeds due at start over up to this long,
	// each at its point by id, instead of fetching them all at once
	// (default 1m; 0s: all at once).
	StartSpread *Duration `yaml:"start_spread"`
	// Jitter moves each next poll by up to half this share of the
	// interval either way (default 0.1, i.e. ±5%; 0 turns it off).
	Jitter *float64 `yaml:"jitter"`
	// ID names this replica in leases (default hostname-pid).
	ID string `yaml:"id"`
	// ShutdownTimeout for in-flight posts on SIGTERM (default 20s).
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// Lease is how long a claimed delivery stays with this worker without
	// a heartbeat (renewed every third of it) before another replica may
	// take it over (default 2m, at least 3s).
	Lease Duration `yaml:"lease"`
	// Listen is the address of the HTTP server for /metrics (Prometheus),
	// /healthz and /readyz, e.g. "127.0.0.1:9090"; without a host
	// (":9090") it binds loopback, "0.0.0.0:9090" serves other machines;
	// empty turns it off.
	Listen string `yaml:"listen"`
}

// Push subscribes feeds that name a WebSub hub, so that new articles
// arrive within a second; the hubs call back on the worker's HTTP server
// (worker.listen).
type Push struct {
	Enabled bool `yaml:"enabled"`
	// PublicURL is how hubs reach worker.listen from outside, e.g.
	// "https://bot.example.org"; callbacks are
	// PublicURL/websub/<feed id>/<token>, the token unguessable and new
	// with each subscription. A path in it may be kept or stripped by the
	// proxy in front: both are served.
	PublicURL string `yaml:"public_url" env:"expand"`
	// Lease is the subscription lifetime asked of hubs (default 7d).
	Lease Duration `yaml:"lease"`
	// PollInterval is how often a feed whose hub pushes is still polled,
	// as a safety net (default 1h; never more often than its own
	// poll_interval).
	PollInterval Duration `yaml:"poll_interval"`
	// MaxBody caps a notification's body (default 1MiB).
	MaxBody Size `yaml:"max_body"`
}

// Duration is a time.Duration written as "90s", "10m", "48h", "7d" or
// "1d12h"; never negative.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Size is a byte count written as 1048576, "512KiB", "10MiB", "1GiB",
// "500kB" or "10MB" (binary units are powers of 1024, decimal of 1000);
// never negative.
type Size int64
