package config

import "time"

// The defaults, as documented on the fields in types.go.
const (
	defaultRetention       = Duration(2160 * time.Hour)
	defaultKeyPrefix       = "syndicate"
	defaultDialTimeout     = Duration(5 * time.Second)
	defaultOpTimeout       = Duration(3 * time.Second)
	defaultPollInterval    = Duration(10 * time.Minute)
	defaultMaxAge          = Duration(72 * time.Hour)
	defaultBackfill        = 0
	defaultFetchTimeout    = Duration(30 * time.Second)
	defaultFeedMaxBytes    = Size(10 << 20)
	defaultMediaMaxBytes   = Size(20 << 20)
	defaultMaxRedirects    = 5
	defaultTelegramAPIURL  = "https://api.telegram.org"
	defaultBotPerSecond    = 30.0
	defaultChatPerMinute   = 20.0
	defaultImage           = "photo"
	defaultButtonsPerRow   = 3
	defaultMaxHashtags     = 5
	defaultEditWindow      = Duration(48 * time.Hour)
	defaultVisibility      = "public"
	defaultImages          = 1
	defaultMaxAttempts     = 10
	defaultDeliveryMaxAge  = Duration(24 * time.Hour)
	defaultOnAmbiguous     = "resend"
	defaultLogLevel        = "info"
	defaultLogFormat       = "text"
	defaultConcurrency     = 4
	defaultPerHost         = 2
	defaultJitter          = 0.1
	defaultShutdownTimeout = Duration(20 * time.Second)
	defaultLease           = Duration(2 * time.Minute)
	// MinPollInterval is the shortest poll interval allowed, to stay polite
	// to the site.
	MinPollInterval = Duration(30 * time.Second)
)

// defaultButtons returns a fresh slice so that channels never share one.
func defaultButtons() []string {
	return []string{"read", "telegram", "whatsapp", "x", "facebook"}
}

// defaultDelivery is the retry policy when the file sets none.
func defaultDelivery() Delivery {
	return Delivery{MaxAttempts: defaultMaxAttempts, MaxAge: defaultDeliveryMaxAge, OnAmbiguous: defaultOnAmbiguous}
}

// userAgent is the default User-Agent for a build version.
func userAgent(version string) string {
	return "syndicate/" + version + " (+https://github.com/syndicate-bot/syndicate)"
}

func orDuration(d *Duration, def Duration) {
	if *d == 0 {
		*d = def
	}
}

func orString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func orInt(i *int, def int) {
	if *i == 0 {
		*i = def
	}
}

func orPtr[T any](p **T, def T) {
	if *p == nil {
		*p = &def
	}
}

// applyDefaults fills every unset field with its default, so that users
// of the config read effective values; per-feed and per-destination
// values inherit from the file's own defaults first.
func applyDefaults(c *Config, version string) {
	s := &c.Store
	if s.Redis == nil && s.Embedded == nil {
		s.Embedded = &Embedded{}
	}
	orDuration(&s.Retention, defaultRetention)
	if r := s.Redis; r != nil {
		orString(&r.KeyPrefix, defaultKeyPrefix)
		orDuration(&r.DialTimeout, defaultDialTimeout)
		orDuration(&r.OpTimeout, defaultOpTimeout)
	}

	df := &c.Defaults
	orDuration(&df.PollInterval, defaultPollInterval)
	orDuration(&df.MaxAge, defaultMaxAge)
	orPtr(&df.Backfill, defaultBackfill)

	n := &c.Network
	orString(&n.UserAgent, userAgent(version))
	limits(&n.Feeds, defaultFeedMaxBytes, true)
	limits(&n.Media, defaultMediaMaxBytes, false)

	for i := range c.Feeds {
		f := &c.Feeds[i]
		orDuration(&f.PollInterval, df.PollInterval)
		orDuration(&f.MaxAge, df.MaxAge)
		orPtr(&f.Backfill, *df.Backfill)
		orPtr(&f.PageImage, true)
	}

	for i := range c.Telegram.Bots {
		b := &c.Telegram.Bots[i]
		orString(&b.APIURL, defaultTelegramAPIURL)
		orPtr(&b.PerSecond, defaultBotPerSecond)
	}
	delivery(&c.Delivery, defaultDelivery())
	for i := range c.Telegram.Channels {
		ch := &c.Telegram.Channels[i]
		if ch.Bot == "" && len(c.Telegram.Bots) == 1 {
			ch.Bot = c.Telegram.Bots[0].ID
		}
		orPtr(&ch.PerMinute, defaultChatPerMinute)
		f := &ch.Format
		orString(&f.Image, defaultImage)
		orPtr(&f.LinkPreview, true)
		if f.Buttons == nil {
			f.Buttons = defaultButtons()
		}
		orInt(&f.ButtonsPerRow, defaultButtonsPerRow)
		orPtr(&f.Hashtags, true)
		orInt(&f.MaxHashtags, defaultMaxHashtags)
		orPtr(&f.Documents, true)
		orPtr(&f.Edits, true)
		orDuration(&f.EditWindow, defaultEditWindow)
		orPtr(&ch.Delivery, Delivery{})
		delivery(ch.Delivery, c.Delivery)
	}
	for i := range c.Mastodon.Accounts {
		a := &c.Mastodon.Accounts[i]
		f := &a.Format
		orString(&f.Visibility, defaultVisibility)
		orPtr(&f.Hashtags, true)
		orInt(&f.MaxHashtags, defaultMaxHashtags)
		orPtr(&f.Images, defaultImages)
		orPtr(&f.Edits, true)
		orDuration(&f.EditWindow, defaultEditWindow)
		orPtr(&a.Delivery, Delivery{})
		delivery(a.Delivery, c.Delivery)
	}

	orString(&c.Log.Level, defaultLogLevel)
	orString(&c.Log.Format, defaultLogFormat)
	orInt(&c.Worker.Concurrency, defaultConcurrency)
	orInt(&c.Worker.PerHost, defaultPerHost)
	orDuration(&c.Push.Lease, Duration(7*24*time.Hour))
	orDuration(&c.Push.PollInterval, Duration(time.Hour))
	if c.Push.MaxBody == 0 {
		c.Push.MaxBody = 1 << 20
	}
	orPtr(&c.Worker.Spread, true)
	orPtr(&c.Worker.StartSpread, Duration(time.Minute))
	orPtr(&c.Worker.Jitter, defaultJitter)
	orDuration(&c.Worker.ShutdownTimeout, defaultShutdownTimeout)
	orDuration(&c.Worker.Lease, defaultLease)
}

func limits(l *Limits, maxBytes Size, allowPrivate bool) {
	orDuration(&l.Timeout, defaultFetchTimeout)
	if l.MaxBytes == 0 {
		l.MaxBytes = maxBytes
	}
	orPtr(&l.MaxRedirects, defaultMaxRedirects)
	orPtr(&l.AllowPrivate, allowPrivate)
}

// delivery fills the unset fields of d from def, field by field.
func delivery(d *Delivery, def Delivery) {
	orInt(&d.MaxAttempts, def.MaxAttempts)
	orDuration(&d.MaxAge, def.MaxAge)
	orString(&d.OnAmbiguous, def.OnAmbiguous)
}
