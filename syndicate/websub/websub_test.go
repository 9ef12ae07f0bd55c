package websub_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
	"github.com/syndicate-bot/syndicate/syndicate/websub"
	"github.com/syndicate-bot/syndicate/syndicate/websub/websubtest"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

const (
	topic = "https://news.example.org/feed/"
	lease = 48 * time.Hour
	// renewal is when a 48h lease is renewed: a tenth of it before its end.
	renewal = lease - lease/10
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *clock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects the subscribers' logs, written from handlers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rig serves a Subscriber's callbacks on loopback, with its state in a
// real bbolt file.
type rig struct {
	t       *testing.T
	path    string
	store   *boltstore.Store
	clock   *clock
	srv     *httptest.Server
	mu      sync.Mutex
	handler http.Handler
	sub     *websub.Subscriber
	logs    *logBuffer
	maxBody int64
}

func newRig(t *testing.T, maxBody int64) *rig {
	t.Helper()
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "state.db"), clock: &clock{now: t0}, logs: &logBuffer{}, maxBody: maxBody}
	r.open()
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		h := r.handler
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.sub = r.subscriber()
	r.serve(r.sub)
	t.Cleanup(r.checkLogs)
	return r
}

func (r *rig) open() {
	st, err := boltstore.Open(r.path, boltstore.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	r.store = st
	r.t.Cleanup(func() { st.Close() })
}

// subscriber makes another Subscriber on the rig's store (a replica, or
// the process after a restart).
func (r *rig) subscriber() *websub.Subscriber {
	s, err := websub.New(websub.Options{Client: guard.New(guard.Options{AllowPrivate: true}), Store: r.store,
		PublicURL: r.srv.URL, Lease: lease, MaxBody: r.maxBody, Clock: r.clock,
		Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// serve routes the callbacks to s.
func (r *rig) serve(s *websub.Subscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handler = s.Handler()
}

func (r *rig) state(feed string) syndicate.PushState {
	r.t.Helper()
	st, err := r.store.LoadPush(context.Background(), feed)
	if err != nil {
		r.t.Fatal(err)
	}
	return st
}

func (r *rig) waitState(feed, state string) {
	r.t.Helper()
	if !websubtest.Wait(10*time.Second, func() bool { return r.state(feed).State == state }) {
		r.t.Fatalf("%s: state %q; want %q", feed, r.state(feed).State, state)
	}
}

// checkLogs proves that no secret the store ever held was logged.
func (r *rig) checkLogs() {
	logs := r.logs.String()
	for _, s := range regexp.MustCompile(`[0-9a-f]{64}`).FindAllString(logs, -1) {
		r.t.Errorf("a 64-digit hex string (a secret?) was logged: %s", s)
	}
}

// subscribe subscribes feed at hub and fails unless it became active.
func (r *rig) subscribe(feed string, hub *websubtest.Hub) syndicate.PushState {
	r.t.Helper()
	if _, _, err := r.sub.Subscribe(context.Background(), feed, topic, []string{hub.URL()}); err != nil {
		r.t.Fatal(err)
	}
	r.waitState(feed, websub.StateActive)
	return r.state(feed)
}

// notified returns the feed ids queued for polling, without waiting: the
// handler queues before it answers.
func notified(s *websub.Subscriber) []string {
	var ids []string
	for {
		select {
		case id := <-s.Notified():
			ids = append(ids, id)
		default:
			return ids
		}
	}
}

// get sends a verification-like GET to the rig's callback path.
func (r *rig) get(path string, q url.Values) (int, string) {
	r.t.Helper()
	u := r.srv.URL + path
	if q != nil {
		u += "?" + q.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends a notification to callback with an optional signature.
func post(t *testing.T, callback, sig string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, callback, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/rss+xml")
	if sig != "" {
		req.Header.Set("X-Hub-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// flip changes the last hex digit of a callback's token.
func flip(p string) string {
	last := "0"
	if strings.HasSuffix(p, "0") {
		last = "1"
	}
	return p[:len(p)-1] + last
}

func path(callback string) string {
	u, _ := url.Parse(callback)
	return u.EscapedPath()
}

// manualHub accepts subscription requests (202) and leaves verification
// to the test, which then decides when the hub verifies.
type manualHub struct {
	srv   *httptest.Server
	mu    sync.Mutex
	forms []url.Values
	code  int
	body  func(url.Values) string
}

func newManualHub(t *testing.T) *manualHub {
	h := &manualHub{code: http.StatusAccepted}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		h.mu.Lock()
		defer h.mu.Unlock()
		h.forms = append(h.forms, r.PostForm)
		body := ""
		if h.body != nil {
			body = h.body(r.PostForm)
		}
		w.WriteHeader(h.code)
		io.WriteString(w, body)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *manualHub) requests() []url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]url.Values(nil), h.forms...)
}

func (h *manualHub) last(t *testing.T) url.Values {
	t.Helper()
	f := h.requests()
	if len(f) == 0 {
		t.Fatal("no request at the hub")
	}
	return f[len(f)-1]
}

// verify plays the hub's verification of intent for form.
func (r *rig) verify(form url.Values, mode string, leaseSeconds int) (int, string) {
	r.t.Helper()
	q := url.Values{"hub.mode": {mode}, "hub.topic": {form.Get("hub.topic")}, "hub.challenge": {"ch-" + mode}}
	if leaseSeconds > 0 {
		q.Set("hub.lease_seconds", fmt.Sprint(leaseSeconds))
	}
	return r.get(path(form.Get("hub.callback")), q)
}

var callbackPattern = regexp.MustCompile(`^/websub/news/[0-9a-f]{24}$`)

// TestSubscribeVerifyActive: a request with the Recommendation's
// parameters, verified by the hub after its 202, makes the subscription
// active until a tenth of the lease before its end.
func TestSubscribeVerifyActive(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{})
	defer hub.Close()
	ctx := context.Background()
	active, callBy, err := r.sub.Subscribe(ctx, "news", topic, []string{hub.URL()})
	if err != nil || active || !callBy.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("Subscribe = %v, %s, %v; want pending, asked again in 10m", active, callBy, err)
	}
	r.waitState("news", websub.StateActive)
	forms := hub.Requests()
	if len(forms) != 1 {
		t.Fatalf("%d requests at the hub; want 1", len(forms))
	}
	f := forms[0]
	if f.Get("hub.mode") != "subscribe" || f.Get("hub.topic") != topic || f.Get("hub.lease_seconds") != "172800" ||
		!regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(f.Get("hub.secret")) || !callbackPattern.MatchString(path(f.Get("hub.callback"))) {
		t.Errorf("subscription request %v", f)
	}
	st := r.state("news")
	if !st.Expires.Equal(t0.Add(lease)) || st.Callback != f.Get("hub.callback") || st.Secret != f.Get("hub.secret") ||
		st.PendingSecret != "" || st.Hub != hub.URL() || st.Topic != topic || st.Failures != 0 {
		t.Errorf("state after verification %+v", st)
	}
	active, callBy, err = r.sub.Subscribe(ctx, "news", topic, []string{hub.URL()})
	if err != nil || !active || !callBy.Equal(t0.Add(renewal)) {
		t.Errorf("Subscribe when active = %v, %s, %v; want active, renewal at %s", active, callBy, err, t0.Add(renewal))
	}
	// No hubs named (a 304): the stored hub is meant.
	if active, _, _ := r.sub.Subscribe(ctx, "news", topic, nil); !active {
		t.Error("Subscribe without hubs is not active")
	}
	if n, _ := hub.Counts(); n != 1 {
		t.Errorf("%d requests at the hub; want 1", n)
	}
	// A feed that names no hub is only polled.
	if active, callBy, err := r.sub.Subscribe(ctx, "other", topic, nil); active || !callBy.IsZero() || err != nil {
		t.Errorf("Subscribe without any hub = %v, %s, %v", active, callBy, err)
	}
}

// TestVerificationOfIntent: the challenge is echoed only for a request
// this worker made, for its topic (§5.3.1); the rest is 404, or 400 when
// malformed, and changes nothing.
func TestVerificationOfIntent(t *testing.T) {
	r := newRig(t, 0)
	hub := newManualHub(t)
	ctx := context.Background()
	if _, _, err := r.sub.Subscribe(ctx, "news", topic, []string{hub.srv.URL}); err != nil {
		t.Fatal(err)
	}
	form := hub.last(t)
	cb := path(form.Get("hub.callback"))
	q := func(kv ...string) url.Values {
		v := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"c"}, "hub.lease_seconds": {"3600"}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	for _, tc := range []struct {
		name string
		path string
		q    url.Values
		code int
	}{
		{"wrong topic", cb, q("hub.topic", "https://evil.example/"), 404},
		{"unknown feed", strings.Replace(cb, "/news/", "/other/", 1), q(), 404},
		{"wrong token", flip(cb), q(), 404},
		{"no token", "/websub/news", q(), 404},
		{"token only", "/websub/news/", q(), 404},
		{"unsubscribe not asked for", cb, q("hub.mode", "unsubscribe"), 404},
		{"no challenge", cb, q("hub.challenge", ""), 400},
		{"unknown mode", cb, q("hub.mode", "publish"), 400},
	} {
		if code, _ := r.get(tc.path, tc.q); code != tc.code {
			t.Errorf("%s: %d; want %d", tc.name, code, tc.code)
		}
	}
	if st := r.state("news"); st.State != websub.StatePending || st.PendingSecret == "" {
		t.Fatalf("refused verifications changed the state: %+v", st)
	}
	// A hub that decodes unreserved characters of the topic (§5.1.1)
	// still matches; the lease it grants is recorded.
	if code, body := r.get(cb, q("hub.topic", "https://news.example.org/%66eed/")); code != 200 || body != "c" {
		t.Errorf("verification = %d %q; want 200 and the challenge", code, body)
	}
	st := r.state("news")
	if st.State != websub.StateActive || !st.Expires.Equal(t0.Add(time.Hour)) || st.Secret != form.Get("hub.secret") || st.PendingSecret != "" {
		t.Errorf("state after verification %+v", st)
	}
	// The hub may confirm the verified subscription again (§5): its
	// callback still answers, and the lease starts over.
	r.clock.Advance(30 * time.Minute)
	if code, body := r.get(cb, q("hub.lease_seconds", "7200")); code != 200 || body != "c" {
		t.Errorf("confirmation = %d %q; want 200 and the challenge", code, body)
	}
	if st := r.state("news"); !st.Expires.Equal(t0.Add(150 * time.Minute)) {
		t.Errorf("expires %s after the confirmation; want %s", st.Expires, t0.Add(150*time.Minute))
	}
	// A lease the hub does not say is the one asked for; an endless one
	// is capped.
	for _, tc := range []struct {
		lease string
		want  time.Duration
	}{{"", lease}, {"-5", lease}, {"99999999999999", 366 * 24 * time.Hour}} {
		if code, _ := r.get(cb, q("hub.lease_seconds", tc.lease)); code != 200 {
			t.Errorf("lease %q: %d", tc.lease, code)
		}
		if got := r.state("news").Expires.Sub(r.clock.Now()); got != tc.want {
			t.Errorf("lease %q: expires in %s; want %s", tc.lease, got, tc.want)
		}
	}
	if code, _ := r.get(cb, nil); code != 404 {
		t.Errorf("GET without parameters: %d; want 404", code)
	}
}

// TestDenied: a hub's denial (§5.2), at the request or later, ends push
// for the feed until a retry after the backoff.
func TestDenied(t *testing.T) {
	r := newRig(t, 0)
	deny := websubtest.Start(websubtest.Options{Deny: true, Sync: true})
	defer deny.Close()
	ctx := context.Background()
	if _, _, err := r.sub.Subscribe(ctx, "news", topic, []string{deny.URL()}); err != nil {
		t.Fatal(err)
	}
	st := r.state("news")
	if st.State != websub.StateDenied || st.Failures != 1 || !strings.Contains(st.LastError, "not allowed by the test") || st.PendingSecret != "" {
		t.Fatalf("state after a denial %+v", st)
	}
	active, callBy, err := r.sub.Subscribe(ctx, "news", topic, nil)
	if active || err != nil || !callBy.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("Subscribe after a denial = %v, %s, %v; want inactive, retry in 5m", active, callBy, err)
	}
	if n, _ := deny.Counts(); n != 1 {
		t.Errorf("%d requests; want 1 before the backoff ends", n)
	}
	r.clock.Advance(5 * time.Minute)
	deny.Set(websubtest.Options{Sync: true})
	if _, _, err := r.sub.Subscribe(ctx, "news", topic, nil); err != nil {
		t.Fatal(err)
	}
	if st := r.state("news"); st.State != websub.StateActive || st.Failures != 0 || st.LastError != "" {
		t.Fatalf("state after the retry %+v", st)
	}
	// Denied later, at the verified subscription's callback.
	for len(r.sub.Notified()) > 0 {
		<-r.sub.Notified()
	}
	st = r.state("news")
	code, _ := r.get(path(st.Callback), url.Values{"hub.mode": {"denied"}, "hub.topic": {topic}, "hub.reason": {"policy\nchanged"}})
	if code != 200 {
		t.Errorf("denial answered %d; want 200", code)
	}
	st = r.state("news")
	if st.State != websub.StateDenied || st.Secret != "" || st.LastError != "hub denied the subscription: policy changed" {
		t.Errorf("state after a later denial %+v", st)
	}
	// The engine, told the subscription was active, hears of the denial.
	select {
	case id := <-r.sub.Notified():
		if id != "news" {
			t.Errorf("notified of %q after the denial; want news", id)
		}
	default:
		t.Error("a denial of an active subscription did not notify the engine")
	}
	if active, _, _ := r.sub.Subscribe(ctx, "news", topic, nil); active {
		t.Error("a denied subscription is active")
	}
}

// TestHubFailures: a hub that fails is skipped for the next one; when all
// fail the feed is polled, and the hub is asked again after a backoff,
// with no secret in the error kept.
func TestHubFailures(t *testing.T) {
	r := newRig(t, 0)
	down := websubtest.Start(websubtest.Options{Status: http.StatusInternalServerError})
	defer down.Close()
	up := websubtest.Start(websubtest.Options{Sync: true})
	defer up.Close()
	ctx := context.Background()

	if _, _, err := r.sub.Subscribe(ctx, "news", topic, []string{down.URL(), up.URL()}); err != nil {
		t.Fatal(err)
	}
	if st := r.state("news"); st.State != websub.StateActive || st.Hub != up.URL() {
		t.Errorf("state %q at %s; want active at the second hub", st.State, st.Hub)
	}
	downForm, upForm := down.Requests()[0], up.Requests()[0]
	if downForm.Get("hub.secret") == upForm.Get("hub.secret") || downForm.Get("hub.callback") == upForm.Get("hub.callback") {
		t.Error("two hubs were given the same secret or callback")
	}

	// A hub that echoes the secret in its error.
	echo := newManualHub(t)
	echo.code = http.StatusForbidden
	echo.body = func(f url.Values) string {
		return "bad secret " + f.Get("hub.secret") + ", or " + strings.ToUpper(f.Get("hub.secret")) + strings.Repeat(" padding", 30) + f.Get("hub.secret")
	}
	active, callBy, err := r.sub.Subscribe(ctx, "solo", topic, []string{echo.srv.URL})
	if err == nil || active || !callBy.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("Subscribe at a failing hub = %v, %s, %v; want an error and a retry in 5m", active, callBy, err)
	}
	secret := echo.last(t).Get("hub.secret")
	st := r.state("solo")
	if st.State != websub.StateFailed || st.Failures != 1 || !strings.Contains(st.LastError, "403") || st.Secret != "" || st.PendingSecret != "" || st.Hub != echo.srv.URL {
		t.Errorf("state after the failure %+v", st)
	}
	if strings.Contains(strings.ToLower(st.LastError), secret[:16]) || strings.Contains(strings.ToLower(err.Error()), secret[:16]) || !strings.Contains(st.LastError, "[secret], or [secret]") {
		t.Errorf("the secret leaked into the error: %q", st.LastError)
	}
	if _, _, err := r.sub.Subscribe(ctx, "solo", topic, nil); err != nil {
		t.Errorf("Subscribe before the retry time: %v", err)
	}
	if n := len(echo.requests()); n != 1 {
		t.Errorf("the hub was asked again before the retry time (%d requests)", n)
	}
	r.clock.Advance(5 * time.Minute)
	if _, callBy, _ := r.sub.Subscribe(ctx, "solo", topic, nil); !callBy.Equal(r.clock.Now().Add(10 * time.Minute)) {
		t.Errorf("after the retry time: call by %s; want a second failure's 10m", callBy)
	}
	if n := r.state("solo").Failures; n != 2 {
		t.Errorf("%d failures; want 2", n)
	}
	// The hub recovers: pending, then active once verified.
	echo.code = http.StatusAccepted
	r.clock.Advance(10 * time.Minute)
	if active, callBy, err := r.sub.Subscribe(ctx, "solo", topic, nil); active || err != nil || !callBy.Equal(r.clock.Now().Add(10*time.Minute)) {
		t.Errorf("Subscribe at the recovered hub = %v, %s, %v", active, callBy, err)
	}
	if code, _ := r.verify(echo.last(t), "subscribe", 3600); code != 200 {
		t.Errorf("verification answered %d", code)
	}
	if st := r.state("solo"); st.State != websub.StateActive || st.Failures != 0 {
		t.Errorf("state after recovery %+v", st)
	}
	// An unreachable hub is a failure too.
	gone := newManualHub(t)
	gone.srv.Close()
	if _, _, err := r.sub.Subscribe(ctx, "gone", topic, []string{gone.srv.URL}); err == nil || r.state("gone").State != websub.StateFailed {
		t.Errorf("unreachable hub: %v, state %q", err, r.state("gone").State)
	}
}

// TestRedirectedHub: a hub may send the subscriber to another with a 307
// (§5.1.2).
func TestRedirectedHub(t *testing.T) {
	r := newRig(t, 0)
	to := websubtest.Start(websubtest.Options{Sync: true})
	defer to.Close()
	from := websubtest.Start(websubtest.Options{RedirectTo: to.URL()})
	defer from.Close()
	r.subscribe("news", from)
	if len(to.Subscriptions()) != 1 {
		t.Errorf("the hub redirected to has %d subscriptions", len(to.Subscriptions()))
	}
}

// TestHubRefusingTheLeaseAsked: a hub that answers 400 to a lease longer
// than it grants is asked again without one, and the subscription is
// verified with the hub's own lease.
func TestHubRefusingTheLeaseAsked(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{Sync: true, MaxLeaseSeconds: 24 * 3600})
	defer hub.Close()
	st := r.subscribe("news", hub)
	if st.State != websub.StateActive || st.Failures != 0 {
		t.Fatalf("state %+v; want active without failures", st)
	}
	subs := hub.Subscriptions()
	if len(subs) != 1 || subs[0].Lease != 10*24*3600 {
		t.Errorf("subscriptions at the hub %+v; want one with the hub's default lease", subs)
	}
}

// TestRenewal: past the renewal time the subscription is asked for again
// with a new secret and callback; the old ones stay in use until the hub
// verifies, after which the old callback is gone (410).
func TestRenewal(t *testing.T) {
	r := newRig(t, 0)
	hub := newManualHub(t)
	ctx := context.Background()
	if _, _, err := r.sub.Subscribe(ctx, "news", topic, []string{hub.srv.URL}); err != nil {
		t.Fatal(err)
	}
	first := hub.last(t)
	r.verify(first, "subscribe", int(lease/time.Second))

	r.clock.Advance(renewal - time.Second)
	if active, callBy, _ := r.sub.Subscribe(ctx, "news", topic, nil); !active || !callBy.Equal(t0.Add(renewal)) || len(hub.requests()) != 1 {
		t.Fatalf("just before the renewal time: %v, %s, %d requests", active, callBy, len(hub.requests()))
	}
	r.clock.Advance(time.Second)
	active, callBy, err := r.sub.Subscribe(ctx, "news", topic, nil)
	if err != nil || !active || !callBy.Equal(r.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("renewal = %v, %s, %v; want still active, asked again in 10m", active, callBy, err)
	}
	second := hub.last(t)
	if len(hub.requests()) != 2 || second.Get("hub.secret") == first.Get("hub.secret") || second.Get("hub.callback") == first.Get("hub.callback") {
		t.Fatalf("renewal request %v", second)
	}
	body := []byte("<rss/>")
	// Before the hub verifies, the old subscription signs.
	if code := post(t, first.Get("hub.callback"), websubtest.Sign("sha256", first.Get("hub.secret"), body), body); code != 202 || len(notified(r.sub)) != 1 {
		t.Errorf("notification on the old subscription during renewal: %d", code)
	}
	if code, _ := r.verify(second, "subscribe", int(lease/time.Second)); code != 200 {
		t.Fatalf("renewal verification answered %d", code)
	}
	st := r.state("news")
	if st.Secret != second.Get("hub.secret") || st.PendingSecret != "" || !st.Expires.Equal(r.clock.Now().Add(lease)) {
		t.Errorf("after the renewal: %+v", st)
	}
	if code := post(t, first.Get("hub.callback"), websubtest.Sign("sha256", first.Get("hub.secret"), body), body); code != http.StatusGone || len(notified(r.sub)) != 0 {
		t.Errorf("notification on the renewed-away callback: %d; want 410 and no poll", code)
	}
	if code := post(t, second.Get("hub.callback"), websubtest.Sign("sha256", second.Get("hub.secret"), body), body); code != 202 || len(notified(r.sub)) != 1 {
		t.Errorf("notification on the renewed subscription: %d", code)
	}
	// A late verification of the old request is refused.
	if code, _ := r.verify(first, "subscribe", 3600); code != 404 {
		t.Errorf("stale verification answered %d; want 404", code)
	}
}

// TestRenewalFailsThenLapses: a renewal the hub refuses keeps the
// subscription until its lease ends, with retries after a backoff but
// never a call later than the end; then the feed is no longer pushed.
func TestRenewalFailsThenLapses(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{Sync: true, LeaseSeconds: 4 * 3600})
	defer hub.Close()
	ctx := context.Background()
	st := r.subscribe("news", hub)
	// A 4h lease is renewed an hour before its end, not a tenth.
	if _, callBy, _ := r.sub.Subscribe(ctx, "news", topic, nil); !callBy.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("renewal of a 4h lease at %s; want after 3h", callBy)
	}
	hub.Set(websubtest.Options{Status: http.StatusServiceUnavailable})
	r.clock.Advance(3*time.Hour + 58*time.Minute)
	active, callBy, err := r.sub.Subscribe(ctx, "news", topic, nil)
	if err == nil || !active || !callBy.Equal(st.Expires) {
		t.Errorf("failed renewal = %v, %s, %v; want still active, called again at the lease's end %s", active, callBy, err, st.Expires)
	}
	if got := r.state("news"); got.State != websub.StateActive || got.Failures != 1 || got.Secret != st.Secret {
		t.Errorf("state after the failed renewal %+v", got)
	}
	r.clock.Advance(3 * time.Minute)
	active, callBy, err = r.sub.Subscribe(ctx, "news", topic, nil)
	if active || err != nil || !callBy.Equal(r.clock.Now().Add(2*time.Minute)) {
		t.Errorf("after the lease's end = %v, %s, %v; want inactive, call back when the backoff ends", active, callBy, err)
	}
	// The hub ends the lease too: nothing is delivered any more.
	hub.Expire()
	if codes, err := hub.Publish(topic, "application/rss+xml", []byte("x")); err != nil || len(codes) != 0 {
		t.Errorf("publish after the lease = %v, %v", codes, err)
	}
}

// TestSignatures: only a notification whose HMAC matches the
// subscription's secret, in one of the four registered algorithms
// (§7.1.1), polls the feed; the others are answered 202 all the same
// (§7.1.2) and ignored.
func TestSignatures(t *testing.T) {
	r := newRig(t, 1024)
	hub := websubtest.Start(websubtest.Options{Sync: true})
	defer hub.Close()
	st := r.subscribe("news", hub)
	body := []byte(`<rss><channel><item><title>New</title></item></channel></rss>`)
	for _, tc := range []struct {
		name   string
		opts   websubtest.Options
		notify bool
	}{
		{"sha1", websubtest.Options{Algorithm: "sha1"}, true},
		{"sha256", websubtest.Options{Algorithm: "sha256"}, true},
		{"sha384", websubtest.Options{Algorithm: "sha384"}, true},
		{"sha512", websubtest.Options{Algorithm: "sha512"}, true},
		{"wrong secret", websubtest.Options{WrongSignature: true}, false},
		{"missing", websubtest.Options{Algorithm: "none"}, false},
	} {
		hub.Set(tc.opts)
		codes, err := hub.Publish(topic, "application/rss+xml", body)
		if err != nil || len(codes) != 1 || codes[0] != http.StatusAccepted {
			t.Errorf("%s: publish = %v, %v; want one 202", tc.name, codes, err)
		}
		if got := notified(r.sub); (len(got) == 1 && got[0] == "news") != tc.notify {
			t.Errorf("%s: notified %q; want a poll %v", tc.name, got, tc.notify)
		}
	}
	if r.state("news").LastNotified.IsZero() {
		t.Error("LastNotified not recorded")
	}

	sign := func(alg string, b []byte) string { return websubtest.Sign(alg, st.Secret, b) }
	sha256Hex := strings.TrimPrefix(sign("sha256", []byte("x")), "sha256=")
	limit := bytes.Repeat([]byte("x"), 1024)
	over := bytes.Repeat([]byte("x"), 1025)
	for _, tc := range []struct {
		name string
		sig  string
		body []byte
		code int
		poll bool
	}{
		{"good", sign("sha256", []byte("x")), []byte("x"), 202, true},
		{"algorithm in capitals", "SHA256=" + sha256Hex, []byte("x"), 202, true},
		{"digest of another algorithm", "sha512=" + sha256Hex, []byte("x"), 202, false},
		{"unregistered algorithm", "md5=" + sha256Hex, []byte("x"), 202, false},
		{"no algorithm", sha256Hex, []byte("x"), 202, false},
		{"not hex", "sha256=zz", []byte("x"), 202, false},
		{"truncated", "sha256=" + sha256Hex[:40], []byte("x"), 202, false},
		{"another body", sign("sha256", []byte("y")), []byte("x"), 202, false},
		{"another secret", websubtest.Sign("sha256", "guess", []byte("x")), []byte("x"), 202, false},
		{"body at the limit", sign("sha256", limit), limit, 202, true},
		{"body over the limit", sign("sha256", over), over, http.StatusRequestEntityTooLarge, false},
	} {
		if code := post(t, st.Callback, tc.sig, tc.body); code != tc.code {
			t.Errorf("%s: answered %d; want %d", tc.name, code, tc.code)
		}
		if got := len(notified(r.sub)); (got == 1) != tc.poll {
			t.Errorf("%s: %d polls; want a poll %v", tc.name, got, tc.poll)
		}
	}
	// Callbacks that are not subscriptions of ours.
	for _, tc := range []struct {
		name, path string
		code       int
	}{
		{"unknown feed", strings.Replace(path(st.Callback), "/news/", "/other/", 1), 404},
		{"unknown token", flip(path(st.Callback)), http.StatusGone},
		{"no token", "/websub/news", 404},
	} {
		if code := post(t, r.srv.URL+tc.path, sign("sha256", []byte("x")), []byte("x")); code != tc.code {
			t.Errorf("%s: %d; want %d", tc.name, code, tc.code)
		}
	}
	if got := notified(r.sub); len(got) != 0 {
		t.Errorf("polls %q after notifications that are not ours", got)
	}
}

// TestNotifiedOncePerFeed: a feed waiting to be polled is queued once,
// however many notifications come, and again once the engine took it.
func TestNotifiedOncePerFeed(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{Sync: true})
	defer hub.Close()
	r.subscribe("news", hub)
	r.subscribe("sport", hub) // the same topic: both feeds are told
	for range 3 {
		if _, err := hub.Publish(topic, "application/rss+xml", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	first := <-r.sub.Notified()
	if _, err := hub.Publish(topic, "application/rss+xml", []byte("x")); err != nil {
		t.Fatal(err)
	}
	got := append([]string{first}, notified(r.sub)...)
	if strings.Join(got, " ") != "news sport "+first && strings.Join(got, " ") != "sport news "+first {
		t.Errorf("notified %q; want each feed once, then the one taken again", got)
	}
}

// TestStateSurvivesRestart: a new process on the same store finds the
// subscription active, asks the hub nothing, and takes its notifications.
func TestStateSurvivesRestart(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{Sync: true})
	defer hub.Close()
	r.subscribe("news", hub)
	if err := r.store.Close(); err != nil {
		t.Fatal(err)
	}
	r.open()
	after := r.subscriber()
	r.serve(after)
	if active, callBy, err := after.Subscribe(context.Background(), "news", topic, []string{hub.URL()}); !active || err != nil || !callBy.Equal(t0.Add(renewal)) {
		t.Errorf("Subscribe after a restart = %v, %s, %v", active, callBy, err)
	}
	if n, _ := hub.Counts(); n != 1 {
		t.Errorf("%d requests at the hub; want 1", n)
	}
	if codes, err := hub.Publish(topic, "application/atom+xml", []byte("<feed/>")); err != nil || len(codes) != 1 || codes[0] != 202 {
		t.Fatalf("publish = %v, %v", codes, err)
	}
	if got := notified(after); len(got) != 1 || got[0] != "news" {
		t.Errorf("notified %q after the restart", got)
	}
	if errs := hub.Reconfirm(topic); len(errs) > 0 {
		t.Errorf("the hub's reconfirmation failed: %v", errs)
	}
}

// TestReplicasShareSubscriptions: one replica asks, another answers the
// hub's verification and takes the notifications, from the shared store.
func TestReplicasShareSubscriptions(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{})
	defer hub.Close()
	asker := r.subscriber() // r.sub serves the callbacks
	if _, _, err := asker.Subscribe(context.Background(), "news", topic, []string{hub.URL()}); err != nil {
		t.Fatal(err)
	}
	r.waitState("news", websub.StateActive)
	if !websubtest.Wait(10*time.Second, func() bool { _, v := hub.Counts(); return v == 1 }) {
		t.Fatalf("the hub did not record the verification: %v", hub.Errors())
	}
	if _, err := hub.Publish(topic, "application/rss+xml", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := notified(r.sub); len(got) != 1 || got[0] != "news" {
		t.Errorf("the serving replica was notified of %q", got)
	}
	if got := notified(asker); len(got) != 0 {
		t.Errorf("the asking replica was notified of %q", got)
	}
	if active, _, _ := asker.Subscribe(context.Background(), "news", topic, nil); !active {
		t.Error("the asking replica does not see the subscription active")
	}
	if errs := hub.Errors(); len(errs) > 0 {
		t.Errorf("hub errors %v", errs)
	}
}

// TestUnsubscribe: a feed removed from the configuration is unsubscribed
// once the hub verifies; its callback is then gone.
func TestUnsubscribe(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{Sync: true})
	defer hub.Close()
	st := r.subscribe("news", hub)
	if err := r.sub.Unsubscribe(context.Background(), "news"); err != nil {
		t.Fatal(err)
	}
	if got := r.state("news"); got.State != websub.StateUnsubscribed || got.Secret != "" {
		t.Errorf("state after unsubscribing %+v", got)
	}
	if len(hub.Subscriptions()) != 0 {
		t.Errorf("the hub still has %v", hub.Subscriptions())
	}
	if code := post(t, st.Callback, websubtest.Sign("sha256", st.Secret, []byte("x")), []byte("x")); code != http.StatusGone {
		t.Errorf("notification after unsubscribing: %d; want 410", code)
	}
	if err := r.sub.Unsubscribe(context.Background(), "never"); err != nil {
		t.Errorf("unsubscribing a feed never subscribed: %v", err)
	}
}

// TestPublicURLWithPath: behind a proxy that keeps a path prefix, the
// callbacks carry it and are routed with or without it.
func TestPublicURLWithPath(t *testing.T) {
	s, err := websub.New(websub.Options{Store: nopStore{}, PublicURL: "https://bot.example.org/syndicate/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Patterns(), " "); got != "/websub/ /syndicate/websub/" {
		t.Errorf("patterns %q", got)
	}
	for _, bad := range []string{"", "bot.example.org", "ftp://bot.example.org", "https://bot.example.org/?a=b", "https:///x"} {
		if _, err := websub.New(websub.Options{Store: nopStore{}, PublicURL: bad}); err == nil {
			t.Errorf("public url %q accepted", bad)
		}
	}
}

type nopStore struct{}

func (nopStore) LoadPush(context.Context, string) (syndicate.PushState, error) {
	return syndicate.PushState{}, nil
}
func (nopStore) SavePush(context.Context, string, syndicate.PushState) error { return nil }
