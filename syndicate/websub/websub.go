// Package websub subscribes feeds at their WebSub hubs (the W3C WebSub
// Recommendation) so that a hub's notification polls a feed within a
// second instead of at its next poll.
//
// A subscription is requested with a secret of its own, verified by the
// hub through the callback (hub.challenge), renewed before its lease ends,
// and kept in the store, so that any replica can answer the hub and check
// a notification's signature (X-Hub-Signature: sha1, sha256, sha384 or
// sha512 HMAC of the body, compared in constant time). When the hub fails
// or the lease lapses the subscription is no longer active and the engine
// polls at the feed's own interval.
package websub

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

// Defaults of Options.
const (
	DefaultLease   = 7 * 24 * time.Hour
	DefaultMaxBody = 1 << 20
	// CallbackPath prefixes every callback: PublicURL + CallbackPath +
	// the feed id.
	CallbackPath = "/websub/"
)

// Subscription states, as kept in syndicate.PushState.State.
const (
	StatePending = "pending"
	StateActive  = "active"
	StateDenied  = "denied"
	StateFailed  = "failed"
)

// Store keeps the subscriptions; syndicate.Store satisfies it.
type Store interface {
	LoadPush(ctx context.Context, feedID string) (syndicate.PushState, error)
	SavePush(ctx context.Context, feedID string, st syndicate.PushState) error
}

// Options build a Subscriber.
type Options struct {
	// Client sends the subscription requests to hubs.
	Client *guard.Client
	Store  Store
	// PublicURL is how hubs reach the worker's HTTP server, e.g.
	// "https://bot.example.org".
	PublicURL string
	// Lease is the subscription lifetime asked of hubs (default 7 days;
	// the hub decides).
	Lease time.Duration
	// MaxBody caps a notification's body (default 1 MiB).
	MaxBody int64
	Clock   syndicate.Clock
	Logger  *slog.Logger
}

// Subscriber keeps feeds subscribed and serves the callbacks; it
// implements syndicate.Pusher and is safe for concurrent use.
type Subscriber struct {
	o        Options
	notified chan string
}

var _ syndicate.Pusher = (*Subscriber)(nil)

// New returns a Subscriber.
func New(o Options) (*Subscriber, error) {
	if o.Store == nil {
		return nil, errors.New("websub: no store")
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("websub: public url %q is not an absolute http(s) URL", o.PublicURL)
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.Client == nil {
		o.Client = guard.New(guard.Options{})
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Clock == nil {
		o.Clock = syndicate.SystemClock
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Subscriber{o: o, notified: make(chan string, 256)}, nil
}

// Callback is the URL a hub delivers a feed's notifications to.
func (s *Subscriber) Callback(feedID string) string {
	return s.o.PublicURL + CallbackPath + url.PathEscape(feedID)
}

// Notified delivers the ids of feeds whose hub sent a valid notification.
func (s *Subscriber) Notified() <-chan string { return s.notified }

// renewBefore is how long before its end a subscription is renewed: a
// tenth of the lease, at least an hour, so that a hub slow to verify (or
// one failed attempt) still leaves time before the lease lapses.
func renewBefore(lease time.Duration) time.Duration {
	return max(lease/10, time.Hour)
}

// retryAfter is the wait before asking a hub again after n failures:
// doubling from 5 minutes up to a day.
func retryAfter(n int) time.Duration {
	d := 5 * time.Minute
	for i := 1; i < n && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}

// Subscribe implements syndicate.Pusher.
func (s *Subscriber) Subscribe(ctx context.Context, feedID, topic string, hubs []string) (bool, time.Time, error) {
	st, err := s.o.Store.LoadPush(ctx, feedID)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("websub %s: %w", feedID, err)
	}
	now := s.o.Clock.Now()
	if len(hubs) == 0 {
		if st.Hub == "" {
			return false, time.Time{}, nil // no hub: polling only
		}
		hubs = []string{st.Hub}
	}
	if st.Topic != "" && st.Topic == topic && slices.Contains(hubs, st.Hub) {
		active := st.State == StateActive && now.Before(st.Expires)
		switch {
		case active && now.Before(st.Expires.Add(-renewBefore(s.o.Lease))):
			return true, st.Expires.Add(-renewBefore(s.o.Lease)), nil
		case st.State == StatePending && now.Sub(st.Requested) < 10*time.Minute:
			// The hub has yet to verify: ask again later.
			return active, st.Requested.Add(10 * time.Minute), nil
		case (st.State == StateFailed || st.State == StateDenied) && now.Before(st.Requested.Add(retryAfter(st.Failures))):
			return false, st.Requested.Add(retryAfter(st.Failures)), nil
		}
	}
	return s.request(ctx, feedID, topic, hubs, st, now)
}

// request asks the hubs in turn for a subscription, with a new secret.
func (s *Subscriber) request(ctx context.Context, feedID, topic string, hubs []string, st syndicate.PushState, now time.Time) (bool, time.Time, error) {
	secret, err := newSecret()
	if err != nil {
		return false, time.Time{}, fmt.Errorf("websub %s: %w", feedID, err)
	}
	active := st.State == StateActive && now.Before(st.Expires) && st.Topic == topic
	var errs []error
	for _, hub := range hubs {
		next := st
		next.Hub, next.Topic, next.Callback, next.Secret = hub, topic, s.Callback(feedID), secret
		next.Requested = now
		next.State = StatePending
		if cur, _ := secrets(st); active && hub == st.Hub {
			// The active subscription keeps its secret until the hub
			// verifies the renewal; the new one is taken then.
			next.State, next.Secret = StateActive, cur+pendingSep+secret
		}
		// Saved before the request: the hub may verify before it answers.
		if err := s.o.Store.SavePush(ctx, feedID, next); err != nil {
			return false, time.Time{}, fmt.Errorf("websub %s: %w", feedID, err)
		}
		err := s.post(ctx, hub, url.Values{
			"hub.mode":          {"subscribe"},
			"hub.topic":         {topic},
			"hub.callback":      {next.Callback},
			"hub.lease_seconds": {strconv.FormatInt(int64(s.o.Lease/time.Second), 10)},
			"hub.secret":        {secret},
		})
		if err == nil {
			s.o.Logger.Info("websub subscription requested", "feed", feedID, "hub", hub, "callback", next.Callback)
			return active, now.Add(10 * time.Minute), nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", hub, err))
	}
	err = errors.Join(errs...)
	st.Failures++
	st.LastError = err.Error()
	st.Requested = now
	if !active {
		// Kept so that a retry knows where to ask; no secret is in use.
		st.State, st.Hub, st.Topic, st.Callback, st.Secret = StateFailed, hubs[0], topic, s.Callback(feedID), ""
	}
	if serr := s.o.Store.SavePush(ctx, feedID, st); serr != nil {
		return active, time.Time{}, fmt.Errorf("websub %s: %w", feedID, serr)
	}
	return active, now.Add(retryAfter(st.Failures)), fmt.Errorf("websub %s: subscribe: %w", feedID, err)
}

// pendingSep separates the active secret from the one a renewal waits
// to have verified, inside PushState.Secret.
const pendingSep = " "

// secrets returns the secret in use and the one waiting for verification.
func secrets(st syndicate.PushState) (current, pending string) {
	current, pending, _ = strings.Cut(st.Secret, pendingSep)
	if pending == "" {
		pending = current
	}
	return current, pending
}

// post sends a form to a hub; any 2xx is an acceptance (the Recommendation
// says 202, hubs in the wild answer 204 too).
func (s *Subscriber) post(ctx context.Context, hub string, form url.Values) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("hub answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Handler serves the callbacks under CallbackPath.
func (s *Subscriber) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		feedID, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), CallbackPath))
		if err != nil || feedID == "" || !strings.HasPrefix(r.URL.Path, CallbackPath) {
			http.NotFound(w, r)
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.verify(w, r, feedID)
		case http.MethodPost:
			s.deliver(w, r, feedID)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// verify answers the hub's verification of intent (§5.3): the challenge
// is echoed only for a subscription this worker asked for.
func (s *Subscriber) verify(w http.ResponseWriter, r *http.Request, feedID string) {
	q := r.URL.Query()
	ctx := r.Context()
	st, err := s.o.Store.LoadPush(ctx, feedID)
	if err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	topic := q.Get("hub.topic")
	if st.Topic == "" || topic != st.Topic {
		http.NotFound(w, r)
		return
	}
	now := s.o.Clock.Now()
	switch q.Get("hub.mode") {
	case "subscribe":
		if st.State != StatePending && st.State != StateActive {
			http.NotFound(w, r)
			return
		}
		lease, err := strconv.ParseInt(q.Get("hub.lease_seconds"), 10, 64)
		if err != nil || lease <= 0 {
			lease = int64(s.o.Lease / time.Second)
		}
		_, pending := secrets(st)
		st.Secret = pending
		st.State, st.Expires, st.Failures, st.LastError = StateActive, now.Add(time.Duration(lease)*time.Second), 0, ""
	case "unsubscribe":
		st.State, st.Expires = "", time.Time{}
	case "denied":
		st.State, st.LastError, st.Failures = StateDenied, "hub denied: "+q.Get("hub.reason"), st.Failures+1
		if err := s.o.Store.SavePush(ctx, feedID, st); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		s.o.Logger.Warn("websub subscription denied; polling", "feed", feedID, "hub", st.Hub, "reason", q.Get("hub.reason"))
		w.WriteHeader(http.StatusOK)
		return
	default:
		http.Error(w, "unknown hub.mode", http.StatusBadRequest)
		return
	}
	if err := s.o.Store.SavePush(ctx, feedID, st); err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	s.o.Logger.Info("websub verified", "feed", feedID, "mode", q.Get("hub.mode"), "expires", st.Expires)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, q.Get("hub.challenge"))
}

// deliver takes a content distribution (§7): a body within MaxBody whose
// signature matches the subscription's secret polls the feed. A bad or
// missing signature is ignored but answered 2xx, as §8 allows, so that a
// forger learns nothing about the secret.
func (s *Subscriber) deliver(w http.ResponseWriter, r *http.Request, feedID string) {
	ctx := r.Context()
	st, err := s.o.Store.LoadPush(ctx, feedID)
	if err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	if st.Topic == "" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.o.MaxBody+1))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if int64(len(body)) > s.o.MaxBody {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	current, _ := secrets(st)
	if !validSignature(r.Header.Get("X-Hub-Signature"), current, body) {
		s.o.Logger.Warn("websub notification with a bad or missing signature ignored", "feed", feedID)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	st.LastNotified = s.o.Clock.Now()
	if err := s.o.Store.SavePush(ctx, feedID, st); err != nil {
		s.o.Logger.Warn("websub: record notification", "feed", feedID, "error", err)
	}
	select {
	case s.notified <- feedID:
	default:
		// The poller is behind; the feed is polled anyway when it gets
		// to the ones queued.
		s.o.Logger.Warn("websub notifications queue full; feed left to its poll", "feed", feedID)
	}
	w.WriteHeader(http.StatusAccepted)
}

// validSignature checks "method=hexdigest" against the HMAC of body.
func validSignature(header, secret string, body []byte) bool {
	if secret == "" {
		return false
	}
	method, sig, ok := strings.Cut(strings.TrimSpace(header), "=")
	if !ok {
		return false
	}
	var h func() hash.Hash
	switch strings.ToLower(method) {
	case "sha1":
		h = sha1.New
	case "sha256":
		h = sha256.New
	case "sha384":
		h = sha512.New384
	case "sha512":
		h = sha512.New
	default:
		return false
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), want)
}
