package main

import (
	"context"
	"fmt"

	"github.com/syndicate-bot/syndicate/bots/mastodon"
	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate"
)

// buildMastodon makes a publisher for every Mastodon account of the config.
func buildMastodon(cfg *config.Config, st syndicate.Store, dl downloader, o buildOptions) ([]destination, error) {
	var out []destination
	for i := range cfg.Mastodon.Accounts {
		acc := &cfg.Mastodon.Accounts[i]
		var links mastodon.TelegramLinks
		if id := acc.Format.TelegramChannel; id != "" {
			_, ch, _ := cfg.Destination(id)
			if ch == nil {
				return nil, fmt.Errorf("mastodon account %s: unknown telegram channel %q", acc.ID, id)
			}
			links = telegramLinks{store: st, destination: ch.ID, chat: ch.Chat}
		}
		ao := mastodon.AccountOptions{
			ID: acc.ID, Server: acc.Server, Token: acc.AccessToken.Value(),
			Format: mastodonFormat(acc.Format), Downloader: dl, TelegramLinks: links,
			Logger: o.logger, UserAgent: cfg.Network.UserAgent, HTTPClient: o.platforms,
		}
		if o.limiter != nil {
			ao.Limiter = mastodon.SharedLimiter(o.limiter, mastodon.LocalLimiterOptions{})
		}
		pub, err := mastodon.NewAccount(ao)
		if err != nil {
			return nil, fmt.Errorf("mastodon account %s: %w", acc.ID, err)
		}
		out = append(out, destination{
			Destination: syndicateDestination(cfg, acc.ID, pub),
			Label:       "Mastodon " + acc.Server,
		})
	}
	return out, nil
}

func mastodonFormat(f config.MastodonFormat) mastodon.Format {
	mf := mastodon.Format{
		Template:      f.Template,
		Visibility:    f.Visibility,
		SpoilerText:   f.SpoilerText,
		Sensitive:     f.Sensitive,
		Hashtags:      f.Hashtags,
		MaxHashtags:   f.MaxHashtags,
		ShareLinks:    f.ShareLinks,
		AllowMentions: f.AllowMentions,
		Images:        f.Images,
		ExcerptMax:    f.ExcerptMax,
	}
	if f.UTM != nil {
		mf.UTM = mastodon.UTM{Source: f.UTM.Source, Medium: f.UTM.Medium, Campaign: f.UTM.Campaign}
	}
	if !isFalse(f.Edits) {
		mf.EditWindow = f.EditWindow.D()
	}
	return mf
}

// telegramLinks finds the Telegram post of an article in the store, so a
// Mastodon status can link to it once it exists.
type telegramLinks struct {
	store       syndicate.Store
	destination string
	chat        string
}

func (l telegramLinks) TelegramURL(ctx context.Context, articleKey string) (string, error) {
	rec, ok, err := l.store.Get(ctx, l.destination, articleKey)
	if err != nil || !ok || rec.Status != syndicate.StatusSent || len(rec.MessageIDs) == 0 {
		return "", err
	}
	return mastodon.TelegramPostURL(l.chat, rec.MessageIDs[0]), nil
}
