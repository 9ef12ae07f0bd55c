package websub_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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

const topic = "https://news.example.org/feed/"

type rig struct {
	t     *testing.T
	store syndicate.Store
	clock *clock
	srv   *httptest.Server
	sub   *websub.Subscriber
}

// newRig serves a Subscriber's callbacks on loopback; more subscribers on
// the same store (replicas) can be made with subscriber.
func newRig(t *testing.T, maxBody int64) *rig {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t, store: st, clock: &clock{now: t0}}
	var handler http.Handler
	var mu sync.Mutex
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		h := handler
		mu.Unlock()
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.sub = r.subscriber(maxBody)
	mu.Lock()
	handler = r.sub.Handler()
	mu.Unlock()
	return r
}

func (r *rig) subscriber(maxBody int64) *websub.Subscriber {
	s, err := websub.New(websub.Options{Client: guard.New(guard.Options{AllowPrivate: true}), Store: r.store,
		PublicURL: r.srv.URL, Lease: 48 * time.Hour, MaxBody: maxBody, Clock: r.clock})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) state(feed string) syndicate.PushState {
	st, err := r.store.LoadPush(context.Background(), feed)
	if err != nil {
		r.t.Fatal(err)
	}
	return st
}

func (r *rig) waitState(feed, state string) {
	r.t.Helper()
	if !websubtest.Wait(5*time.Second, func() bool { return r.state(feed).State == state }) {
		r.t.Fatalf("%s: state %q; want %q", feed, r.state(feed).State, state)
	}
}

// waitHub waits until the hub has verified n subscriptions.
func waitHub(t *testing.T, hub *websubtest.Hub, n int) {
	t.Helper()
	if !websubtest.Wait(5*time.Second, func() bool { _, v := hub.Counts(); return v >= n }) {
		t.Fatalf("the hub verified fewer than %d subscriptions; errors %v", n, hub.Errors())
	}
}

func (r *rig) notified() (string, bool) {
	select {
	case id := <-r.sub.Notified():
		return id, true
	case <-time.After(200 * time.Millisecond):
		return "", false
	}
}

func TestSubscribeVerifyNotify(t *testing.T) {
	r := newRig(t, 1024)
	hub := websubtest.Start(websubtest.Options{})
	defer hub.Close()
	ctx := context.Background()
	active, callBy, err := r.sub.Subscribe(ctx, "news", topic, []string{hub.URL()})
	if err != nil || active || !callBy.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("Subscribe = %v, %s, %v; want pending, asked again in 10m", active, callBy, err)
	}
	r.waitState("news", websub.StateActive)
	waitHub(t, hub, 1)
	st := r.state("news")
	if !st.Expires.Equal(t0.Add(48*time.Hour)) || st.Callback != r.srv.URL+"/websub/news" || len(st.Secret) != 64 {
		t.Errorf("state after verification %+v", st)
	}
	active, callBy, err = r.sub.Subscribe(ctx, "news", topic, []string{hub.URL()})
	if err != nil || !active || !callBy.Equal(t0.Add(48*time.Hour-48*time.Hour/10)) {
		t.Errorf("Subscribe when active = %v, %s, %v; want active, renewal a tenth of the lease before the end", active, callBy, err)
	}
	if req, _ := hub.Counts(); req != 1 {
		t.Errorf("%d requests at the hub; want 1", req)
	}

	body := []byte(`<rss><channel><item><title>New</title></item></channel></rss>`)
	for _, alg := range []string{"sha256", "sha1"} {
		hub.Set(websubtest.Options{Algorithm: alg})
		codes, err := hub.Publish(topic, "application/rss+xml", body)
		if err != nil || len(codes) != 1 || codes[0] != http.StatusAccepted {
			t.Fatalf("%s: publish = %v, %v", alg, codes, err)
		}
		if id, ok := r.notified(); !ok || id != "news" {
			t.Errorf("%s: notified %q, %v; want news", alg, id, ok)
		}
	}
	if r.state("news").LastNotified.IsZero() {
		t.Error("LastNotified not recorded")
	}

	hub.Set(websubtest.Options{WrongSignature: true})
	if codes, _ := hub.Publish(topic, "application/rss+xml", body); len(codes) != 1 || codes[0] != http.StatusAccepted {
		t.Errorf("wrong signature answered %v; want 202 (ignored quietly)", codes)
	}
	if id, ok := r.notified(); ok {
		t.Errorf("a wrongly signed notification polled %s", id)
	}
	post := func(sig string, body string) int {
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/websub/news", strings.NewReader(body))
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
	secret := r.state("news").Secret
	for _, tc := range []struct {
		name, sig, body string
		code            int
		notify          bool
	}{
		{"missing signature", "", "x", http.StatusAccepted, false},
		{"unknown algorithm", "md5=00", "x", http.StatusAccepted, false},
		{"not hex", "sha256=zz", "x", http.StatusAccepted, false},
		{"signature of another body", websubtest.Sign("sha256", secret, []byte("y")), "x", http.StatusAccepted, false},
		{"good", websubtest.Sign("sha256", secret, []byte("x")), "x", http.StatusAccepted, true},
		{"body over the limit", websubtest.Sign("sha256", secret, []byte(strings.Repeat("x", 1025))), strings.Repeat("x", 1025), http.StatusRequestEntityTooLarge, false},
	} {
		if code := post(tc.sig, tc.body); code != tc.code {
			t.Errorf("%s: answered %d; want %d", tc.name, code, tc.code)
		}
		if _, ok := r.notified(); ok != tc.notify {
			t.Errorf("%s: notified %v; want %v", tc.name, ok, tc.notify)
		}
	}
}

func TestVerificationRefused(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{})
	defer hub.Close()
	if _, _, err := r.sub.Subscribe(context.Background(), "news", topic, []string{hub.URL()}); err != nil {
		t.Fatal(err)
	}
	r.waitState("news", websub.StateActive)
	for _, tc := range []struct{ name, path string }{
		{"wrong topic", "/websub/news?hub.mode=subscribe&hub.topic=https://evil.example/&hub.challenge=c"},
		{"unknown feed", "/websub/other?hub.mode=subscribe&hub.topic=" + topic + "&hub.challenge=c"},
		{"no feed", "/websub/?hub.mode=subscribe&hub.topic=" + topic + "&hub.challenge=c"},
	} {
		resp, err := http.Get(r.srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d; want 404", tc.name, resp.StatusCode)
		}
	}
	resp, err := http.Post(r.srv.URL+"/websub/other", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("notification for an unknown feed: %d; want 404", resp.StatusCode)
	}
}

func TestHubFailures(t *testing.T) {
	r := newRig(t, 0)
	down := websubtest.Start(websubtest.Options{Fail: true})
	defer down.Close()
	up := websubtest.Start(websubtest.Options{})
	defer up.Close()
	ctx := context.Background()

	// The first hub fails: the second is used.
	if _, _, err := r.sub.Subscribe(ctx, "news", topic, []string{down.URL(), up.URL()}); err != nil {
		t.Fatal(err)
	}
	r.waitState("news", websub.StateActive)
	if st := r.state("news"); st.Hub != up.URL() {
		t.Errorf("subscribed at %s; want the second hub", st.Hub)
	}

	// Every hub fails: failed, polled meanwhile, retried after a backoff.
	active, callBy, err := r.sub.Subscribe(ctx, "solo", topic, []string{down.URL()})
	if err == nil || active || !callBy.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("Subscribe at a failing hub = %v, %s, %v; want an error and a retry in 5m", active, callBy, err)
	}
	st := r.state("solo")
	if st.State != websub.StateFailed || st.Failures != 1 || !strings.Contains(st.LastError, "500") || st.Secret != "" || st.Hub != down.URL() {
		t.Errorf("state after the failure %+v", st)
	}
	before, _ := down.Counts()
	if _, _, err := r.sub.Subscribe(ctx, "solo", topic, nil); err != nil {
		t.Errorf("Subscribe before the retry time: %v", err)
	}
	if after, _ := down.Counts(); after != before {
		t.Errorf("the hub was asked again before the retry time")
	}
	r.clock.Advance(6 * time.Minute)
	if _, callBy, _ := r.sub.Subscribe(ctx, "solo", topic, nil); !callBy.Equal(r.clock.Now().Add(10 * time.Minute)) {
		t.Errorf("after the retry time: call by %s; want a second failure's 10m", callBy)
	}

	// A hub that denies.
	deny := websubtest.Start(websubtest.Options{Deny: true})
	defer deny.Close()
	if _, _, err := r.sub.Subscribe(ctx, "denied", topic, []string{deny.URL()}); err != nil {
		t.Fatal(err)
	}
	r.waitState("denied", websub.StateDenied)
	if active, _, _ := r.sub.Subscribe(ctx, "denied", topic, nil); active {
		t.Error("a denied subscription is active")
	}
}

func TestRenewalAndLapse(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{})
	defer hub.Close()
	ctx := context.Background()
	if _, _, err := r.sub.Subscribe(ctx, "news", topic, []string{hub.URL()}); err != nil {
		t.Fatal(err)
	}
	r.waitState("news", websub.StateActive)
	old := r.state("news").Secret

	// Within the renewal margin: asked again while still active; the old
	// secret signs until the hub verifies the renewal.
	r.clock.Advance(44 * time.Hour)
	active, _, err := r.sub.Subscribe(ctx, "news", topic, nil)
	if err != nil || !active {
		t.Fatalf("renewal = %v, %v; want still active", active, err)
	}
	if !websubtest.Wait(5*time.Second, func() bool { req, ver := hub.Counts(); return req == 2 && ver == 2 }) {
		t.Fatalf("hub counts %v", fmt2(hub.Counts()))
	}
	st := r.state("news")
	if st.Secret == old || !st.Expires.Equal(t0.Add(92*time.Hour)) {
		t.Errorf("after renewal: new secret %v, expires %s; want a new secret and 48h more", st.Secret != old, st.Expires)
	}

	// The lease lapses without renewal: no longer active.
	r.clock.Advance(49 * time.Hour)
	hub.Set(websubtest.Options{Fail: true})
	if active, _, _ := r.sub.Subscribe(ctx, "news", topic, nil); active {
		t.Error("a lapsed subscription is active")
	}
}

func fmt2(a, b int) [2]int { return [2]int{a, b} }

// TestReplicasShareSubscriptions: one replica asks, another answers the
// hub's verification and notifications from the shared store.
func TestReplicasShareSubscriptions(t *testing.T) {
	r := newRig(t, 0)
	hub := websubtest.Start(websubtest.Options{})
	defer hub.Close()
	other := r.subscriber(0) // asks; r.sub serves the callbacks
	if _, _, err := other.Subscribe(context.Background(), "news", topic, []string{hub.URL()}); err != nil {
		t.Fatal(err)
	}
	r.waitState("news", websub.StateActive)
	waitHub(t, hub, 1)
	if _, err := hub.Publish(topic, "application/rss+xml", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if id, ok := r.notified(); !ok || id != "news" {
		t.Errorf("notified %q, %v", id, ok)
	}
	if errs := hub.Errors(); len(errs) > 0 {
		t.Errorf("hub errors %v", errs)
	}
}
