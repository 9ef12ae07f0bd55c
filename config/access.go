package config

import "time"

// Feed returns the feed with this id, or nil.
func (c *Config) Feed(id string) *Feed {
	for i := range c.Feeds {
		if c.Feeds[i].ID == id {
			return &c.Feeds[i]
		}
	}
	return nil
}

// Bot returns the Telegram bot with this id, or nil.
func (c *Config) Bot(id string) *TelegramBot {
	for i := range c.Telegram.Bots {
		if c.Telegram.Bots[i].ID == id {
			return &c.Telegram.Bots[i]
		}
	}
	return nil
}

// Destination finds a destination id among Telegram channels and Mastodon
// accounts; kind is KindTelegram or KindMastodon, or "" when unknown.
func (c *Config) Destination(id string) (kind string, tg *TelegramChannel, md *MastodonAccount) {
	for i := range c.Telegram.Channels {
		if c.Telegram.Channels[i].ID == id {
			return KindTelegram, &c.Telegram.Channels[i], nil
		}
	}
	for i := range c.Mastodon.Accounts {
		if c.Mastodon.Accounts[i].ID == id {
			return KindMastodon, nil, &c.Mastodon.Accounts[i]
		}
	}
	return "", nil, nil
}

// FeedPollInterval is the effective poll interval of f.
func (c *Config) FeedPollInterval(f *Feed) time.Duration {
	return firstDuration(f.PollInterval, c.Defaults.PollInterval, defaultPollInterval).D()
}

// FeedMaxAge is the effective maximum item age of f.
func (c *Config) FeedMaxAge(f *Feed) time.Duration {
	return firstDuration(f.MaxAge, c.Defaults.MaxAge, defaultMaxAge).D()
}

// Backfill is how many of the newest items of f the route r posts at
// first sight: the route's value, else the feed's, else the default. Either
// argument may be nil.
func (c *Config) Backfill(r *Route, f *Feed) int {
	var bs []*int
	if r != nil {
		bs = append(bs, r.Backfill)
	}
	if f != nil {
		bs = append(bs, f.Backfill)
	}
	for _, b := range append(bs, c.Defaults.Backfill) {
		if b != nil {
			return *b
		}
	}
	return defaultBackfill
}

// DeliveryPolicy is the effective retry policy of a destination: its own
// delivery block over the top-level one, field by field.
func (c *Config) DeliveryPolicy(id string) Delivery {
	d := Delivery{}
	switch _, tg, md := c.Destination(id); {
	case tg != nil && tg.Delivery != nil:
		d = *tg.Delivery
	case md != nil && md.Delivery != nil:
		d = *md.Delivery
	}
	delivery(&d, c.Delivery)
	delivery(&d, defaultDelivery())
	return d
}

func firstDuration(ds ...Duration) Duration {
	for _, d := range ds {
		if d != 0 {
			return d
		}
	}
	return 0
}
