// Package websubtest is a small WebSub hub for tests: it accepts
// subscription requests, verifies intent at the callback with a random
// challenge as the W3C Recommendation (§5) asks, and distributes content
// to verified subscribers with an X-Hub-Signature.
package websubtest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
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

// Options change how the hub behaves.
type Options struct {
	// Algorithm signs notifications: "sha1" or "sha256" (default).
	Algorithm string
	// Deny answers every subscription with hub.mode=denied.
	Deny bool
	// Fail answers subscription requests 500.
	Fail bool
	// LeaseSeconds is granted to subscribers (default: what they asked,
	// else DefaultLeaseSeconds).
	LeaseSeconds int
	// WrongSignature signs notifications with another secret.
	WrongSignature bool
}

// DefaultLeaseSeconds is granted when a subscriber asks for no lease: ten
// days, a common hub default (the Recommendation leaves it to the hub).
const DefaultLeaseSeconds = 10 * 24 * 3600

// Subscription is one verified subscription.
type Subscription struct {
	Topic, Callback, Secret string
	Lease                   int
}

// Hub is a running test hub.
type Hub struct {
	srv  *httptest.Server
	mu   sync.Mutex
	opts Options
	subs map[string]Subscription // by callback
	// Requests counts subscription requests; Verified verifications that
	// echoed the challenge.
	requests, verified int
	errs               []error
}

// Start runs a hub on loopback; Close stops it.
func Start(o Options) *Hub {
	h := &Hub{opts: o, subs: map[string]Subscription{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

// URL is the hub's address.
func (h *Hub) URL() string { return h.srv.URL }

// Close stops the hub.
func (h *Hub) Close() { h.srv.Close() }

// Set replaces the hub's options.
func (h *Hub) Set(o Options) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.opts = o
}

// Counts returns how many requests came and how many were verified.
func (h *Hub) Counts() (requests, verified int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests, h.verified
}

// Errors are the verifications that went wrong.
func (h *Hub) Errors() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.errs...)
}

func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	mode, topic, callback := r.PostForm.Get("hub.mode"), r.PostForm.Get("hub.topic"), r.PostForm.Get("hub.callback")
	if (mode != "subscribe" && mode != "unsubscribe") || topic == "" || callback == "" {
		http.Error(w, "hub.mode, hub.topic and hub.callback are required", http.StatusBadRequest)
		return
	}
	if len(r.PostForm.Get("hub.secret")) > 200 {
		// §5.1: the secret MUST be less than 200 bytes.
		http.Error(w, "hub.secret too long", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.requests++
	o := h.opts
	h.mu.Unlock()
	if o.Fail {
		http.Error(w, "hub down", http.StatusInternalServerError)
		return
	}
	lease, _ := strconv.Atoi(r.PostForm.Get("hub.lease_seconds"))
	switch {
	case o.LeaseSeconds > 0:
		lease = o.LeaseSeconds
	case lease <= 0:
		lease = DefaultLeaseSeconds
	}
	sub := Subscription{Topic: topic, Callback: callback, Secret: r.PostForm.Get("hub.secret"), Lease: lease}
	w.WriteHeader(http.StatusAccepted)
	// Verification of intent happens after the 202, as hubs do.
	go h.verify(mode, sub, o.Deny)
}

func (h *Hub) verify(mode string, sub Subscription, deny bool) {
	q := url.Values{"hub.topic": {sub.Topic}}
	if deny {
		q.Set("hub.mode", "denied")
		q.Set("hub.reason", "not allowed by the test")
		h.get(sub.Callback, q)
		return
	}
	challenge := rand.Text()
	q.Set("hub.mode", mode)
	q.Set("hub.challenge", challenge)
	q.Set("hub.lease_seconds", strconv.Itoa(sub.Lease))
	code, body, err := h.get(sub.Callback, q)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil:
		h.errs = append(h.errs, err)
	case code < 200 || code > 299 || body != challenge:
		h.errs = append(h.errs, fmt.Errorf("verification of %s: %d %q", sub.Callback, code, body))
	case mode == "unsubscribe":
		delete(h.subs, sub.Callback)
	default:
		h.verified++
		h.subs[sub.Callback] = sub
	}
}

func (h *Hub) get(callback string, q url.Values) (int, string, error) {
	sep := "?"
	if strings.Contains(callback, "?") {
		sep = "&"
	}
	resp, err := http.Get(callback + sep + q.Encode())
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	return resp.StatusCode, string(b), err
}

// Publish distributes body to every verified subscriber of topic and
// returns their status codes.
func (h *Hub) Publish(topic, contentType string, body []byte) ([]int, error) {
	h.mu.Lock()
	o := h.opts
	var subs []Subscription
	for _, s := range h.subs {
		if s.Topic == topic {
			subs = append(subs, s)
		}
	}
	h.mu.Unlock()
	var codes []int
	for _, s := range subs {
		req, err := http.NewRequest(http.MethodPost, s.Callback, strings.NewReader(string(body)))
		if err != nil {
			return codes, err
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Link", fmt.Sprintf(`<%s>; rel="hub", <%s>; rel="self"`, h.URL(), topic))
		secret := s.Secret
		if o.WrongSignature {
			secret = "not-" + secret
		}
		if secret != "" {
			req.Header.Set("X-Hub-Signature", Sign(o.Algorithm, secret, body))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return codes, err
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	return codes, nil
}

// Sign returns the X-Hub-Signature of body: "sha1=…" or "sha256=…".
func Sign(algorithm, secret string, body []byte) string {
	var h func() hash.Hash
	switch algorithm {
	case "sha1":
		h = sha1.New
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
