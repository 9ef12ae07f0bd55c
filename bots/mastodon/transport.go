package mastodon

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// go-mastodon has no per-request headers and hides rate-limit headers, and
// it retries a 429 by itself for up to an hour. This transport is the one
// choke point under it: it adds the Idempotency-Key carried by the request
// context, reports X-RateLimit-* headers, turns a 429 into an error at
// once, so the library's retry loop never starts and our scheduler decides
// when to come back, and sets apart error answers replayed for a key.

type idempotencyKeyCtx struct{}

// withIdempotencyKey makes the requests made under ctx carry key.
func withIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyCtx{}, key)
}

// rateState is what the server said about the budget closest to running out.
type rateState struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// rateLimitedError is a 429 answer.
type rateLimitedError struct {
	Reset   time.Time
	Message string
}

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("rate limited by the server until %s: %s", e.Reset.UTC().Format(time.RFC3339), e.Message)
}

// replayedError is an error answer the server did not give this request
// but replayed from an earlier one with the same Idempotency-Key: Pleroma
// and Akkoma keep every answer to a key for six hours, refusals included,
// and mark the copy with "Idempotent-Replayed: true". The earlier request
// failed, so nothing was created and the caller may go on with a new key.
type replayedError struct {
	Status  int
	Message string
}

func (e *replayedError) Error() string {
	return fmt.Sprintf("server replayed an earlier %d answer for this idempotency key: %s", e.Status, e.Message)
}

type transport struct {
	base http.RoundTripper
	// onHeader hears the rate headers of every answer, with its request
	// and whether it was a 429.
	onHeader func(req *http.Request, st rateState, refused bool)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if key, ok := req.Context().Value(idempotencyKeyCtx{}).(string); ok && key != "" && req.Method == http.MethodPost {
		req = req.Clone(req.Context())
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 && req.Header.Get("Idempotency-Key") != "" && strings.EqualFold(resp.Header.Get("Idempotent-Replayed"), "true") {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, &replayedError{Status: resp.StatusCode, Message: string(msg)}
	}
	st, ok := parseRateHeaders(resp.Header)
	if ok && t.onHeader != nil {
		t.onHeader(req, st, resp.StatusCode == http.StatusTooManyRequests)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, &rateLimitedError{Reset: st.Reset, Message: string(msg)}
	}
	return resp, nil
}

// parseRateHeaders reads X-RateLimit-Limit, -Remaining and -Reset (an
// ISO 8601 time).
func parseRateHeaders(h http.Header) (rateState, bool) {
	var st rateState
	var err error
	if st.Limit, err = strconv.Atoi(h.Get("X-RateLimit-Limit")); err != nil {
		return rateState{}, false
	}
	if st.Remaining, err = strconv.Atoi(h.Get("X-RateLimit-Remaining")); err != nil {
		return rateState{}, false
	}
	if st.Reset, err = time.Parse(time.RFC3339Nano, h.Get("X-RateLimit-Reset")); err != nil {
		return rateState{}, false
	}
	return st, true
}
