package mastodon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/syndicate"
)

const testToken = "test-token"

// fakeClock is a settable clock shared by the client and the fake server.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sleep advances the fake clock instead of waiting.
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.Advance(d)
	return nil
}

func pngImage(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.NRGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// downloader serves images from memory.
type downloader struct {
	mu    sync.Mutex
	files map[string][]byte
	calls int
}

func (d *downloader) Download(_ context.Context, url string) ([]byte, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if b, ok := d.files[url]; ok {
		return b, "", nil
	}
	return pngImage(64, 48), "image/png", nil
}

type failingDownloader struct{}

func (failingDownloader) Download(context.Context, string) ([]byte, string, error) {
	return nil, "", errors.New("refused: private address")
}

type env struct {
	srv   *mastodonfake.Server
	clock *fakeClock
	acct  *Account
	logs  *bytes.Buffer
}

func newEnv(t *testing.T, so mastodonfake.Options, ao AccountOptions) *env {
	t.Helper()
	clock := newClock()
	so.Now = clock.Now
	srv := mastodonfake.New(so)
	t.Cleanup(srv.Close)
	logs := &bytes.Buffer{}
	ao.ID = "masto"
	ao.Server = srv.URL()
	if ao.Token == "" {
		ao.Token = testToken
	}
	ao.Now = clock.Now
	ao.Sleep = clock.Sleep
	ao.Logger = slog.New(slog.NewTextHandler(logs, nil))
	if ao.Downloader == nil {
		ao.Downloader = &downloader{files: map[string][]byte{}}
	}
	if ao.Limiter == nil {
		ao.Limiter = NewLocalLimiter(LocalLimiterOptions{Now: clock.Now, NoWait: true})
	}
	if ao.CallTimeout == 0 {
		ao.CallTimeout = 5 * time.Second
	}
	acct, err := NewAccount(ao)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if errs := srv.SpecErrors(); len(errs) > 0 {
			t.Errorf("requests outside the API description: %v", errs)
		}
		if strings.Contains(logs.String(), testToken) {
			t.Errorf("token in logs")
		}
	})
	return &env{srv: srv, clock: clock, acct: acct, logs: logs}
}

func job(it syndicate.Item) syndicate.Delivery {
	return syndicate.Delivery{Destination: "masto", ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it}
}

func kindOf(err error) syndicate.ErrorKind {
	k, _ := syndicate.Classify(err)
	return k
}

func TestPublishPostsStatus(t *testing.T) {
	e := newEnv(t, mastodonfake.Options{MediaProcessing: 2}, AccountOptions{})
	it := loadItems(t)["en-news"]
	r, err := e.acct.Publish(context.Background(), job(it))
	if err != nil {
		t.Fatal(err)
	}
	sts := e.srv.Statuses()
	if len(sts) != 1 {
		t.Fatalf("%d statuses", len(sts))
	}
	st := sts[0]
	if r.MessageIDs[0] != st.ID || r.URL != st.URL {
		t.Errorf("receipt %+v for status %s %s", r, st.ID, st.URL)
	}
	want, _ := Render(it, Format{}, DefaultLimits())
	if st.Text != want.Text || st.Visibility != "public" || st.Language != "en" {
		t.Errorf("status %q %s %s", st.Text, st.Visibility, st.Language)
	}
	if len(st.Media) != 1 || st.Media[0].Description != "Teachers holding banners march along a wide avenue" {
		t.Errorf("media %+v", st.Media)
	}
	if st.IdempotencyKey != IdempotencyKey(job(it)) {
		t.Errorf("idempotency key %q", st.IdempotencyKey)
	}
	if len(st.Mentions) != 0 {
		t.Errorf("mentions %v", st.Mentions)
	}
	// Media was polled until processed before the status was posted.
	var seq []string
	for _, r := range e.srv.Requests() {
		seq = append(seq, fmt.Sprintf("%s:%d", r.Endpoint, r.Status))
	}
	got := strings.Join(seq, " ")
	wantSeq := "GET /api/v2/instance:200 GET /.well-known/nodeinfo:200 GET /nodeinfo/{version}:200 POST /api/v2/media:202 GET /api/v1/media/{id}:206 GET /api/v1/media/{id}:206 GET /api/v1/media/{id}:200 POST /api/v1/statuses:200"
	if got != wantSeq {
		t.Errorf("requests\n got %s\nwant %s", got, wantSeq)
	}
}

func TestPublishRetryAfterTimeoutMakesOneStatus(t *testing.T) {
	// Go's transport resends a POST carrying an Idempotency-Key once when
	// a reused connection breaks, so a dropped connection is injected twice.
	for name, faults := range map[string][]mastodonfake.Fault{
		"dropped": {{DropAfterCreate: true}, {DropAfterCreate: true}},
		"timeout": {{HangAfterCreate: true}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, mastodonfake.Options{}, AccountOptions{CallTimeout: 300 * time.Millisecond})
			e.srv.Fail("POST /api/v1/statuses", faults...)
			j := job(loadItems(t)["en-news"])
			_, err := e.acct.Publish(context.Background(), j)
			if kindOf(err) != syndicate.ErrTemporary {
				t.Fatalf("first attempt: %v, want temporary", err)
			}
			if len(e.srv.Statuses()) != 1 {
				t.Fatalf("the fake did not create the status")
			}
			j.Attempts = 1
			e.clock.Advance(time.Minute)
			r, err := e.acct.Publish(context.Background(), j)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			sts := e.srv.Statuses()
			if len(sts) != 1 || r.MessageIDs[0] != sts[0].ID {
				t.Fatalf("%d statuses, receipt %v", len(sts), r)
			}
			uploads := 0
			for _, r := range e.srv.Requests() {
				if r.Endpoint == "POST /api/v2/media" {
					uploads++
				}
			}
			if uploads != 1 {
				t.Errorf("image uploaded %d times", uploads)
			}
		})
	}
}

func TestPublishAmbiguousWhenKeyExpires(t *testing.T) {
	e := newEnv(t, mastodonfake.Options{}, AccountOptions{CallTimeout: 300 * time.Millisecond})
	j := job(loadItems(t)["sq-article"])
	e.srv.Fail("POST /api/v1/statuses", mastodonfake.Fault{Status: 503})
	if _, err := e.acct.Publish(context.Background(), j); kindOf(err) != syndicate.ErrTemporary {
		t.Fatalf("503: %v", err)
	}
	e.clock.Advance(56 * time.Minute)
	e.srv.Fail("POST /api/v1/statuses", mastodonfake.Fault{HangAfterCreate: true})
	j.Attempts = 1
	_, err := e.acct.Publish(context.Background(), j)
	if kindOf(err) != syndicate.ErrAmbiguous {
		t.Fatalf("timeout 56 minutes after the first attempt: %v, want ambiguous", err)
	}
	if !strings.Contains(e.logs.String(), "idempotency key is about to expire") {
		t.Error("ambiguity not logged")
	}
	// The engine's "resend" policy retries: the status found among the
	// account's latest is reported instead of posting again.
	e.clock.Advance(2 * time.Hour)
	j.Attempts = 2
	if _, err := e.acct.Publish(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Statuses()); n != 1 {
		t.Errorf("%d statuses", n)
	}
}

func TestPublishErrorClasses(t *testing.T) {
	tests := []struct {
		name  string
		fault mastodonfake.Fault
		want  syndicate.ErrorKind
		// reason must appear in the error (what the operator reads).
		reason string
	}{
		{"500", mastodonfake.Fault{Status: 500}, syndicate.ErrTemporary, "500"},
		{"503", mastodonfake.Fault{Status: 503}, syndicate.ErrTemporary, "503"},
		{"401", mastodonfake.Fault{Status: 401}, syndicate.ErrPermanentDestination, "access token rejected"},
		{"403", mastodonfake.Fault{Status: 403}, syndicate.ErrPermanentDestination, "may not post"},
		{"410", mastodonfake.Fault{Status: 410}, syndicate.ErrPermanentDestination, "gone"},
		{"422", mastodonfake.Fault{Status: 422, Error: "Validation failed: Language is not supported"}, syndicate.ErrPermanentItem, "Language is not supported"},
		{"429", mastodonfake.Fault{Status: 429}, syndicate.ErrRateLimited, "rate limited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, mastodonfake.Options{}, AccountOptions{})
			j := job(loadItems(t)["fa-article"])
			e.srv.Fail("POST /api/v1/statuses", tt.fault)
			_, err := e.acct.Publish(context.Background(), j)
			if kindOf(err) != tt.want {
				t.Fatalf("%v: kind %v, want %v", err, kindOf(err), tt.want)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q lacks %q", err, tt.reason)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Error("token in error")
			}
			if k, d := syndicate.Classify(err); k == syndicate.ErrRateLimited && d <= 0 {
				t.Errorf("rate limited without a wait")
			}
			if tt.want == syndicate.ErrTemporary || tt.want == syndicate.ErrRateLimited {
				_, d := syndicate.Classify(err)
				e.clock.Advance(d + time.Second)
				j.Attempts = 1
				if _, err := e.acct.Publish(context.Background(), j); err != nil {
					t.Fatalf("retry: %v", err)
				}
				if n := len(e.srv.Statuses()); n != 1 {
					t.Errorf("%d statuses after retry", n)
				}
			}
		})
	}
}

func TestPublishMediaNotReadyWaits(t *testing.T) {
	e := newEnv(t, mastodonfake.Options{}, AccountOptions{})
	e.srv.Fail("POST /api/v1/statuses", mastodonfake.Fault{Status: 422, Error: "Cannot attach files that have not finished processing. Try again in a moment!"})
	if _, err := e.acct.Publish(context.Background(), job(loadItems(t)["en-news"])); err != nil {
		t.Fatal(err)
	}
	sts := e.srv.Statuses()
	if len(sts) != 1 || len(sts[0].Media) != 1 {
		t.Fatalf("statuses %+v", sts)
	}
}

func TestPublishReRendersWhenServerLimitShrank(t *testing.T) {
	e := newEnv(t, mastodonfake.Options{MaxCharacters: 5000}, AccountOptions{Format: Format{ShareLinks: []string{"x"}, ExcerptMax: 10000}})
	items := loadItems(t)
	if _, err := e.acct.Publish(context.Background(), job(items["huge-body"])); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Statuses()[0].Text; len([]rune(n)) < 1000 {
		t.Errorf("limit 5000 not used: %d runes", len([]rune(n)))
	}
	e.srv.SetMaxCharacters(300)
	if _, err := e.acct.Publish(context.Background(), job(items["en-news"])); err != nil {
		t.Fatal(err)
	}
	st := e.srv.Statuses()[1]
	if n := mastodonfake.Length(st.SpoilerText, st.Text, 23); n > 300 {
		t.Errorf("length %d", n)
	}
	if e.srv.CountStatus(422) != 1 {
		t.Errorf("%d refusals, want 1", e.srv.CountStatus(422))
	}
}

func TestPublishGoToSocial(t *testing.T) {
	e := newEnv(t, mastodonfake.Options{Flavour: mastodonfake.FlavourGoToSocial, MaxCharacters: 500},
		AccountOptions{Format: Format{ShareLinks: []string{"whatsapp", "x", "facebook", "telegram"}}, CallTimeout: time.Second})
	items := loadItems(t)
	j := job(items["ar-article"])
	if _, err := e.acct.Publish(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	st := e.srv.Statuses()[0]
	if st.Visibility != "public" {
		t.Errorf("visibility %q: must be sent explicitly", st.Visibility)
	}
	// Identified by NodeInfo, it is counted as it counts: no refusal.
	if n := e.srv.CountStatus(400); n != 0 {
		t.Errorf("%d refusals", n)
	}
	if n := mastodonfake.CodePointLength(st.SpoilerText, st.Text); n > 500 || n < 400 {
		t.Errorf("status of %d code points for a limit of 500", n)
	}
	// The server ignores Idempotency-Key: a retry after a lost answer
	// finds the status instead of posting twice.
	j2 := job(items["sq-article"])
	e.srv.Fail("POST /api/v1/statuses", mastodonfake.Fault{DropAfterCreate: true})
	if _, err := e.acct.Publish(context.Background(), j2); kindOf(err) != syndicate.ErrTemporary {
		t.Fatalf("lost answer: %v", err)
	}
	j2.Attempts = 1
	if _, err := e.acct.Publish(context.Background(), j2); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Statuses()); n != 2 {
		t.Errorf("%d statuses, want 2", n)
	}
}

func TestPublishBurstSpreadsUnderCaps(t *testing.T) {
	e := newEnv(t, mastodonfake.Options{}, AccountOptions{})
	start := e.clock.Now()
	base := loadItems(t)["en-news"]
	for i := range 150 {
		it := base
		it.Link = fmt.Sprintf("https://news.example.org/2026/03/14/item-%d/", i)
		it.Title = fmt.Sprintf("Item %d", i)
		img := *base.Image
		img.URL = fmt.Sprintf("https://news.example.org/img/%d.png", i)
		it.Image = &img
		j := job(it)
		for tries := 0; ; tries++ {
			if tries > 100 {
				t.Fatalf("item %d never delivered", i)
			}
			_, err := e.acct.Publish(context.Background(), j)
			if err == nil {
				break
			}
			k, d := syndicate.Classify(err)
			if k != syndicate.ErrRateLimited {
				t.Fatalf("item %d: %v", i, err)
			}
			e.clock.Advance(d)
		}
	}
	if n := e.srv.CountStatus(http.StatusTooManyRequests); n != 0 {
		t.Errorf("%d answers 429", n)
	}
	sts := e.srv.Statuses()
	if len(sts) != 150 {
		t.Fatalf("%d statuses", len(sts))
	}
	for _, st := range sts {
		if len(st.Media) != 1 {
			t.Fatalf("status %s without its image: a burst must wait, not drop images", st.ID)
		}
	}
	// 150 uploads at 30 per 30 minutes need at least four more windows.
	if el := e.clock.Now().Sub(start); el < 2*time.Hour {
		t.Errorf("burst took %s: not spread", el)
	}
	var uploads []time.Time
	for _, r := range e.srv.Requests() {
		if r.Endpoint == "POST /api/v2/media" {
			uploads = append(uploads, r.At)
		}
	}
	for i := range uploads {
		n := 0
		for _, u := range uploads[i:] {
			if u.Sub(uploads[i]) < 30*time.Minute {
				n++
			}
		}
		if n > 30 {
			t.Fatalf("%d uploads within 30 minutes from %s", n, uploads[i])
		}
	}
}

func TestPublishMediaFailuresStillPost(t *testing.T) {
	t.Run("download refused", func(t *testing.T) {
		e := newEnv(t, mastodonfake.Options{}, AccountOptions{Downloader: failingDownloader{}})
		if _, err := e.acct.Publish(context.Background(), job(loadItems(t)["en-news"])); err != nil {
			t.Fatal(err)
		}
		if sts := e.srv.Statuses(); len(sts) != 1 || len(sts[0].Media) != 0 {
			t.Fatalf("statuses %+v", sts)
		}
		if !strings.Contains(e.logs.String(), "without an image") || !strings.Contains(e.logs.String(), "private address") {
			t.Errorf("reason not logged: %s", e.logs)
		}
	})
	t.Run("not an image", func(t *testing.T) {
		d := &downloader{files: map[string][]byte{"https://news.example.org/wp-content/uploads/2026/03/march-teachers.jpg": []byte("<html>login</html>")}}
		e := newEnv(t, mastodonfake.Options{}, AccountOptions{Downloader: d})
		if _, err := e.acct.Publish(context.Background(), job(loadItems(t)["en-news"])); err != nil {
			t.Fatal(err)
		}
		if sts := e.srv.Statuses(); len(sts) != 1 || len(sts[0].Media) != 0 {
			t.Fatalf("statuses %+v", sts)
		}
	})
	t.Run("converted for the server", func(t *testing.T) {
		e := newEnv(t, mastodonfake.Options{SupportedMIMETypes: []string{"image/jpeg"}, ImageMatrixLimit: 1000}, AccountOptions{})
		if _, err := e.acct.Publish(context.Background(), job(loadItems(t)["en-news"])); err != nil {
			t.Fatal(err)
		}
		sts := e.srv.Statuses()
		if len(sts) != 1 || len(sts[0].Media) != 1 || sts[0].Media[0].ContentType != "image/jpeg" || sts[0].Media[0].Width*sts[0].Media[0].Height > 1000 {
			t.Fatalf("statuses %+v", sts)
		}
	})
	t.Run("server refuses the file", func(t *testing.T) {
		e := newEnv(t, mastodonfake.Options{}, AccountOptions{})
		e.srv.Fail("POST /api/v2/media", mastodonfake.Fault{Status: 422, Error: "Validation failed: File content type is invalid, File is invalid"})
		if _, err := e.acct.Publish(context.Background(), job(loadItems(t)["en-news"])); err != nil {
			t.Fatal(err)
		}
		if sts := e.srv.Statuses(); len(sts) != 1 || len(sts[0].Media) != 0 {
			t.Fatalf("statuses %+v", sts)
		}
	})
}

func TestEdit(t *testing.T) {
	e := newEnv(t, mastodonfake.Options{}, AccountOptions{Format: Format{EditWindow: 48 * time.Hour}})
	if e.acct.EditWindow() != 48*time.Hour {
		t.Errorf("edit window %s", e.acct.EditWindow())
	}
	it := loadItems(t)["en-news"]
	r, err := e.acct.Publish(context.Background(), job(it))
	if err != nil {
		t.Fatal(err)
	}
	it.Title = "Teachers’ strike ends after agreement on pensions"
	it.Image.Alt = "Union leaders shake hands with the minister"
	j := job(it)
	j.Kind = syndicate.JobEdit
	j.MessageIDs = r.MessageIDs
	r2, err := e.acct.Publish(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	sts := e.srv.Statuses()
	if len(sts) != 1 || r2.MessageIDs[0] != r.MessageIDs[0] {
		t.Fatalf("edit posted anew: %d statuses", len(sts))
	}
	st := sts[0]
	if st.Edits != 1 || !strings.HasPrefix(st.Text, "Teachers’ strike ends") || st.Media[0].Description != it.Image.Alt {
		t.Errorf("edited status %+v", st)
	}
	j.MessageIDs = []string{"999"}
	if _, err := e.acct.Publish(context.Background(), j); kindOf(err) != syndicate.ErrPermanentItem {
		t.Errorf("edit of a deleted status: %v", err)
	}
}

func TestInstanceLimits(t *testing.T) {
	e := newEnv(t, mastodonfake.Options{NoV2Instance: true, MaxCharacters: 5000, ReservedPerURL: 23}, AccountOptions{})
	lim, err := e.acct.limits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if lim.MaxCharacters != 5000 || lim.DescriptionLimit != 1500 {
		t.Errorf("limits from v1: %+v", lim)
	}
	// Cached: no second request within the hour.
	n := len(e.srv.Requests())
	if _, err := e.acct.limits(context.Background()); err != nil || len(e.srv.Requests()) != n {
		t.Errorf("limits asked again")
	}
	// Preview never contacts the server and uses the cached limits.
	out, err := e.acct.Preview(loadItems(t)["huge-body"])
	if err != nil || !strings.Contains(out, "/5000 characters") || len(e.srv.Requests()) != n {
		t.Errorf("preview %q %v", out, err)
	}
}

func TestNewAccountRejectsBadFormat(t *testing.T) {
	_, err := NewAccount(AccountOptions{ID: "a", Server: "https://x.example", Token: "t", Format: Format{Visibility: "everyone", ShareLinks: []string{"email"}}})
	if err == nil || !strings.Contains(err.Error(), "visibility") || !strings.Contains(err.Error(), "email") {
		t.Errorf("error %v", err)
	}
}
