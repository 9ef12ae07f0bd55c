package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/syndicate"
)

const (
	testToken  = "123456:SECRET-token-value_abcdefgh"
	testChatID = -1001234567890
)

// fakeClock advances only when someone sleeps on it, so paced sends run
// without waiting.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept += d
	return nil
}

func (c *fakeClock) Slept() time.Duration { c.mu.Lock(); defer c.mu.Unlock(); return c.slept }

type fakeDownloader struct {
	mu    sync.Mutex
	data  map[string][]byte
	calls []string
}

func (d *fakeDownloader) Download(_ context.Context, url string) ([]byte, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, url)
	if b, ok := d.data[url]; ok {
		return b, "image/png", nil
	}
	return nil, "", errors.New("not found")
}

func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type env struct {
	srv   *telegramfake.Server
	bot   *Bot
	ch    *Channel
	clock *fakeClock
	dl    *fakeDownloader
	logs  *logBuffer
}

// logBuffer collects the publisher's logs for a test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type envOptions struct {
	format  Format
	chat    string
	topic   int64
	timeout time.Duration
	fake    telegramfake.Options
	limiter Limiter
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	clock := newFakeClock()
	fo := o.fake
	fo.Clock = clock
	fo.Tokens = []string{testToken}
	if fo.Chats == nil {
		fo.Chats = []telegramfake.Chat{{ID: testChatID, Username: "news_en", Title: "News"}}
	}
	srv := telegramfake.New(fo)
	t.Cleanup(srv.Close)
	if o.timeout == 0 {
		o.timeout = 10 * time.Second
	}
	logs := &logBuffer{}
	bot, err := NewBot(BotOptions{ID: "main", Token: testToken, APIURL: srv.URL(), Clock: clock,
		HTTPClient: &http.Client{Timeout: o.timeout}, Limiter: o.limiter, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if o.chat == "" {
		o.chat = "@news_en"
	}
	dl := &fakeDownloader{data: map[string][]byte{}}
	ch, err := bot.Channel(ChannelOptions{ID: "tg-en", Chat: o.chat, Topic: o.topic, Format: o.format, Downloader: dl})
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, bot: bot, ch: ch, clock: clock, dl: dl, logs: logs}
}

func job(it syndicate.Item) syndicate.Delivery {
	return syndicate.Delivery{Destination: "tg-en", ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it}
}

// checkNoToken fails when a token, or its secret half, leaks into err.
func checkNoToken(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if s := err.Error(); strings.Contains(s, testToken) || strings.Contains(s, "SECRET-token-value") {
		t.Fatalf("error reveals the token: %s", s)
	}
}

func kindOf(t *testing.T, err error) syndicate.ErrorKind {
	t.Helper()
	var de *syndicate.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("error %v is not a DeliveryError", err)
	}
	return de.Kind
}

func TestPublishPhotoPost(t *testing.T) {
	e := newEnv(t, envOptions{})
	it := loadItem(t, "en-news")
	r, err := e.ch.Publish(context.Background(), job(it))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.MessageIDs, ",") != "1" || r.URL != "https://t.me/news_en/1" || r.Remember != nil {
		t.Errorf("receipt %+v", r)
	}
	msgs := e.srv.Messages("@news_en")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.Media != it.Image.URL || !strings.HasPrefix(m.Caption, it.Title) || m.ReplyMarkup == nil || len(m.ReplyMarkup.InlineKeyboard) != 2 {
		t.Errorf("message %+v", m)
	}
	if m.CaptionEntities[0].Type != "bold" || m.CaptionEntities[1].URL != it.Link {
		t.Errorf("entities %+v", m.CaptionEntities)
	}
	if got, _ := e.ch.Preview(it); !strings.Contains(got, "[Read](https://news.example.org/") {
		t.Errorf("preview lacks the buttons:\n%s", got)
	}
}

func TestPublishOptions(t *testing.T) {
	forum := telegramfake.Options{Chats: []telegramfake.Chat{{ID: testChatID, Username: "news_en", Type: "supergroup", IsForum: true, Topics: []int64{7}}}}
	e := newEnv(t, envOptions{format: Format{Silent: true, ProtectContent: true, Image: ImagePreview}, topic: 7, fake: forum})
	if _, err := e.ch.Publish(context.Background(), job(loadItem(t, "en-news"))); err != nil {
		t.Fatal(err)
	}
	m := e.srv.Messages("@news_en")[0]
	if !m.Silent || !m.HasProtectedContent || m.MessageThreadID != 7 {
		t.Errorf("options not passed: silent %v protected %v topic %d", m.Silent, m.HasProtectedContent, m.MessageThreadID)
	}
	lp := m.LinkPreviewOptions
	if lp == nil || lp.URL != "https://news.example.org/wp-content/uploads/2026/05/court-1200x675.jpg" || !lp.PreferLargeMedia || !lp.ShowAboveText {
		t.Errorf("link preview %+v", lp)
	}
	off := newEnv(t, envOptions{format: Format{Image: ImageNone, NoLinkPreview: true}})
	if _, err := off.ch.Publish(context.Background(), job(loadItem(t, "en-news"))); err != nil {
		t.Fatal(err)
	}
	if lp := off.srv.Messages("@news_en")[0].LinkPreviewOptions; lp == nil || !lp.IsDisabled {
		t.Errorf("link preview not disabled: %+v", lp)
	}
}

func TestPublishErrorClasses(t *testing.T) {
	tests := []struct {
		name  string
		fault telegramfake.Fault
		kind  syndicate.ErrorKind
	}{
		{"server error", telegramfake.ServerError(502), syndicate.ErrTemporary},
		{"internal error", telegramfake.ServerError(500), syndicate.ErrTemporary},
		{"bad token", telegramfake.Unauthorized(), syndicate.ErrPermanentDestination},
		{"kicked", telegramfake.Kicked(), syndicate.ErrPermanentDestination},
		{"not a member", telegramfake.NotMember(), syndicate.ErrPermanentDestination},
		{"chat not found", telegramfake.ChatNotFound(), syndicate.ErrPermanentDestination},
		{"not enough rights", telegramfake.NotEnoughRights(), syndicate.ErrPermanentDestination},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.srv.Fail("sendPhoto", 1, tt.fault)
			it := loadItem(t, "en-news")
			_, err := e.ch.Publish(context.Background(), job(it))
			checkNoToken(t, err)
			if k := kindOf(t, err); k != tt.kind {
				t.Fatalf("kind %s, want %s (%v)", k, tt.kind, err)
			}
			if n := len(e.srv.Messages("@news_en")); n != 0 {
				t.Fatalf("%d messages after a failure", n)
			}
			// The engine retries (or resumes after the operator fixed the
			// destination): the item is delivered once.
			if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
				t.Fatal(err)
			}
			if n := len(e.srv.Messages("@news_en")); n != 1 {
				t.Fatalf("%d messages after the retry", n)
			}
		})
	}
}

func TestPublishNetworkErrorIsTemporary(t *testing.T) {
	bot, err := NewBot(BotOptions{ID: "main", Token: testToken, APIURL: "http://127.0.0.1:1", Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := bot.Channel(ChannelOptions{ID: "x", Chat: "@news_en"})
	_, err = ch.Publish(context.Background(), job(loadItem(t, "en-news")))
	checkNoToken(t, err)
	if k := kindOf(t, err); k != syndicate.ErrTemporary {
		t.Fatalf("kind %s (%v)", k, err)
	}
}

func TestPublishRateLimited(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.srv.Fail("sendPhoto", 1, telegramfake.TooManyRequests(7))
	it := loadItem(t, "en-news")
	_, err := e.ch.Publish(context.Background(), job(it))
	checkNoToken(t, err)
	var de *syndicate.DeliveryError
	if !errors.As(err, &de) || de.Kind != syndicate.ErrRateLimited || de.RetryAfter != 7*time.Second {
		t.Fatalf("error %v, want rate limited for 7s", err)
	}
	before := e.clock.Now()
	if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
		t.Fatal(err)
	}
	// The chat was held back until retry_after passed, then delivered once.
	if waited := e.clock.Now().Sub(before); waited < 7*time.Second-time.Millisecond {
		t.Errorf("sent again after %s, before retry_after", waited)
	}
	if n := len(e.srv.Messages("@news_en")); n != 1 {
		t.Errorf("%d messages", n)
	}
}

func TestRateLimitHoldsOnlyThatChat(t *testing.T) {
	e := newEnv(t, envOptions{fake: telegramfake.Options{Chats: []telegramfake.Chat{
		{ID: testChatID, Username: "news_en", Title: "News"},
		{ID: testChatID - 1, Username: "news_ar", Title: "Arabic"},
	}}})
	other, err := e.bot.Channel(ChannelOptions{ID: "tg-ar", Chat: "@news_ar", Downloader: e.dl})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.FailChat("@news_en", "sendPhoto", 1, telegramfake.TooManyRequests(30))
	it := loadItem(t, "en-news")
	if _, err := e.ch.Publish(context.Background(), job(it)); kindOf(t, err) != syndicate.ErrRateLimited {
		t.Fatalf("first post: %v, want rate limited", err)
	}
	before := e.clock.Now()
	if _, err := other.Publish(context.Background(), job(it)); err != nil {
		t.Fatal(err)
	}
	if waited := e.clock.Now().Sub(before); waited >= 30*time.Second {
		t.Errorf("the other chat waited %s for the first chat's 429", waited)
	}
	if n := len(e.srv.Messages("@news_ar")); n != 1 {
		t.Errorf("other chat has %d messages, want 1", n)
	}
}

func TestPublishAmbiguousTimeout(t *testing.T) {
	e := newEnv(t, envOptions{timeout: 300 * time.Millisecond})
	e.srv.Fail("sendPhoto", 1, telegramfake.HangAfterStore())
	_, err := e.ch.Publish(context.Background(), job(loadItem(t, "en-news")))
	checkNoToken(t, err)
	if k := kindOf(t, err); k != syndicate.ErrAmbiguous {
		t.Fatalf("kind %s (%v), want ambiguous", k, err)
	}
	// Telegram did post it: the engine's policy must decide, not a blind retry.
	if n := len(e.srv.Messages("@news_en")); n != 1 {
		t.Errorf("%d messages stored", n)
	}
}

func TestPublishFollowsMigration(t *testing.T) {
	const newID = -1009999
	e := newEnv(t, envOptions{chat: fmt.Sprint(testChatID)})
	e.srv.MigrateChat(testChatID, newID)
	r, err := e.ch.Publish(context.Background(), job(loadItem(t, "en-news")))
	if err != nil {
		t.Fatal(err)
	}
	if r.Remember["chat_id"] != fmt.Sprint(newID) {
		t.Errorf("receipt %+v does not remember the new chat", r)
	}
	if n := len(e.srv.Messages(fmt.Sprint(newID))); n != 1 {
		t.Errorf("%d messages in the new chat", n)
	}
	// A restarted publisher, given the remembered id, goes straight there.
	bot2, _ := NewBot(BotOptions{ID: "main", Token: testToken, APIURL: e.srv.URL(), Clock: e.clock})
	ch2, _ := bot2.Channel(ChannelOptions{ID: "tg-en", Chat: fmt.Sprint(testChatID)})
	ch2.Restore(r.Remember)
	calls := len(e.srv.Calls())
	if _, err := ch2.Publish(context.Background(), job(loadItem(t, "sq-article"))); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Calls()) - calls; n != 1 {
		t.Errorf("%d calls after restore, want 1", n)
	}
}

func TestPublishFallsBackToPlainText(t *testing.T) {
	for _, desc := range []string{
		"Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3",
		telegramfake.MessageTooLong,
		telegramfake.CaptionTooLong,
	} {
		e := newEnv(t, envOptions{})
		e.srv.Fail("sendPhoto", 1, telegramfake.BadRequest(desc))
		it := loadItem(t, "ar-article")
		if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		msgs := e.srv.Messages("@news_en")
		p, _ := Render(it, Format{})
		if len(msgs) != 1 || msgs[0].ParseMode != "" || msgs[0].Caption != p.Plain {
			t.Errorf("%s: not delivered as plain text: %+v", desc, msgs)
		}
	}
	// When even the plain text is refused, the item is parked.
	e := newEnv(t, envOptions{})
	e.srv.Fail("sendPhoto", 2, telegramfake.BadRequest(telegramfake.CaptionTooLong))
	_, err := e.ch.Publish(context.Background(), job(loadItem(t, "en-news")))
	if k := kindOf(t, err); k != syndicate.ErrPermanentItem {
		t.Errorf("kind %s", k)
	}
}

func TestPublishButtonRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.srv.Fail("sendPhoto", 1, telegramfake.BadRequest("Bad Request: BUTTON_URL_INVALID"))
	if _, err := e.ch.Publish(context.Background(), job(loadItem(t, "en-news"))); err != nil {
		t.Fatal(err)
	}
	if m := e.srv.Messages("@news_en"); len(m) != 1 || m[0].ReplyMarkup != nil || m[0].ParseMode != "HTML" {
		t.Errorf("not sent without buttons: %+v", m)
	}
}

func TestPublishMediaFallbacks(t *testing.T) {
	it := loadItem(t, "en-news")
	t.Run("unfetchable URL is downloaded and uploaded", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		e.srv.RejectURL(it.Image.URL, telegramfake.FailedToGetURL)
		e.dl.data[it.Image.URL] = pngOf(t, 1200, 675)
		if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
			t.Fatal(err)
		}
		m := e.srv.Messages("@news_en")
		if len(m) != 1 || m[0].Media != "upload:court-1200x675.jpg" || m[0].Photo[0].Width != 1200 {
			t.Errorf("not uploaded: %+v", m)
		}
	})
	t.Run("download fails: text with preview", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		e.srv.RejectURL(it.Image.URL, telegramfake.WrongFileIdentifier)
		if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
			t.Fatal(err)
		}
		assertTextWithPreview(t, e, it.Image.URL)
	})
	t.Run("downloaded image outside the photo limits: text with preview", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		e.srv.RejectURL(it.Image.URL, telegramfake.FileTooBig)
		e.dl.data[it.Image.URL] = pngOf(t, 9995, 10)
		if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
			t.Fatal(err)
		}
		assertTextWithPreview(t, e, it.Image.URL)
	})
	t.Run("invalid dimensions: text with preview, no download", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		e.srv.RejectURL(it.Image.URL, telegramfake.InvalidDimensions)
		e.dl.data[it.Image.URL] = pngOf(t, 100, 100)
		if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
			t.Fatal(err)
		}
		assertTextWithPreview(t, e, it.Image.URL)
		if len(e.dl.calls) != 0 {
			t.Errorf("downloaded %v", e.dl.calls)
		}
	})
}

func assertTextWithPreview(t *testing.T, e *env, image string) {
	t.Helper()
	m := e.srv.Messages("@news_en")
	if len(m) != 1 || m[0].Text == "" || m[0].Photo != nil || m[0].ReplyMarkup == nil {
		t.Fatalf("not a text post with buttons: %+v", m)
	}
	if lp := m[0].LinkPreviewOptions; lp == nil || lp.URL != image || !lp.PreferLargeMedia || !lp.ShowAboveText {
		t.Errorf("preview %+v", lp)
	}
}

func TestPublishAlbum(t *testing.T) {
	it := loadItem(t, "photo-gallery")
	e := newEnv(t, envOptions{format: Format{Album: true, AlbumButtons: true}})
	r, err := e.ch.Publish(context.Background(), job(it))
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.Messages("@news_en")
	if len(msgs) != 11 || len(r.MessageIDs) != 11 {
		t.Fatalf("%d messages, receipt %v", len(msgs), r.MessageIDs)
	}
	for i, m := range msgs[:10] {
		if m.MediaGroupID == "" || (i == 0) != (m.Caption != "") {
			t.Errorf("album item %d: group %q caption %q", i, m.MediaGroupID, m.Caption)
		}
	}
	if msgs[10].ReplyMarkup == nil || msgs[10].Text == "" {
		t.Errorf("follow-up %+v", msgs[10])
	}
	plain := newEnv(t, envOptions{format: Format{Album: true}})
	if _, err := plain.ch.Publish(context.Background(), job(it)); err != nil {
		t.Fatal(err)
	}
	if n := len(plain.srv.Messages("@news_en")); n != 10 {
		t.Errorf("album without follow-up: %d messages", n)
	}
}

func TestPublishDocument(t *testing.T) {
	it := loadItem(t, "newsletter-pdf")
	pdf := it.Attachments[0].URL
	e := newEnv(t, envOptions{})
	r, err := e.ch.Publish(context.Background(), job(it))
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.Messages("@news_en")
	if len(msgs) != 2 || msgs[1].Document == nil || msgs[1].Media != pdf || len(r.MessageIDs) != 2 {
		t.Fatalf("messages %+v receipt %v", msgs, r.MessageIDs)
	}
	// Telegram cannot fetch it: downloaded and uploaded.
	e2 := newEnv(t, envOptions{})
	e2.srv.RejectURL(pdf, telegramfake.FailedToGetURL)
	e2.dl.data[pdf] = []byte("%PDF-1.4 newsletter")
	if _, err := e2.ch.Publish(context.Background(), job(it)); err != nil {
		t.Fatal(err)
	}
	if m := e2.srv.Messages("@news_en"); len(m) != 2 || m[1].Media != "upload:newsletter-214.pdf" {
		t.Fatalf("messages %+v", m)
	}
	// A document that cannot be sent at all does not fail the post.
	e3 := newEnv(t, envOptions{})
	e3.srv.RejectURL(pdf, telegramfake.FailedToGetURL)
	r3, err := e3.ch.Publish(context.Background(), job(it))
	if err != nil || len(r3.MessageIDs) != 1 {
		t.Fatalf("receipt %v, error %v", r3.MessageIDs, err)
	}
}

func editJob(it syndicate.Item, ids []string) syndicate.Delivery {
	j := job(it)
	j.Kind, j.MessageIDs = syndicate.JobEdit, ids
	return j
}

func TestEdit(t *testing.T) {
	t.Run("photo post: new title and image", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		it := loadItem(t, "en-news")
		r, err := e.ch.Publish(context.Background(), job(it))
		if err != nil {
			t.Fatal(err)
		}
		it.Title = "Court upholds sentences (updated)"
		it.Image.URL = "https://news.example.org/new.jpg"
		r2, err := e.ch.Publish(context.Background(), editJob(it, r.MessageIDs))
		if err != nil {
			t.Fatal(err)
		}
		m := e.srv.Messages("@news_en")
		if len(m) != 1 || m[0].Edits != 1 || m[0].Media != it.Image.URL || !strings.HasPrefix(m[0].Caption, it.Title) {
			t.Errorf("not edited in place: %+v", m)
		}
		if len(e.srv.CallsTo("editMessageMedia")) != 1 || strings.Join(r2.MessageIDs, ",") != "1" {
			t.Errorf("calls %v receipt %v", len(e.srv.CallsTo("editMessageMedia")), r2)
		}
		// The same again is "not modified": success, nothing changes.
		if _, err := e.ch.Publish(context.Background(), editJob(it, r.MessageIDs)); err != nil {
			t.Fatalf("not modified: %v", err)
		}
		if m := e.srv.Messages("@news_en"); m[0].Edits != 1 {
			t.Errorf("edits %d", m[0].Edits)
		}
		// A new image Telegram cannot fetch: the caption is edited.
		it.Title = "Third title"
		it.Image.URL = "https://news.example.org/broken.jpg"
		e.srv.RejectURL(it.Image.URL, telegramfake.FailedToGetURL)
		if _, err := e.ch.Publish(context.Background(), editJob(it, r.MessageIDs)); err != nil {
			t.Fatal(err)
		}
		if m := e.srv.Messages("@news_en"); !strings.HasPrefix(m[0].Caption, "Third title") || len(e.srv.CallsTo("editMessageCaption")) != 1 {
			t.Errorf("caption not edited: %+v", m[0])
		}
	})
	t.Run("text post", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		it := loadItem(t, "youtube-video")
		r, err := e.ch.Publish(context.Background(), job(it))
		if err != nil {
			t.Fatal(err)
		}
		it.Summary = "A corrected summary."
		if _, err := e.ch.Publish(context.Background(), editJob(it, r.MessageIDs)); err != nil {
			t.Fatal(err)
		}
		if m := e.srv.Messages("@news_en"); !strings.Contains(m[0].Text, "A corrected summary.") || m[0].Edits != 1 {
			t.Errorf("text not edited: %+v", m[0])
		}
	})
	t.Run("photo post that fell back to text", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		it := loadItem(t, "en-news")
		e.srv.RejectURL(it.Image.URL, telegramfake.InvalidDimensions)
		r, err := e.ch.Publish(context.Background(), job(it))
		if err != nil {
			t.Fatal(err)
		}
		it.Title = "Updated"
		if _, err := e.ch.Publish(context.Background(), editJob(it, r.MessageIDs)); err != nil {
			t.Fatal(err)
		}
		if m := e.srv.Messages("@news_en"); len(m) != 1 || !strings.HasPrefix(m[0].Text, "Updated") {
			t.Errorf("not edited: %+v", m)
		}
	})
	t.Run("message gone", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		_, err := e.ch.Publish(context.Background(), editJob(loadItem(t, "youtube-video"), []string{"42"}))
		if k := kindOf(t, err); k != syndicate.ErrPermanentItem {
			t.Errorf("kind %s", k)
		}
	})
}

func TestEditWindow(t *testing.T) {
	if w := newEnv(t, envOptions{}).ch.EditWindow(); w != 48*time.Hour {
		t.Errorf("default window %s", w)
	}
	if w := newEnv(t, envOptions{format: Format{NoEdits: true, EditWindow: time.Hour}}).ch.EditWindow(); w != 0 {
		t.Errorf("edits off: window %s", w)
	}
	if w := newEnv(t, envOptions{format: Format{EditWindow: time.Hour}}).ch.EditWindow(); w != time.Hour {
		t.Errorf("window %s", w)
	}
}

// TestFlood sends 60 items to one channel through a fake that enforces
// Telegram's 20 messages per minute: the limiter paces them so that no
// call is refused, in order, and the fake clock makes it instant.
func TestFlood(t *testing.T) {
	e := newEnv(t, envOptions{format: Format{Image: ImageNone}})
	base := loadItem(t, "youtube-video")
	for i := range 60 {
		it := base
		it.Title = fmt.Sprintf("Item %02d", i)
		it.Link = fmt.Sprintf("https://news.example.org/%d/", i)
		if _, err := e.ch.Publish(context.Background(), job(it)); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	for _, c := range e.srv.Calls() {
		if c.Code == http.StatusTooManyRequests {
			t.Fatalf("Telegram had to refuse a call: %+v", c.Description)
		}
	}
	msgs := e.srv.Messages("@news_en")
	if len(msgs) != 60 {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, m := range msgs {
		if !strings.HasPrefix(m.Text, fmt.Sprintf("Item %02d", i)) {
			t.Fatalf("message %d is %q: out of order", i, m.Text[:10])
		}
	}
	// 60 posts at 20 a minute take at least two minutes of (fake) time.
	if e.clock.Slept() < 2*time.Minute {
		t.Errorf("paced over only %s", e.clock.Slept())
	}
}

// noWait is a limiter that lets everything through, to show that the
// fake does refuse a flood.
type noWait struct{}

func (noWait) Wait(context.Context, ...Limit) error { return nil }
func (noWait) Start(context.Context, ...Limit) (func(), error) {
	return func() {}, nil
}
func (noWait) Block(string, time.Time) {}

func TestFloodWithoutPacingIsRefused(t *testing.T) {
	e := newEnv(t, envOptions{format: Format{Image: ImageNone}, limiter: noWait{}})
	var limited int
	for i := range 25 {
		it := loadItem(t, "youtube-video")
		it.Link = fmt.Sprintf("https://news.example.org/%d/", i)
		_, err := e.ch.Publish(context.Background(), job(it))
		if err != nil && kindOf(t, err) == syndicate.ErrRateLimited {
			limited++
		}
	}
	if limited != 5 {
		t.Errorf("%d of 25 unpaced posts refused, want 5", limited)
	}
}

func TestLocalLimiterWindow(t *testing.T) {
	clock := newFakeClock()
	l := NewLocalLimiter(clock)
	chat := Limit{Key: "k", Rate: Rate{Events: 20, Per: time.Minute, Burst: 3}}
	var times []time.Time
	for range 100 {
		if err := l.Wait(context.Background(), chat); err != nil {
			t.Fatal(err)
		}
		times = append(times, clock.Now())
	}
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < time.Minute; j++ {
			n++
		}
		if n > 20 {
			t.Fatalf("%d calls within a minute from call %d", n, i)
		}
	}
	if !times[2].Equal(times[0]) || times[3].Equal(times[0]) {
		t.Errorf("the burst of 3 did not go at once, alone")
	}
	l.Block("k", clock.Now().Add(time.Hour))
	before := clock.Now()
	_ = l.Wait(context.Background(), chat)
	if clock.Now().Sub(before) < time.Hour {
		t.Errorf("block not honoured")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, chat); err == nil {
		t.Errorf("Wait ignores a cancelled context")
	}
}
