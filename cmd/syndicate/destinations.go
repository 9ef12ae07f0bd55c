package main

import (
	"fmt"
	"maps"

	"github.com/syndicate-bot/syndicate/bots/telegram"
	"github.com/syndicate-bot/syndicate/config"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

// buildDestinations makes a publisher for every Telegram channel and
// Mastodon account of the config, in config order.
func buildDestinations(cfg *config.Config, st syndicate.Store, media *guard.Client, o buildOptions) ([]destination, error) {
	dl := downloader{c: media}
	bots := o.bots
	if bots == nil {
		bots = map[string]*telegram.Bot{}
	}
	var out []destination
	for i := range cfg.Telegram.Channels {
		ch := &cfg.Telegram.Channels[i]
		bot := bots[ch.Bot]
		if bot == nil {
			bc := cfg.Bot(ch.Bot)
			if bc == nil {
				return nil, fmt.Errorf("telegram channel %s: unknown bot %q", ch.ID, ch.Bot)
			}
			bo := telegram.BotOptions{
				ID: bc.ID, Token: bc.Token.Value(), APIURL: bc.APIURL, HTTPClient: o.platforms,
				PerSecond: deref(bc.PerSecond), Logger: o.logger,
			}
			if o.limiter != nil {
				bo.Limiter = telegram.SharedLimiter(o.limiter)
			}
			var err error
			bot, err = telegram.NewBot(bo)
			if err != nil {
				return nil, fmt.Errorf("telegram bot %s: %w", bc.ID, err)
			}
			bots[ch.Bot] = bot
		}
		pub, err := bot.Channel(telegram.ChannelOptions{
			ID: ch.ID, Chat: ch.Chat, Topic: ch.Topic, PerMinute: deref(ch.PerMinute),
			Format: telegramFormat(ch.Format), Downloader: dl,
		})
		if err != nil {
			return nil, fmt.Errorf("telegram channel %s: %w", ch.ID, err)
		}
		out = append(out, destination{
			Destination: syndicateDestination(cfg, ch.ID, pub),
			Label:       "Telegram " + ch.Chat,
		})
	}
	ms, err := buildMastodon(cfg, st, dl, o)
	if err != nil {
		return nil, err
	}
	return append(out, ms...), nil
}

// telegramFormat maps the config's options (where on-by-default options
// are pointers) to the renderer's (where they are No… flags).
func telegramFormat(f config.TelegramFormat) telegram.Format {
	tf := telegram.Format{
		Template:       f.Template,
		Image:          f.Image,
		NoLinkPreview:  isFalse(f.LinkPreview),
		Buttons:        f.Buttons,
		ButtonsPerRow:  f.ButtonsPerRow,
		ButtonLabels:   f.ButtonLabels,
		EmailShareURL:  f.EmailShareURL,
		ExcerptMax:     f.ExcerptMax,
		NoHashtags:     isFalse(f.Hashtags),
		MaxHashtags:    f.MaxHashtags,
		Silent:         f.Silent,
		ProtectContent: f.ProtectContent,
		NoDocuments:    isFalse(f.Documents),
		Album:          f.Album,
		AlbumButtons:   f.AlbumButtons,
		NoEdits:        isFalse(f.Edits),
		EditWindow:     f.EditWindow.D(),
	}
	if len(f.UTM) > 0 {
		tf.UTM = map[string]telegram.UTM{}
		for k, u := range maps.All(f.UTM) {
			tf.UTM[k] = telegram.UTM{Source: u.Source, Medium: u.Medium, Campaign: u.Campaign}
		}
	}
	return tf
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func isFalse(p *bool) bool { return p != nil && !*p }

func syndicateDestination(cfg *config.Config, id string, pub syndicate.Publisher) syndicate.Destination {
	return syndicate.Destination{ID: id, Publisher: pub, Policy: policy(cfg.DeliveryPolicy(id))}
}
