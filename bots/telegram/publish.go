package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// Defaults of the pacing Telegram asks bots to keep.
const (
	DefaultPerSecond = 30
	DefaultPerMinute = 20
	chatBurst        = 3
	botBurst         = 10
	defaultTimeout   = 60 * time.Second
)

// BotOptions configure one bot token.
type BotOptions struct {
	ID    string
	Token string
	// APIURL points at a Bot API server (default https://api.telegram.org).
	APIURL string
	// HTTPClient makes the calls (default: Go's default transport); a zero
	// Timeout means 60 s per call.
	HTTPClient *http.Client
	// PerSecond caps this bot's calls over all its chats (default 30).
	PerSecond float64
	// Limiter paces calls (default: an in-process limiter on Clock).
	Limiter Limiter
	Logger  *slog.Logger
	Clock   Clock
}

// Bot is one bot token; its channels share its client and its limit.
type Bot struct {
	id      string
	token   string
	api     *tgbot.Bot
	limiter Limiter
	rate    Rate
	log     *slog.Logger
	clock   Clock
	// me is the bot's own user, for the pre-flight checks.
	me identity
}

// NewBot prepares a bot without contacting Telegram.
func NewBot(o BotOptions) (*Bot, error) {
	if o.Token == "" {
		return nil, fmt.Errorf("telegram bot %s: empty token", o.ID)
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Limiter == nil {
		o.Limiter = NewLocalLimiter(o.Clock)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.HTTPClient.Timeout <= 0 {
		// A copy, so that the caller's client, shared by several bots or
		// platforms, keeps its own settings.
		hc := *o.HTTPClient
		hc.Timeout = defaultTimeout
		o.HTTPClient = &hc
	}
	if o.PerSecond <= 0 {
		o.PerSecond = DefaultPerSecond
	}
	opts := []tgbot.Option{
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(o.HTTPClient.Timeout, traced{client: o.HTTPClient}),
		tgbot.WithErrorsHandler(func(error) {}),
		tgbot.WithDebugHandler(func(string, ...any) {}),
	}
	if o.APIURL != "" {
		opts = append(opts, tgbot.WithServerURL(strings.TrimRight(o.APIURL, "/")))
	}
	api, err := tgbot.New(o.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram bot %s: %s", o.ID, redact(err.Error(), o.Token))
	}
	return &Bot{
		id: o.ID, token: o.Token, api: api, limiter: o.Limiter,
		rate: Rate{Events: o.PerSecond, Per: time.Second, Burst: botBurst},
		log:  o.Logger.With("bot", o.ID), clock: o.Clock,
	}, nil
}

// ChannelOptions configure one destination chat of a bot.
type ChannelOptions struct {
	// ID is the destination id from the configuration.
	ID string
	// Chat is a numeric chat id (-100…) or @username.
	Chat string
	// Topic is a forum topic (message_thread_id); 0 for none.
	Topic int64
	// PerMinute caps posts to this chat (default 20).
	PerMinute  float64
	Format     Format
	Downloader Downloader
}

// Channel publishes to one chat. It implements syndicate.Publisher,
// syndicate.Restorer and syndicate.Editor and is safe for concurrent use.
//
// Delivery guarantee: a post is reported only after Telegram confirmed
// the main message. Telegram has no idempotency keys, so a call that timed
// out after it was sent is reported as ErrAmbiguous and the engine's
// policy decides whether to resend it (at-least-once) or not. Follow-up
// messages (documents, the buttons of an album) are best effort: their
// failure is logged and never makes the engine post the article again.
type Channel struct {
	bot  *Bot
	opts ChannelOptions
	log  *slog.Logger

	mu       sync.Mutex
	chat     string
	migrated bool
}

var (
	_ syndicate.Publisher = (*Channel)(nil)
	_ syndicate.Restorer  = (*Channel)(nil)
	_ syndicate.Editor    = (*Channel)(nil)
)

// Channel returns the publisher of one chat.
func (b *Bot) Channel(o ChannelOptions) (*Channel, error) {
	if o.Chat == "" {
		return nil, fmt.Errorf("telegram channel %s: empty chat", o.ID)
	}
	if !strings.HasPrefix(o.Chat, "@") {
		if _, err := strconv.ParseInt(o.Chat, 10, 64); err != nil {
			return nil, fmt.Errorf("telegram channel %s: chat %q is neither a numeric id nor @username", o.ID, o.Chat)
		}
	}
	if err := o.Format.Validate(); err != nil {
		return nil, fmt.Errorf("telegram channel %s: %w", o.ID, err)
	}
	if o.PerMinute <= 0 {
		o.PerMinute = DefaultPerMinute
	}
	return &Channel{bot: b, opts: o, chat: o.Chat, log: b.log.With("destination", o.ID)}, nil
}

// Restore takes back the facts remembered from earlier posts: the id a
// chat migrated to.
func (c *Channel) Restore(values map[string]string) {
	if id := values["chat_id"]; id != "" {
		c.mu.Lock()
		c.chat, c.migrated = id, true
		c.mu.Unlock()
	}
}

// EditWindow is how long after posting an article's changes are edited
// into the post; zero when edits are off.
func (c *Channel) EditWindow() time.Duration {
	if c.opts.Format.NoEdits {
		return 0
	}
	if c.opts.Format.EditWindow > 0 {
		return c.opts.Format.EditWindow
	}
	return defaultEditWindow
}

// Preview renders the item as Publish would send it.
func (c *Channel) Preview(item syndicate.Item) (string, error) {
	p, err := c.Render(item)
	if err != nil {
		return "", err
	}
	return p.Preview(), nil
}

// Render is the post Publish would send for item, so that a preview can
// show it as the channel's readers would see it.
func (c *Channel) Render(item syndicate.Item) (Post, error) {
	return Render(item, c.opts.Format)
}

func (c *Channel) currentChat() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chat, c.migrated
}

func (c *Channel) chatID() any {
	chat, _ := c.currentChat()
	if id, err := strconv.ParseInt(chat, 10, 64); err == nil {
		return id
	}
	return chat
}

// Publish posts the item, or edits the earlier post for an edit job.
func (c *Channel) Publish(ctx context.Context, job syndicate.Delivery) (syndicate.Receipt, error) {
	p, err := Render(job.Item, c.opts.Format)
	if err != nil {
		return syndicate.Receipt{}, &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: err}
	}
	if job.Kind == syndicate.JobEdit && len(job.MessageIDs) > 0 {
		return c.edit(ctx, p, job.MessageIDs, toUpload(job.Item))
	}
	// The post that went out may be a fallback (an album that became a
	// photo or text post carries its buttons itself), so follow-ups depend on it.
	p, up := c.uploadsFor(ctx, p, toUpload(job.Item))
	p, ids, err := c.sendMain(ctx, p, up)
	if err != nil {
		return syndicate.Receipt{}, err
	}
	if p.Method == MethodAlbum && p.FollowUpText != "" && len(p.Keyboard) > 0 {
		if id, err := c.followUp(ctx, "sendMessage", func(ctx context.Context) (int, error) {
			m, err := c.bot.api.SendMessage(ctx, c.messageParams(p.FollowUpText, false, &LinkPreview{Disabled: true}, p.Keyboard))
			return messageID(m), err
		}); err == nil {
			ids = append(ids, id)
		}
	}
	r := c.receipt(ids)
	for _, d := range p.Documents {
		if id, err := c.sendDocument(ctx, d); err == nil {
			r.MessageIDs = append(r.MessageIDs, documentID(id, d.URL))
		}
	}
	return r, nil
}

func messageID(m *models.Message) int {
	if m == nil {
		return 0
	}
	return m.ID
}

func (c *Channel) receipt(ids []int) syndicate.Receipt {
	r := syndicate.Receipt{}
	for _, id := range ids {
		r.MessageIDs = append(r.MessageIDs, strconv.Itoa(id))
	}
	chat, migrated := c.currentChat()
	if strings.HasPrefix(chat, "@") && len(ids) > 0 {
		r.URL = "https://t.me/" + strings.TrimPrefix(chat, "@") + "/" + strconv.Itoa(ids[0])
	}
	if migrated && !strings.HasPrefix(chat, "@") {
		r.Remember = map[string]string{"chat_id": chat}
	}
	return r
}

// call paces one Bot API call, makes it and classifies its failure. On a
// 429 it holds this chat back until Telegram's retry_after. Telegram does
// not say whether a flood limit was the chat's or the bot's; blocking the
// chat keeps the bot's other chats flowing, and if the whole bot was
// limited each of its chats meets one 429 and holds itself back.
func (c *Channel) call(ctx context.Context, method string, do func(context.Context) error) *apiError {
	chat, _ := c.currentChat()
	// The call counts under its chat and its bot at once, right before it
	// is made, so that neither limit counts it long before it reaches
	// Telegram; the chat, full more often, is asked first.
	chatRate := Rate{Events: c.opts.PerMinute, Per: time.Minute, Burst: chatBurst}
	done, err := c.bot.limiter.Start(ctx, Limit{Key: "tg:chat:" + chat, Rate: chatRate}, Limit{Key: "tg:bot:" + c.bot.id, Rate: c.bot.rate})
	if err != nil {
		return &apiError{kind: syndicate.ErrTemporary, msg: method + ": waiting for the rate limits: " + err.Error()}
	}
	cctx, info := withCallInfo(ctx)
	err = do(cctx)
	done()
	if err == nil {
		return nil
	}
	e := classify(method, err, info, c.bot.token)
	if e.kind == syndicate.ErrRateLimited {
		c.bot.limiter.Block("tg:chat:"+chat, c.bot.clock.Now().Add(e.retryAfter))
		c.log.Warn("telegram rate limited", "method", method, "retry_after", e.retryAfter)
	}
	return e
}

// migrate follows a chat that moved to a new id.
func (c *Channel) migrate(to int64) {
	c.mu.Lock()
	from := c.chat
	c.chat, c.migrated = strconv.FormatInt(to, 10), true
	c.mu.Unlock()
	c.log.Warn("telegram chat migrated", "from", from, "to", to)
}

// uploads are the downloaded images that replace the URLs of a post
// Telegram could not fetch: the photo of a photo post, or the images of an
// album (those that could be downloaded and are valid photos).
type uploads struct {
	photo []byte
	album []photo
}

// sendMain sends the post's main message, falling back rather than losing
// the article: plain text when Telegram refuses the markup, no buttons
// when it refuses a button, an upload when it cannot fetch the image, and
// a text post with a link preview when the image cannot be sent at all.
// An album Telegram cannot fetch is uploaded without the images that
// cannot be downloaded; with fewer than two left it becomes a photo post.
// It starts with the uploads prepared by uploadsFor and returns the post as
// finally sent.
func (c *Channel) sendMain(ctx context.Context, p Post, up uploads) (Post, []int, error) {
	plain, noKeyboard := false, false
	// What was uploaded from the start is not downloaded again on a refusal.
	uploadTried := up.photo != nil || (len(up.album) > 0 && !slices.ContainsFunc(up.album, func(ph photo) bool { return ph.data == nil }))
	for range 10 {
		ids, e := c.sendOnce(ctx, p, plain, noKeyboard, up)
		if e == nil {
			return p, ids, nil
		}
		switch {
		case e.act == actMigrated:
			c.migrate(e.migrateTo)
			continue
		case e.act == actPlain && !plain:
			c.log.Warn("telegram refused the post, sending plain text", "error", e.msg)
			plain = true
			continue
		case e.act == actNoKeyboard && !noKeyboard:
			c.log.Warn("telegram refused a button, sending without buttons", "error", e.msg)
			noKeyboard = true
			continue
		case e.act == actMedia && p.Method == MethodAlbum && !uploadTried:
			// Telegram does not say which image it refused, so every image
			// is downloaded; one with bad dimensions is dropped by the check.
			uploadTried = true
			photos := c.downloadAlbum(ctx, p.Album)
			switch {
			case len(photos) >= 2:
				c.log.Warn("telegram could not take the album, uploading it", "error", e.msg, "photos", len(photos), "dropped", len(p.Album)-len(photos))
				up = uploads{album: photos}
				continue
			case len(photos) == 1:
				c.log.Warn("telegram could not take the album and one image is left, uploading it as a photo", "error", e.msg, "url", photos[0].url)
				p, up = p.asPhotoPost(photos[0].url), uploads{photo: photos[0].data}
				continue
			}
			c.log.Warn("telegram could not take the album and no image can be uploaded, sending text with a link preview", "error", e.msg)
			p, up = p.AsTextPost(c.opts.Format.NoLinkPreview), uploads{}
			continue
		case e.act == actMedia && p.Method == MethodPhoto && !uploadTried && !e.imageInvalid():
			uploadTried = true
			ph, err := c.download(ctx, p.Photo)
			if err == nil {
				c.log.Warn("telegram could not fetch the photo, uploading it", "error", e.msg)
				up = uploads{photo: ph.data}
				continue
			}
			c.log.Warn("photo cannot be uploaded, sending text with a link preview", "error", e.msg, "reason", err.Error())
			p, up = p.AsTextPost(c.opts.Format.NoLinkPreview), uploads{}
			continue
		case e.act == actMedia && p.Method != MethodMessage:
			c.log.Warn("telegram could not take the image, sending text with a link preview", "error", e.msg)
			p, up = p.AsTextPost(c.opts.Format.NoLinkPreview), uploads{}
			continue
		}
		return p, nil, e.delivery()
	}
	return p, nil, &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: errors.New("telegram: too many fallbacks")}
}

// uploadsFor downloads, before the first call, the images Telegram is not
// to fetch by URL (see byURL). An image that cannot be uploaded either
// leaves the post: a photo post becomes a text post, an album goes on
// without it (a photo post when one image is left).
func (c *Channel) uploadsFor(ctx context.Context, p Post, upload map[string]bool) (Post, uploads) {
	switch {
	case p.Method == MethodPhoto && upload[p.Photo]:
		ph, err := c.download(ctx, p.Photo)
		if err != nil {
			c.log.Warn("photo is not for telegram to fetch and cannot be uploaded, sending text", "reason", err.Error())
			return p.AsTextPost(c.opts.Format.NoLinkPreview), uploads{}
		}
		return p, uploads{photo: ph.data}
	case p.Method == MethodAlbum:
		var kept []photo
		uploaded := false
		for _, u := range p.Album {
			if !upload[u] {
				kept = append(kept, photo{url: u})
				continue
			}
			ph, err := c.download(ctx, u)
			if err != nil {
				c.log.Warn("album image is not for telegram to fetch and cannot be uploaded, leaving it out", "reason", err.Error())
				continue
			}
			kept = append(kept, ph)
			uploaded = true
		}
		switch {
		case !uploaded && len(kept) == len(p.Album):
			return p, uploads{}
		case len(kept) >= 2:
			q := p
			q.Album = nil
			for _, ph := range kept {
				q.Album = append(q.Album, ph.url)
			}
			return q, uploads{album: kept}
		case len(kept) == 1:
			return p.asPhotoPost(kept[0].url), uploads{photo: kept[0].data}
		}
		return p.AsTextPost(c.opts.Format.NoLinkPreview), uploads{}
	}
	return p, uploads{}
}

// download fetches and checks a photo for upload.
func (c *Channel) download(ctx context.Context, url string) (photo, error) {
	if c.opts.Downloader == nil {
		return photo{}, errors.New("no downloader configured")
	}
	data, _, err := c.opts.Downloader.Download(ctx, url)
	if err != nil {
		return photo{}, fmt.Errorf("download %s: %w", url, err)
	}
	format, err := checkPhoto(data)
	if err != nil {
		return photo{}, fmt.Errorf("photo %s: %w", url, err)
	}
	return photo{url: url, data: data, format: format}, nil
}

// downloadAlbum downloads the images of an album in order, leaving out
// those that cannot be downloaded or that Telegram would refuse.
func (c *Channel) downloadAlbum(ctx context.Context, urls []string) []photo {
	var out []photo
	for _, u := range urls {
		if ctx.Err() != nil {
			return nil
		}
		ph, err := c.download(ctx, u)
		if err != nil {
			c.log.Warn("album image cannot be uploaded, leaving it out", "url", u, "error", err.Error())
			continue
		}
		out = append(out, ph)
	}
	return out
}

func (c *Channel) sendOnce(ctx context.Context, p Post, plain, noKeyboard bool, up uploads) ([]int, *apiError) {
	text := p.Text
	if plain {
		text = p.Plain
	}
	kb := p.Keyboard
	if noKeyboard || p.Method == MethodAlbum {
		kb = nil
	}
	var ids []int
	var e *apiError
	switch p.Method {
	case MethodMessage:
		e = c.call(ctx, "sendMessage", func(ctx context.Context) error {
			m, err := c.bot.api.SendMessage(ctx, c.messageParams(text, plain, p.LinkPreview, kb))
			ids = []int{messageID(m)}
			return err
		})
	case MethodPhoto:
		params := &tgbot.SendPhotoParams{
			ChatID: c.chatID(), MessageThreadID: int(c.opts.Topic),
			Photo: &models.InputFileString{Data: p.Photo}, Caption: text,
			DisableNotification: p.Silent, ProtectContent: p.Protect, ReplyMarkup: markup(kb),
		}
		if up.photo != nil {
			params.Photo = &models.InputFileUpload{Filename: fileName(p.Photo, "photo.jpg"), Data: bytes.NewReader(up.photo)}
		}
		if !plain {
			params.ParseMode = models.ParseModeHTML
		}
		e = c.call(ctx, "sendPhoto", func(ctx context.Context) error {
			m, err := c.bot.api.SendPhoto(ctx, params)
			ids = []int{messageID(m)}
			return err
		})
	case MethodAlbum:
		e = c.call(ctx, "sendMediaGroup", func(ctx context.Context) error {
			// The media are built for each request: an upload's reader is
			// consumed by the request that carries it.
			ms, err := c.bot.api.SendMediaGroup(ctx, &tgbot.SendMediaGroupParams{
				ChatID: c.chatID(), MessageThreadID: int(c.opts.Topic), Media: albumMedia(p, text, plain, up.album),
				DisableNotification: p.Silent, ProtectContent: p.Protect,
			})
			ids = nil
			for _, m := range ms {
				ids = append(ids, messageID(m))
			}
			return err
		})
	default:
		return nil, &apiError{kind: syndicate.ErrPermanentItem, msg: "unknown post method " + string(p.Method)}
	}
	return ids, e
}

// albumMedia lists the items of an album, the caption on the first: the
// image URLs, or, when there are uploads, those photos, each an attach://
// part or (without data) its URL.
func albumMedia(p Post, text string, plain bool, uploaded []photo) []models.InputMedia {
	n := len(p.Album)
	if len(uploaded) > 0 {
		n = len(uploaded)
	}
	media := make([]models.InputMedia, 0, n)
	for i := range n {
		im := &models.InputMediaPhoto{}
		switch {
		case len(uploaded) == 0:
			im.Media = p.Album[i]
		case uploaded[i].data == nil:
			im.Media = uploaded[i].url
		default:
			name := uploaded[i].attachName(i + 1)
			im.Media, im.MediaAttachment = "attach://"+name, bytes.NewReader(uploaded[i].data)
		}
		if i == 0 {
			im.Caption = text
			if !plain {
				im.ParseMode = models.ParseModeHTML
			}
		}
		media = append(media, im)
	}
	return media
}

func (c *Channel) messageParams(text string, plain bool, lp *LinkPreview, kb [][]Button) *tgbot.SendMessageParams {
	f := c.opts.Format
	params := &tgbot.SendMessageParams{
		ChatID: c.chatID(), MessageThreadID: int(c.opts.Topic), Text: text,
		LinkPreviewOptions:  previewOptions(lp),
		DisableNotification: f.Silent, ProtectContent: f.ProtectContent, ReplyMarkup: markup(kb),
	}
	if !plain {
		params.ParseMode = models.ParseModeHTML
	}
	return params
}

func previewOptions(lp *LinkPreview) *models.LinkPreviewOptions {
	if lp == nil {
		return nil
	}
	t := true
	if lp.Disabled {
		return &models.LinkPreviewOptions{IsDisabled: &t}
	}
	o := &models.LinkPreviewOptions{}
	if lp.URL != "" {
		u := lp.URL
		o.URL = &u
	}
	if lp.PreferLarge {
		o.PreferLargeMedia = &t
	}
	if lp.AboveText {
		o.ShowAboveText = &t
	}
	return o
}

func markup(kb [][]Button) models.ReplyMarkup {
	if len(kb) == 0 {
		return nil
	}
	rows := make([][]models.InlineKeyboardButton, len(kb))
	for i, row := range kb {
		for _, b := range row {
			rows[i] = append(rows[i], models.InlineKeyboardButton{Text: b.Text, URL: b.URL})
		}
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

// followUp makes a best-effort call after the main message: it waits out
// one 429 and follows a migration, and only logs other failures.
func (c *Channel) followUp(ctx context.Context, method string, do func(context.Context) (int, error)) (int, error) {
	var id int
	for range 3 {
		e := c.call(ctx, method, func(ctx context.Context) error {
			var err error
			id, err = do(ctx)
			return err
		})
		switch {
		case e == nil:
			return id, nil
		case e.kind == syndicate.ErrRateLimited:
			continue // call waits for the block to pass
		case e.act == actMigrated:
			c.migrate(e.migrateTo)
			continue
		}
		c.log.Warn("telegram follow-up message failed", "method", method, "error", e.msg)
		return 0, e
	}
	return 0, errors.New(method + ": gave up")
}

// sendDocument sends a PDF after the post: by URL, else downloaded and
// uploaded within Telegram's limit.
func (c *Channel) sendDocument(ctx context.Context, d Document) (int, error) {
	params := func(file models.InputFile) *tgbot.SendDocumentParams {
		return &tgbot.SendDocumentParams{
			ChatID: c.chatID(), MessageThreadID: int(c.opts.Topic), Document: file,
			Caption: d.Caption, ParseMode: models.ParseModeHTML,
			DisableNotification: c.opts.Format.Silent, ProtectContent: c.opts.Format.ProtectContent,
		}
	}
	id, err := c.followUp(ctx, "sendDocument", func(ctx context.Context) (int, error) {
		m, err := c.bot.api.SendDocument(ctx, params(&models.InputFileString{Data: d.URL}))
		return messageID(m), err
	})
	var e *apiError
	if err == nil || !errors.As(err, &e) || e.act != actMedia || c.opts.Downloader == nil {
		return id, err
	}
	data, _, derr := c.opts.Downloader.Download(ctx, d.URL)
	if derr != nil || len(data) > maxDocumentUpload {
		c.log.Warn("document cannot be uploaded", "url", d.URL, "error", fmt.Sprint(derr), "bytes", len(data))
		return 0, err
	}
	return c.followUp(ctx, "sendDocument", func(ctx context.Context) (int, error) {
		m, err := c.bot.api.SendDocument(ctx, params(&models.InputFileUpload{Filename: d.FileName, Data: bytes.NewReader(data)}))
		return messageID(m), err
	})
}
