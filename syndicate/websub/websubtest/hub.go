// Package websubtest is a small WebSub hub for tests, following the W3C
// Recommendation (https://www.w3.org/TR/websub/): it accepts subscription
// requests (202), verifies intent at the callback with a random challenge
// (§5.3), keeps verified subscriptions per topic and callback with their
// secret and lease (§5.1), and distributes content to them with an
// X-Hub-Signature (§7). Options make it deny, fail, shorten leases or sign
// wrongly, for the subscriber's error paths.
package websubtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options change how the hub behaves; Set changes them while it runs.
type Options struct {
	// Algorithm signs notifications: "sha1", "sha256" (default),
	// "sha384", "sha512", or "none" for no X-Hub-Signature at all.
	Algorithm string
	// Deny answers every subscription with hub.mode=denied (§5.2).
	Deny bool
	// Status, when set, answers subscription requests with this code
	// (e.g. 500) instead of 202, and nothing is verified.
	Status int
	// RedirectTo answers subscription requests 307 to this hub (§5.1.2).
	RedirectTo string
	// LeaseSeconds is granted to subscribers (default: what they asked,
	// else 10 days as §8.2 suggests).
	LeaseSeconds int
	// MaxLeaseSeconds, when set, refuses with 400 a request asking for a
	// longer lease, as some hubs do rather than grant less.
	MaxLeaseSeconds int
	// WrongSignature signs notifications with another secret.
	WrongSignature bool
	// Sync verifies intent before answering the request, as some hubs do;
	// by default verification follows the 202, as §5.1.2 describes.
	Sync bool
}

// Subscription is one verified subscription.
type Subscription struct {
	Topic, Callback, Secret string
	Lease                   int
	Expires                 time.Time
}

// Hub is a running test hub.
type Hub struct {
	srv    *httptest.Server
	client *http.Client
	mu     sync.Mutex
	opts   Options
	subs   map[[2]string]Subscription // by topic and callback
	forms  []url.Values
	// verified counts verifications that echoed the challenge.
	verified int
	errs     []error
	wg       sync.WaitGroup
}

// Start runs a hub on loopback; Close stops it.
func Start(o Options) *Hub {
	h := &Hub{opts: o, subs: map[[2]string]Subscription{}, client: &http.Client{Timeout: 10 * time.Second}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

// URL is the hub's address.
func (h *Hub) URL() string { return h.srv.URL }

// Close waits for verifications under way and stops the hub.
func (h *Hub) Close() {
	h.wg.Wait()
	h.srv.Close()
}

// Set replaces the hub's options.
func (h *Hub) Set(o Options) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.opts = o
}

// Counts returns how many subscription requests came and how many
// verifications of intent succeeded.
func (h *Hub) Counts() (requests, verified int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.forms), h.verified
}

// Requests are the forms of the subscription requests received, oldest
// first.
func (h *Hub) Requests() []url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]url.Values(nil), h.forms...)
}

// Errors are the verifications that went wrong.
func (h *Hub) Errors() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.errs...)
}

// Subscriptions lists the verified subscriptions whose lease runs.
func (h *Hub) Subscriptions() []Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Subscription
	for _, s := range h.subs {
		if time.Now().Before(s.Expires) {
			out = append(out, s)
		}
	}
	return out
}

// Expire ends every lease now, as if the subscribers had not renewed in
// time (§5.3.1: hubs enforce lease expirations).
func (h *Hub) Expire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, s := range h.subs {
		s.Expires = time.Now()
		h.subs[k] = s
	}
}

func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		// §5.1: the request MUST be form-encoded.
		http.Error(w, "Content-Type must be application/x-www-form-urlencoded", http.StatusBadRequest)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := r.PostForm
	mode, topic, callback := f.Get("hub.mode"), f.Get("hub.topic"), f.Get("hub.callback")
	if (mode != "subscribe" && mode != "unsubscribe") || topic == "" || callback == "" {
		http.Error(w, "hub.mode, hub.topic and hub.callback are required", http.StatusBadRequest)
		return
	}
	if len(f.Get("hub.secret")) >= 200 {
		// §5.1: the secret MUST be less than 200 bytes.
		http.Error(w, "hub.secret must be less than 200 bytes", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.forms = append(h.forms, f)
	o := h.opts
	h.mu.Unlock()
	switch {
	case o.RedirectTo != "":
		http.Redirect(w, r, o.RedirectTo, http.StatusTemporaryRedirect)
		return
	case o.Status != 0:
		http.Error(w, "hub unavailable", o.Status)
		return
	}
	lease, _ := strconv.Atoi(f.Get("hub.lease_seconds"))
	if o.MaxLeaseSeconds > 0 && lease > o.MaxLeaseSeconds {
		http.Error(w, "invalid hub.lease_seconds value", http.StatusBadRequest)
		return
	}
	if o.LeaseSeconds > 0 {
		lease = o.LeaseSeconds
	} else if lease <= 0 {
		lease = 10 * 24 * 3600
	}
	sub := Subscription{Topic: topic, Callback: callback, Secret: f.Get("hub.secret"), Lease: lease}
	if o.Sync {
		h.verify(mode, sub, o.Deny)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.verify(mode, sub, o.Deny)
	}()
}

// verify checks the subscriber's intent; only a verified request changes
// the subscription (§5.1).
func (h *Hub) verify(mode string, sub Subscription, deny bool) {
	if deny && mode == "subscribe" {
		h.get(sub.Callback, url.Values{"hub.mode": {"denied"}, "hub.topic": {sub.Topic}, "hub.reason": {"not allowed by the test"}})
		return
	}
	if err := h.challenge(mode, sub); err != nil {
		h.mu.Lock()
		h.errs = append(h.errs, err)
		h.mu.Unlock()
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	key := [2]string{sub.Topic, sub.Callback}
	if mode == "unsubscribe" {
		delete(h.subs, key)
		return
	}
	h.verified++
	sub.Expires = time.Now().Add(time.Duration(sub.Lease) * time.Second)
	h.subs[key] = sub
}

// challenge sends a verification of intent with a fresh random challenge
// (§8.2: single use) and checks that it comes back.
func (h *Hub) challenge(mode string, sub Subscription) error {
	challenge := rand.Text()
	q := url.Values{"hub.mode": {mode}, "hub.topic": {sub.Topic}, "hub.challenge": {challenge}}
	if mode == "subscribe" {
		q.Set("hub.lease_seconds", strconv.Itoa(sub.Lease))
	}
	code, body, err := h.get(sub.Callback, q)
	switch {
	case err != nil:
		return err
	case code < 200 || code > 299 || body != challenge:
		// §5.3.1: anything else is a failed verification.
		return fmt.Errorf("%s verification of %s: %d %q", mode, sub.Callback, code, body)
	}
	return nil
}

// Reconfirm verifies the intent of the topic's subscribers again, as a
// hub may do on its own (§5), dropping those that do not confirm.
func (h *Hub) Reconfirm(topic string) []error {
	var errs []error
	for _, s := range h.Subscriptions() {
		if s.Topic != topic {
			continue
		}
		if err := h.challenge("subscribe", s); err != nil {
			errs = append(errs, err)
			h.mu.Lock()
			delete(h.subs, [2]string{s.Topic, s.Callback})
			h.mu.Unlock()
		}
	}
	return errs
}

// get sends a GET to the callback with q appended to its query (§5.1.1).
func (h *Hub) get(callback string, q url.Values) (int, string, error) {
	sep := "?"
	if strings.Contains(callback, "?") {
		sep = "&"
	}
	resp, err := h.client.Get(callback + sep + q.Encode())
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	return resp.StatusCode, string(b), err
}

// Publish distributes body to every subscriber of topic whose lease runs
// and returns their status codes; a subscriber answering 410 Gone is
// dropped, as §7 allows.
func (h *Hub) Publish(topic, contentType string, body []byte) ([]int, error) {
	h.mu.Lock()
	o := h.opts
	h.mu.Unlock()
	var codes []int
	for _, s := range h.Subscriptions() {
		if s.Topic != topic {
			continue
		}
		req, err := http.NewRequest(http.MethodPost, s.Callback, bytes.NewReader(body))
		if err != nil {
			return codes, err
		}
		req.Header.Set("Content-Type", contentType)
		// §7: one Link header with the hub and the topic.
		req.Header.Set("Link", fmt.Sprintf(`<%s>; rel="hub", <%s>; rel="self"`, h.URL(), topic))
		secret := s.Secret
		if o.WrongSignature {
			secret = "not-" + secret
		}
		if secret != "" && o.Algorithm != "none" {
			req.Header.Set("X-Hub-Signature", Sign(o.Algorithm, secret, body))
		}
		resp, err := h.client.Do(req)
		if err != nil {
			return codes, err
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusGone {
			h.mu.Lock()
			delete(h.subs, [2]string{s.Topic, s.Callback})
			h.mu.Unlock()
		}
	}
	return codes, nil
}

// Sign returns the X-Hub-Signature of body (§7.1): "sha1=…", "sha256=…"
// (the default), "sha384=…" or "sha512=…".
func Sign(algorithm, secret string, body []byte) string {
	var h func() hash.Hash
	switch algorithm {
	case "sha1":
		h = sha1.New
	case "sha384":
		h = sha512.New384
	case "sha512":
		h = sha512.New
	default:
		algorithm, h = "sha256", sha256.New
	}
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return algorithm + "=" + hex.EncodeToString(m.Sum(nil))
}

// Wait polls cond until it holds or d passes, for tests waiting on the
// hub's asynchronous verification.
func Wait(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}
