package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"

	"github.com/syndicate-bot/syndicate/bots/telegram"
	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate"
)

// reloadConfig re-reads the config file and puts its feeds, routes and
// destinations in force in the running engine. A file that does not
// validate changes nothing: each problem is logged as validate prints it.
// Settings that only a restart can change (store, worker, network, push,
// log) are kept as they run, with a warning.
func reloadConfig(ctx context.Context, a *app, path string, env env, logger *slog.Logger) error {
	cfg, err := loadConfig(path, env)
	if err != nil {
		var errs *config.Errors
		if errors.As(err, &errs) {
			for _, p := range errs.Problems {
				logger.Error("config reload refused; the running config stays", "problem", p.String())
			}
		} else {
			logger.Error("config reload refused; the running config stays", "file", path, "error", err)
		}
		return fmt.Errorf("reload %s: %w", path, err)
	}
	for _, s := range restartOnly(a.cfg, cfg) {
		logger.Warn("config reload: this section needs a restart to change; keeping the running one", "section", s)
	}
	feeds := engineFeeds(cfg)
	dests, err := a.rebuildDestinations(cfg)
	if err != nil {
		logger.Error("config reload refused; the running config stays", "file", path, "error", err)
		return fmt.Errorf("reload %s: %w", path, err)
	}
	routes, err := buildRoutes(cfg, feeds)
	if err != nil {
		logger.Error("config reload refused; the running config stays", "file", path, "error", err)
		return fmt.Errorf("reload %s: %w", path, err)
	}
	list := make([]syndicate.Destination, 0, len(dests))
	for _, d := range dests {
		list = append(list, d.Destination)
	}
	ch, err := a.engine.Reconfigure(ctx, syndicate.Config{Feeds: feeds, Routes: routes, Destinations: list})
	if err != nil {
		logger.Error("config reload refused; the running config stays", "file", path, "error", err)
		return fmt.Errorf("reload %s: %w", path, err)
	}
	// The parts that need a restart stay as they run.
	cfg.Store, cfg.Worker, cfg.Network, cfg.Push, cfg.Log = a.cfg.Store, a.cfg.Worker, a.cfg.Network, a.cfg.Push, a.cfg.Log
	a.cfg = cfg
	a.dests = map[string]destination{}
	for _, d := range dests {
		a.dests[d.ID] = d
	}
	logger.Info("config reloaded", "file", path, "feeds", len(feeds), "destinations", len(list), "routes", len(cfg.Routes),
		"feeds_added", ch.FeedsAdded, "feeds_removed", ch.FeedsRemoved,
		"destinations_added", ch.DestinationsAdded, "destinations_removed", ch.DestinationsRemoved)
	return nil
}

// restartOnly names the sections that differ between the running config
// and a new one but are built into the running process.
func restartOnly(running, next *config.Config) []string {
	var out []string
	for _, s := range []struct {
		name      string
		old, next any
	}{
		{"store", running.Store, next.Store},
		{"worker", running.Worker, next.Worker},
		{"network", running.Network, next.Network},
		{"push", running.Push, next.Push},
		{"log", running.Log, next.Log},
	} {
		if !reflect.DeepEqual(s.old, s.next) {
			out = append(out, s.name)
		}
	}
	return out
}

// rebuildDestinations builds the destinations of cfg, keeping the running
// publisher of each destination whose settings did not change (and the
// running bot of each unchanged Telegram bot), so that their pacing and
// what they learnt carry on.
func (a *app) rebuildDestinations(cfg *config.Config) ([]destination, error) {
	o := a.opts
	o.bots = map[string]*telegram.Bot{}
	for id, b := range a.bots {
		if reflect.DeepEqual(a.cfg.Bot(id), cfg.Bot(id)) {
			o.bots[id] = b
		}
	}
	dests, err := buildDestinations(cfg, a.store, a.media, o)
	if err != nil {
		return nil, err
	}
	for i, d := range dests {
		if old, ok := a.dests[d.ID]; ok && sameDestination(a.cfg, cfg, d.ID) {
			dests[i].Publisher = old.Publisher
		}
	}
	a.bots = o.bots
	return dests, nil
}

// sameDestination reports whether a destination's settings are the same
// in both configs.
func sameDestination(old, next *config.Config, id string) bool {
	_, oldCh, oldAcc := old.Destination(id)
	_, ch, acc := next.Destination(id)
	// The delivery policy is the engine's, not the publisher's.
	switch {
	case oldCh != nil && ch != nil:
		a, b := *oldCh, *ch
		a.Delivery, b.Delivery = nil, nil
		return reflect.DeepEqual(a, b) && reflect.DeepEqual(old.Bot(ch.Bot), next.Bot(ch.Bot))
	case oldAcc != nil && acc != nil:
		a, b := *oldAcc, *acc
		a.Delivery, b.Delivery = nil, nil
		if !reflect.DeepEqual(a, b) || old.Network.UserAgent != next.Network.UserAgent {
			return false
		}
		if link := acc.Format.TelegramChannel; link != "" {
			_, was, _ := old.Destination(link)
			_, is, _ := next.Destination(link)
			return was != nil && is != nil && was.Chat == is.Chat
		}
		return true
	}
	return false
}
