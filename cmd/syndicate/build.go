package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/bots/telegram"
	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/feed"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
	"github.com/syndicate-bot/syndicate/syndicate/imagecheck"
	"github.com/syndicate-bot/syndicate/syndicate/langid"
	"github.com/syndicate-bot/syndicate/syndicate/metrics"
	"github.com/syndicate-bot/syndicate/syndicate/ratelimit"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
	"github.com/syndicate-bot/syndicate/syndicate/store/redisstore"
	"github.com/syndicate-bot/syndicate/syndicate/websub"
)

// app is everything built from one config: the one place that knows every
// package.
type app struct {
	cfg     *config.Config
	store   syndicate.Store
	engine  *syndicate.Engine
	dests   map[string]destination
	metrics *metrics.Metrics
	// push serves the WebSub callbacks (nil when push is off).
	push   *websub.Subscriber
	closer []io.Closer
	// media, opts and bots are what a config reload builds destinations
	// with: the media client, the options of the build, and the Telegram
	// bots by id.
	media *guard.Client
	opts  buildOptions
	bots  map[string]*telegram.Bot
}

// destination is a built destination with what the CLI shows about it.
type destination struct {
	syndicate.Destination
	// Label is e.g. "telegram @channel" or "mastodon https://server".
	Label string
}

type buildOptions struct {
	env    env
	logger *slog.Logger
	// stateDir is where the embedded store goes when the config names no path.
	stateDir string
	// clock overrides the real clock (tests).
	clock syndicate.Clock
	// readOnly opens the embedded store without changing it (preview); when
	// it does not exist yet, an empty one in a temporary directory is used.
	readOnly bool
	// waitForStore lets a worker start while Redis is unreachable: the
	// engine waits for it. Without it, an unreachable Redis is fatal.
	waitForStore bool
	// limiter paces sends across replicas (set when the store is Redis;
	// nil means each publisher paces in process).
	limiter *ratelimit.Limiter
	// bots holds the Telegram bots by id: those in it are used as they
	// are, those built are added (nil: a map of the build's own).
	bots map[string]*telegram.Bot
	// platforms carries the Telegram and Mastodon API calls (set by build).
	platforms *http.Client
}

// Close releases the store and anything else the app opened.
func (a *app) Close() error {
	var errs []error
	for i := len(a.closer) - 1; i >= 0; i-- {
		errs = append(errs, a.closer[i].Close())
	}
	return errors.Join(errs...)
}

func build(ctx context.Context, cfg *config.Config, o buildOptions) (*app, error) {
	a := &app{cfg: cfg, dests: map[string]destination{}}
	if o.logger != nil {
		for _, f := range readableSecrets(cfg) {
			o.logger.Warn("a file holding secrets can be read by other users: chmod 600 it", "file", f)
		}
	}
	st, rdb, err := openStore(ctx, cfg.Store, o)
	if err != nil {
		return nil, err
	}
	a.store = st
	a.closer = append(a.closer, st)
	if rdb != nil {
		// Replicas sharing Redis share the platforms' rate limits too.
		lim, err := ratelimit.New(rdb, ratelimit.Options{Prefix: cfg.Store.Redis.KeyPrefix, Logger: o.logger})
		if err != nil {
			a.Close()
			return nil, err
		}
		o.limiter = lim
	}

	px, err := buildProxies(cfg.Network, o)
	if err != nil {
		a.Close()
		return nil, err
	}
	o.platforms = px.platforms
	feedOpts := limitsOptions(cfg.Network.Feeds, cfg.Network.UserAgent)
	feedOpts.Proxy = px.feeds
	// As many idle connections per host as fetches from one host at once.
	feedOpts.IdleConnsPerHost = min(cfg.Worker.PerHost, cfg.Worker.Concurrency)
	feedClient := guard.New(feedOpts)
	mediaOpts := limitsOptions(cfg.Network.Media, cfg.Network.UserAgent)
	mediaOpts.Proxy = px.media
	mediaClient := guard.New(mediaOpts)
	src := feed.New(feed.Options{Client: feedClient, PageClient: mediaClient, Logger: o.logger})
	// Images are checked through the media client too: a URL the bots
	// could not download is no image for them either.
	images, err := imagecheck.New(imagecheck.Options{Client: mediaClient, Clock: o.clock})
	if err != nil {
		a.Close()
		return nil, err
	}

	feeds := engineFeeds(cfg)
	o.bots = map[string]*telegram.Bot{}
	a.media, a.opts, a.bots = mediaClient, o, o.bots
	dests, err := buildDestinations(cfg, st, mediaClient, o)
	if err != nil {
		a.Close()
		return nil, err
	}
	var list []syndicate.Destination
	for _, d := range dests {
		a.dests[d.ID] = d
		list = append(list, d.Destination)
	}
	ids := make([]string, 0, len(list))
	for _, d := range list {
		ids = append(ids, d.ID)
	}
	mx, err := metrics.New(metrics.Options{Store: st, Destinations: ids, Version: version})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.metrics = mx
	routes, err := buildRoutes(cfg, feeds)
	if err != nil {
		a.Close()
		return nil, err
	}
	var pusher syndicate.Pusher
	if cfg.Push.Enabled {
		// Hubs are named by the feeds: they are asked through the feed
		// client, under the feeds' limits.
		sub, err := websub.New(websub.Options{Client: feedClient, Store: st, PublicURL: cfg.Push.PublicURL,
			Lease: cfg.Push.Lease.D(), MaxBody: int64(cfg.Push.MaxBody), Clock: o.clock, Logger: o.logger})
		if err != nil {
			a.Close()
			return nil, err
		}
		a.push, pusher = sub, sub
	}
	eng, err := syndicate.New(syndicate.Options{
		Push: pusher, PushPollInterval: cfg.Push.PollInterval.D(),
		Store: st, Source: src, Pages: src, Languages: langid.New(), Images: images, Feeds: feeds, Routes: routes, Destinations: list,
		Clock: o.clock, Logger: o.logger, Owner: workerID(cfg.Worker.ID),
		FeedConcurrency: cfg.Worker.Concurrency, PerHost: cfg.Worker.PerHost, Spread: *cfg.Worker.Spread, Jitter: *cfg.Worker.Jitter,
		StartSpread: cfg.Worker.StartSpread.D(),
		Metrics:     mx, Retention: cfg.Store.Retention.D(), Lease: cfg.Worker.Lease.D(),
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.engine = eng
	return a, nil
}

// engineFeeds lists the enabled feeds of cfg as the engine polls them.
func engineFeeds(cfg *config.Config) []syndicate.Feed {
	var feeds []syndicate.Feed
	for i := range cfg.Feeds {
		f := &cfg.Feeds[i]
		if f.Disabled {
			continue
		}
		feeds = append(feeds, syndicate.Feed{
			FeedSpec: syndicate.FeedSpec{
				ID: f.ID, URL: f.URL, Language: f.Language, DefaultLanguage: cfg.Defaults.Language,
				PollInterval: cfg.FeedPollInterval(f),
				PageImage:    f.PageImage != nil && *f.PageImage,
			},
			MaxAge: cfg.FeedMaxAge(f),
		})
	}
	return feeds
}

func limitsOptions(l config.Limits, ua string) guard.Options {
	o := guard.Options{Timeout: l.Timeout.D(), MaxBytes: int64(l.MaxBytes), UserAgent: ua}
	if l.MaxRedirects != nil {
		o.MaxRedirects = *l.MaxRedirects
		if o.MaxRedirects == 0 {
			o.MaxRedirects = -1
		}
	}
	if l.AllowPrivate != nil {
		o.AllowPrivate = *l.AllowPrivate
	}
	return o
}

// openStore opens the embedded store or connects to Redis; for Redis it
// also returns the client, which the store owns.
func openStore(ctx context.Context, c config.Store, o buildOptions) (syndicate.Store, redis.UniversalClient, error) {
	if c.Redis != nil {
		r := c.Redis
		co := redisstore.ClientOptions{
			URL: r.URL.Value(), Username: r.Username, Password: r.Password.Value(), TLS: r.TLS,
			DialTimeout: r.DialTimeout.D(), ReadTimeout: r.OpTimeout.D(),
		}
		if r.Sentinel != nil {
			co.MasterName, co.Addrs, co.SentinelPassword = r.Sentinel.MasterName, r.Sentinel.Addrs, r.Sentinel.Password.Value()
		}
		if r.Cluster != nil {
			co.Addrs = r.Cluster.Addrs
		}
		client, err := redisstore.NewClient(co)
		if err != nil {
			return nil, nil, fmt.Errorf("redis: %w", err)
		}
		st, err := redisstore.New(client, redisstore.Options{Prefix: r.KeyPrefix})
		if err != nil {
			client.Close()
			return nil, nil, fmt.Errorf("redis: %w", err)
		}
		pingCtx, cancel := context.WithTimeout(ctx, r.DialTimeout.D()+r.OpTimeout.D())
		defer cancel()
		if err := st.Ping(pingCtx); err != nil && o.waitForStore {
			o.logger.Warn("redis unreachable at start; waiting for it", "error", err)
		} else if err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("redis: %w", err)
		}
		return st, client, nil
	}
	path := ""
	if c.Embedded != nil {
		path = c.Embedded.Path
	}
	if path == "" {
		dir, err := stateDir(o)
		if err != nil {
			return nil, nil, err
		}
		path = filepath.Join(dir, "state.db")
	}
	if o.readOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			st, err := emptyStore()
			return st, nil, err
		}
	}
	st, err := boltstore.Open(path, boltstore.Options{ReadOnly: o.readOnly})
	if err != nil {
		return nil, nil, fmt.Errorf("embedded store: %w", err)
	}
	return st, nil, nil
}

// emptyStore is a fresh store in a temporary directory, removed on Close:
// what preview reads when no state exists yet.
func emptyStore() (syndicate.Store, error) {
	dir, err := os.MkdirTemp("", "syndicate-preview-")
	if err != nil {
		return nil, fmt.Errorf("temporary store: %w", err)
	}
	st, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("temporary store: %w", err)
	}
	return tempStore{Store: st, dir: dir}, nil
}

type tempStore struct {
	*boltstore.Store
	dir string
}

func (t tempStore) Close() error {
	err := t.Store.Close()
	return errors.Join(err, os.RemoveAll(t.dir))
}

// stateDir is where state lives by default: $XDG_STATE_HOME/syndicate, else
// ~/.local/state/syndicate.
func stateDir(o buildOptions) (string, error) {
	if o.stateDir != "" {
		return o.stateDir, nil
	}
	if d := o.env.get("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "syndicate"), nil
	}
	home := o.env.get("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory: set store.embedded.path or XDG_STATE_HOME: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "syndicate"), nil
}

func workerID(configured string) string {
	if configured != "" {
		return configured
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// buildRoutes turns each configured route into one engine route per feed,
// since the backfill may differ from feed to feed.
func buildRoutes(cfg *config.Config, feeds []syndicate.Feed) ([]syndicate.Route, error) {
	enabled := map[string]bool{}
	for _, f := range feeds {
		enabled[f.ID] = true
	}
	var routes []syndicate.Route
	for i := range cfg.Routes {
		r := &cfg.Routes[i]
		inc, err := syndicate.CompileRegexps(r.Filter.IncludeRegexps)
		if err != nil {
			return nil, fmt.Errorf("routes[%d].filter.include_regexps: %w", i, err)
		}
		exc, err := syndicate.CompileRegexps(r.Filter.ExcludeRegexps)
		if err != nil {
			return nil, fmt.Errorf("routes[%d].filter.exclude_regexps: %w", i, err)
		}
		filter := syndicate.Filter{
			IncludeCategories: r.Filter.IncludeCategories, ExcludeCategories: r.Filter.ExcludeCategories,
			IncludeKeywords: r.Filter.IncludeKeywords, ExcludeKeywords: r.Filter.ExcludeKeywords,
			IncludeRegexps: inc, ExcludeRegexps: exc, Languages: r.Filter.Languages,
		}
		for _, id := range r.Feeds {
			if !enabled[id] {
				continue
			}
			routes = append(routes, syndicate.Route{
				Feeds: []string{id}, To: r.To, Backfill: cfg.Backfill(r, cfg.Feed(id)), Language: r.Language, Filter: filter,
			})
		}
	}
	return routes, nil
}

// policy maps a destination's delivery settings.
func policy(d config.Delivery) syndicate.Policy {
	return syndicate.Policy{MaxAttempts: d.MaxAttempts, MaxAge: d.MaxAge.D(), ResendAmbiguous: d.OnAmbiguous != "unknown"}
}

// downloader adapts the guarded media client to the bots' Downloader.
type downloader struct{ c *guard.Client }

func (d downloader) Download(ctx context.Context, url string) ([]byte, string, error) {
	resp, err := d.c.Get(ctx, url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("download %s: http %d", guard.Redact(url), resp.StatusCode)
	}
	data, err := guard.ReadAll(resp)
	if err != nil {
		return nil, "", err
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(data)
	}
	return data, strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]), nil
}
