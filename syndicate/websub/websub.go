// Package websub subscribes feeds at their WebSub hubs (the W3C WebSub
// Recommendation, https://www.w3.org/TR/websub/) so that a hub's
// notification polls a feed within a second instead of at its next poll.
//
// Each subscription request has a secret of its own and a callback URL
// derived from it (PublicURL/websub/<feed>/<token>): the unguessable,
// per-subscription callback the Recommendation asks for (§5.1.1, §8.2)
// tells which request a hub's verification of intent (hub.challenge) is
// about and which secret signs a notification (X-Hub-Signature: sha1,
// sha256, sha384 or sha512 HMAC of the body, compared in constant time).
// A subscription is renewed before its lease ends and everything is kept
// in the store, so any replica answers the hub. A notification only
// triggers a poll of the feed: its body is never used as content. When
// the hub fails, denies or the lease lapses the subscription is not
// active and the engine polls the feed at its own interval.
package websub

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/guard"
)

// Defaults of Options.
const (
	DefaultLease   = 7 * 24 * time.Hour
	DefaultMaxBody = 1 << 20
	// CallbackPath comes before the feed id and token in every callback.
	CallbackPath = "/websub/"
)

// Subscription states, as kept in syndicate.PushState.State.
const (
	StatePending       = "pending"
	StateActive        = "active"
	StateDenied        = "denied"
	StateFailed        = "failed"
	StateUnsubscribing = "unsubscribing"
	StateUnsubscribed  = "unsubscribed"
)

const (
	// checkAfter is when the engine is asked to call again after a
	// request: by then the hub has usually verified it.
	checkAfter = 10 * time.Minute
	// pendingTimeout is how long a request may wait for the hub's
	// verification before it is made again with a new secret.
	pendingTimeout = time.Hour
	// queueSize bounds the feeds waiting in Notified; each feed is there
	// at most once.
	queueSize = 4096
	// maxLeaseSeconds caps the lease a hub says it granted.
	maxLeaseSeconds = 366 * 24 * 3600
	// secretBytes is the entropy of a secret (hex encoded: 64 bytes on
	// the wire, under the 200 the Recommendation allows).
	secretBytes = 32
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
	o      Options
	prefix string // the path of PublicURL followed by CallbackPath
	queue  notifyQueue
}

var _ syndicate.Pusher = (*Subscriber)(nil)

// New returns a Subscriber.
func New(o Options) (*Subscriber, error) {
	if o.Store == nil {
		return nil, errors.New("websub: no store")
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("websub: public url %q is not an absolute http(s) URL without query", o.PublicURL)
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
	s := &Subscriber{o: o, prefix: strings.TrimRight(u.EscapedPath(), "/") + CallbackPath}
	s.queue.ch = make(chan string, queueSize)
	s.queue.in = map[string]bool{}
	return s, nil
}

// Patterns are the paths a ServeMux must route to Handler: CallbackPath,
// and the same under PublicURL's path when a proxy passes that on.
func (s *Subscriber) Patterns() []string {
	if s.prefix == CallbackPath {
		return []string{CallbackPath}
	}
	return []string{CallbackPath, s.prefix}
}

// callback is the URL a hub delivers to for the subscription made with
// secret.
func (s *Subscriber) callback(feedID, secret string) string {
	return s.o.PublicURL + CallbackPath + url.PathEscape(feedID) + "/" + token(secret)
}

// token names a subscription in its callback URL: derived from the
// secret, so that the store needs no other field, and revealing nothing
// of it.
func token(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, "websub callback")
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// Notified delivers the ids of feeds whose hub sent a valid notification.
func (s *Subscriber) Notified() <-chan string { return s.queue.ch }

// active reports whether the hub has verified a subscription whose lease
// is still running.
func active(st syndicate.PushState, now time.Time) bool {
	return st.State == StateActive && st.Secret != "" && now.Before(st.Expires)
}

// renewAt is when a verified subscription is renewed: a tenth of the
// lease the hub granted before its end, so that a slow hub and a few
// failed attempts with backoff still fit before it lapses; at least an
// hour before, for short leases; but not before half the lease has run,
// so that a hub granting much less than asked is not asked again at once.
// The lease granted is taken as from the request to the expiry, which
// the hub's verification follows within seconds.
func renewAt(st syndicate.PushState) time.Time {
	granted := st.Expires.Sub(st.Requested)
	margin := min(max(granted/10, time.Hour), granted/2)
	return st.Expires.Add(-margin)
}

// retryAfter is the wait before asking a hub again after n failed or
// denied requests: doubling from 5 minutes up to a day.
func retryAfter(n int) time.Duration {
	d := 5 * time.Minute
	for i := 1; i < n && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}

// Subscribe implements syndicate.Pusher. It asks a hub only when the feed
// has no verified subscription for topic at one of hubs, when the
// subscription is due for renewal, or when a request went unverified for
// an hour; failed and denied requests are retried after a backoff.
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
	ask := candidates(hubs)
	on := active(st, now)
	if st.Topic == topic && slices.Contains(ask, st.Hub) && st.State != StateUnsubscribing && st.State != StateUnsubscribed {
		switch retry := st.Requested.Add(retryAfter(st.Failures)); {
		case st.PendingSecret != "" && now.Before(st.Requested.Add(pendingTimeout)):
			// The hub has yet to verify the latest request.
			return on, s.until(st, on, now.Add(checkAfter)), nil
		case on && now.Before(renewAt(st)):
			return true, renewAt(st), nil
		case st.Failures > 0 && now.Before(retry):
			return on, s.until(st, on, retry), nil
		}
	}
	return s.request(ctx, feedID, topic, hubs, ask, st, on, now)
}

// until is t, or the lease's end when that comes first, so that the
// engine learns of a lapse when it happens.
func (s *Subscriber) until(st syndicate.PushState, on bool, t time.Time) time.Time {
	if on && st.Expires.Before(t) {
		return st.Expires
	}
	return t
}

// request asks the hubs in turn for a subscription, each time with a new
// secret and so a new callback. A verified subscription stays in use
// until the hub verifies its renewal.
func (s *Subscriber) request(ctx context.Context, feedID, topic string, hubs, ask []string, st syndicate.PushState, on bool, now time.Time) (bool, time.Time, error) {
	if !on {
		st.Secret = "" // nothing verified to keep
	}
	var errs []error
	for _, hub := range ask {
		secret, err := newSecret()
		if err != nil {
			return on, time.Time{}, fmt.Errorf("websub %s: %w", feedID, err)
		}
		next := st
		next.Hub, next.Topic, next.PendingSecret, next.Requested = hub, topic, secret, now
		next.Callback = s.callback(feedID, secret)
		if !on {
			next.State = StatePending
		}
		// Saved before the request: the hub may verify before it answers.
		if err := s.o.Store.SavePush(ctx, feedID, next); err != nil {
			return on, time.Time{}, fmt.Errorf("websub %s: %w", feedID, err)
		}
		form := url.Values{
			"hub.mode":          {"subscribe"},
			"hub.topic":         {topic},
			"hub.callback":      {next.Callback},
			"hub.lease_seconds": {strconv.FormatInt(int64(s.o.Lease/time.Second), 10)},
			"hub.secret":        {secret},
		}
		err = s.post(ctx, hub, form)
		if he := (*hubError)(nil); errors.As(err, &he) && he.status == http.StatusBadRequest {
			// The lease is only a wish (§5.1), but some hubs refuse a
			// request asking more than they grant instead of granting
			// less (one passing every websub.rocks hub test answers 400
			// "invalid hub.lease_seconds value"): ask again for the hub's
			// own lease.
			form.Del("hub.lease_seconds")
			err = s.post(ctx, hub, form)
		}
		if err == nil {
			s.o.Logger.Info("websub subscription requested", "feed", feedID, "hub", guard.Redact(hub), "callback", next.Callback)
			return on, s.until(st, on, now.Add(checkAfter)), nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", guard.Redact(hub), err))
	}
	err := errors.Join(errs...)
	st.Failures++
	st.LastError = strings.ReplaceAll(err.Error(), "\n", "; ")
	st.Requested = now
	st.PendingSecret = ""
	// Kept so that a retry knows where to ask, after the backoff.
	st.Hub, st.Topic = hubs[0], topic
	if !on {
		st.State, st.Callback = StateFailed, ""
	}
	if serr := s.o.Store.SavePush(ctx, feedID, st); serr != nil {
		return on, time.Time{}, fmt.Errorf("websub %s: %w", feedID, serr)
	}
	return on, s.until(st, on, now.Add(retryAfter(st.Failures))), fmt.Errorf("websub %s: subscribe: %w", feedID, err)
}

// candidates are the hubs to ask, in order: an http hub without a port
// is tried over https first, as §8.2 recommends, so that the secret does
// not cross the network in clear when the hub can help it.
func candidates(hubs []string) []string {
	var out []string
	for _, h := range hubs {
		if u, err := url.Parse(h); err == nil && u.Scheme == "http" && u.Port() == "" {
			u.Scheme = "https"
			if s := u.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// post sends a form to a hub; any 2xx is an acceptance (the
// Recommendation says 202, hubs in the wild answer 204 too).
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
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// §5.1.2: the hub describes the error in plain text, which might
		// quote the request.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		text := string(body)
		if secret := form.Get("hub.secret"); secret != "" {
			text = regexp.MustCompile("(?i)"+regexp.QuoteMeta(secret)).ReplaceAllLiteralString(text, "[secret]")
		}
		return &hubError{status: resp.StatusCode, text: oneLine(text, 200)}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return nil
}

// hubError is a hub's refusal of a request.
type hubError struct {
	status int
	text   string
}

func (e *hubError) Error() string { return fmt.Sprintf("hub answered %d: %s", e.status, e.text) }

// oneLine makes text from a remote party fit a log line or error.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

func newSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Unsubscribe asks the hub to end a feed's subscription (a feed removed
// from the configuration); the hub's verification then completes it.
func (s *Subscriber) Unsubscribe(ctx context.Context, feedID string) error {
	st, err := s.o.Store.LoadPush(ctx, feedID)
	if err != nil {
		return fmt.Errorf("websub %s: %w", feedID, err)
	}
	if st.Hub == "" || (st.Secret == "" && st.PendingSecret == "") {
		return nil
	}
	st.State = StateUnsubscribing
	if err := s.o.Store.SavePush(ctx, feedID, st); err != nil {
		return fmt.Errorf("websub %s: %w", feedID, err)
	}
	var errs []error
	for _, secret := range []string{st.Secret, st.PendingSecret} {
		if secret == "" {
			continue
		}
		err := s.post(ctx, st.Hub, url.Values{"hub.mode": {"unsubscribe"}, "hub.topic": {st.Topic}, "hub.callback": {s.callback(feedID, secret)}})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("websub %s: unsubscribe: %w", feedID, err)
	}
	return nil
}

// Handler serves the callbacks: GET for the hub's verification of intent
// and denials, POST for notifications.
func (s *Subscriber) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		feedID, tok, ok := parseCallback(r.URL.EscapedPath())
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.verify(w, r, feedID, tok)
		case http.MethodPost:
			s.deliver(w, r, feedID, tok)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// parseCallback splits ".../websub/<feed>/<token>".
func parseCallback(path string) (feedID, tok string, ok bool) {
	i := strings.LastIndex(path, CallbackPath)
	if i < 0 {
		return "", "", false
	}
	esc, tok, ok := strings.Cut(path[i+len(CallbackPath):], "/")
	if !ok || tok == "" || strings.Contains(tok, "/") {
		return "", "", false
	}
	feedID, err := url.PathUnescape(esc)
	if err != nil || feedID == "" {
		return "", "", false
	}
	return feedID, tok, true
}

// match finds the secret whose callback carries tok: the verified
// subscription's or the pending request's.
func match(st syndicate.PushState, tok string) (secret string, pending, ok bool) {
	for _, c := range []struct {
		secret  string
		pending bool
	}{{st.PendingSecret, true}, {st.Secret, false}} {
		if c.secret != "" && subtle.ConstantTimeCompare([]byte(token(c.secret)), []byte(tok)) == 1 {
			return c.secret, c.pending, true
		}
	}
	return "", false, false
}

// verify answers the hub's verification of intent (§5.3) and denials
// (§5.2): the challenge is echoed only at the callback of a request this
// worker made (or of the verified subscription, which a hub may confirm
// again), for the topic requested; anything else is 404 as §5.3.1 says.
func (s *Subscriber) verify(w http.ResponseWriter, r *http.Request, feedID, tok string) {
	q := r.URL.Query()
	ctx := r.Context()
	st, err := s.o.Store.LoadPush(ctx, feedID)
	if err != nil {
		s.o.Logger.Warn("websub verification: store unavailable", "feed", feedID, "error", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	secret, pending, ok := match(st, tok)
	mode := q.Get("hub.mode")
	if !ok || !sameTopic(q.Get("hub.topic"), st.Topic) {
		if st.Topic != "" {
			// A hub verifying an old request, or a stranger.
			s.o.Logger.Info("websub verification refused", "feed", feedID, "mode", oneLine(mode, 20))
		}
		http.NotFound(w, r)
		return
	}
	now := s.o.Clock.Now()
	challenge := q.Get("hub.challenge")
	switch mode {
	case "subscribe":
		if challenge == "" {
			http.Error(w, "hub.challenge is required", http.StatusBadRequest)
			return
		}
		if st.State == StateUnsubscribing || st.State == StateUnsubscribed || (!pending && st.State != StateActive) {
			http.NotFound(w, r)
			return
		}
		lease, err := strconv.ParseInt(q.Get("hub.lease_seconds"), 10, 64)
		if err != nil || lease <= 0 {
			// §5.3 makes it required; assume what was asked.
			lease = int64(s.o.Lease / time.Second)
		}
		// Hubs must not grant perpetual leases (§5.3.1); a year is plenty.
		lease = min(lease, maxLeaseSeconds)
		st.Secret = secret
		if pending {
			st.PendingSecret = ""
		}
		st.Callback = s.callback(feedID, secret)
		st.State, st.Expires, st.Failures, st.LastError = StateActive, now.Add(time.Duration(lease)*time.Second), 0, ""
	case "unsubscribe":
		if challenge == "" {
			http.Error(w, "hub.challenge is required", http.StatusBadRequest)
			return
		}
		if st.State != StateUnsubscribing {
			http.NotFound(w, r)
			return
		}
		if pending {
			st.PendingSecret = ""
		} else {
			st.Secret = ""
		}
		if st.Secret == "" && st.PendingSecret == "" {
			st.State, st.Expires, st.Callback = StateUnsubscribed, time.Time{}, ""
		}
	case "denied":
		// §5.2: at any time, even for a verified subscription; the feed
		// is polled, and asked again after a backoff.
		reason := oneLine(q.Get("hub.reason"), 200)
		if pending {
			st.PendingSecret = ""
		} else {
			st.Secret = ""
		}
		if st.Secret == "" {
			st.State, st.Expires = StateDenied, time.Time{}
		}
		st.Failures++
		st.LastError = "hub denied the subscription: " + reason
		if err := s.o.Store.SavePush(ctx, feedID, st); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		s.o.Logger.Warn("websub subscription denied; polling", "feed", feedID, "hub", guard.Redact(st.Hub), "reason", reason)
		// The engine expects notifications until the time Subscribe gave
		// it: tell it now, so that it polls and asks again.
		s.queue.push(feedID)
		w.WriteHeader(http.StatusOK)
		return
	default:
		http.Error(w, "unknown hub.mode", http.StatusBadRequest)
		return
	}
	if err := s.o.Store.SavePush(ctx, feedID, st); err != nil {
		s.o.Logger.Warn("websub verification: store unavailable", "feed", feedID, "error", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	s.o.Logger.Info("websub verified", "feed", feedID, "mode", mode, "expires", st.Expires)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, challenge)
}

// sameTopic compares topic URLs as hubs may return them: §5.1.1 lets a
// hub decode percent-encoded unreserved characters.
func sameTopic(a, b string) bool {
	return a != "" && (a == b || decodeUnreserved(a) == decodeUnreserved(b))
}

func decodeUnreserved(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				c := byte(v)
				if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
					b.WriteByte(c)
				} else {
					b.WriteString(strings.ToUpper(s[i : i+3]))
				}
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// deliver takes a content distribution (§7). Only the signature matters:
// a body within MaxBody whose HMAC matches the subscription's secret polls
// the feed (the body itself is never used). A bad or missing signature is
// ignored but still answered 202, as §7.1.2 allows, so that a forger
// cannot tell a guess that failed from one that worked, and a hub that
// signs with a stale secret does not retry in vain. A callback that is no
// longer a subscription of ours is answered 410 Gone, which §7 lets the
// hub take as the end of it.
func (s *Subscriber) deliver(w http.ResponseWriter, r *http.Request, feedID, tok string) {
	ctx := r.Context()
	st, err := s.o.Store.LoadPush(ctx, feedID)
	if err != nil {
		s.o.Logger.Warn("websub notification: store unavailable", "feed", feedID, "error", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	if st.Topic == "" {
		http.NotFound(w, r)
		return
	}
	secret, _, ok := match(st, tok)
	if !ok || st.State == StateUnsubscribing || st.State == StateUnsubscribed {
		http.Error(w, "no such subscription", http.StatusGone)
		return
	}
	sig := signer(r.Header.Get("X-Hub-Signature"), secret)
	var sink io.Writer = io.Discard
	if sig != nil {
		sink = sig
	}
	// Streamed through the HMAC: nothing of the body is kept.
	n, err := io.Copy(sink, io.LimitReader(r.Body, s.o.MaxBody+1))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if n > s.o.MaxBody {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if sig == nil || !sig.valid() {
		s.o.Logger.Warn("websub notification with a bad or missing signature ignored", "feed", feedID)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	switch s.queue.push(feedID) {
	case queued:
		s.o.Logger.Debug("websub notification; polling", "feed", feedID)
	case full:
		s.o.Logger.Warn("websub notification queue full; feed left to its next poll", "feed", feedID)
	}
	s.noteDelivery(ctx, feedID, tok)
	w.WriteHeader(http.StatusAccepted)
}

// noteDelivery records when the hub last delivered, on a fresh read of
// the state so that a verification saved meanwhile is not undone.
func (s *Subscriber) noteDelivery(ctx context.Context, feedID, tok string) {
	st, err := s.o.Store.LoadPush(ctx, feedID)
	if err == nil {
		if _, _, ok := match(st, tok); !ok {
			return
		}
		st.LastNotified = s.o.Clock.Now()
		err = s.o.Store.SavePush(ctx, feedID, st)
	}
	if err != nil {
		s.o.Logger.Warn("websub: record notification", "feed", feedID, "error", err)
	}
}

// signature checks an X-Hub-Signature against the body written to it.
type signature struct {
	hash.Hash
	want []byte
}

func (m *signature) valid() bool { return hmac.Equal(m.Sum(nil), m.want) }

// signer parses "method=hexdigest" (§7.1): nil when the header is
// missing, malformed or names an algorithm §7.1.1 does not register.
func signer(header, secret string) *signature {
	method, sig, ok := strings.Cut(strings.TrimSpace(header), "=")
	if !ok || secret == "" {
		return nil
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
		return nil
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return nil
	}
	return &signature{Hash: hmac.New(h, []byte(secret)), want: want}
}

// notifyQueue hands feed ids to the engine without ever blocking a hub's
// request, each feed at most once while it waits: a burst of
// notifications for one feed costs one poll, and cannot crowd out others.
type notifyQueue struct {
	ch chan string
	mu sync.Mutex
	// sent mirrors the channel's contents, oldest first, and in indexes
	// it: the first len(sent)-len(ch) of them have been received.
	sent []string
	in   map[string]bool
}

// Outcomes of notifyQueue.push.
const (
	queued = iota
	waiting
	full
)

// push queues id unless it is already waiting or the queue is full.
func (q *notifyQueue) push(id string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	for taken := len(q.sent) - len(q.ch); taken > 0; taken-- {
		delete(q.in, q.sent[0])
		q.sent = q.sent[1:]
	}
	if q.in[id] {
		return waiting
	}
	select {
	case q.ch <- id:
		q.sent = append(q.sent, id)
		q.in[id] = true
		return queued
	default:
		return full
	}
}
