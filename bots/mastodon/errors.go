package mastodon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	gomastodon "github.com/mattn/go-mastodon"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// This file is the only place that reads Mastodon's error codes and texts.

// apiStatus returns the HTTP status and error text of a server answer.
func apiStatus(err error) (int, string, bool) {
	var ae *gomastodon.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode, ae.Message, true
	}
	var he *httpError
	if errors.As(err, &he) {
		return he.Status, he.Message, true
	}
	return 0, "", false
}

// httpError is an error answer to a request this package makes itself.
type httpError struct {
	Status  int
	Message string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// isTooLong reports an answer refusing a status for its length, whatever
// its status code and wording: Mastodon's 422 "Validation failed: Text
// character limit of N exceeded", GoToSocial's 400 "Bad Request: text with
// spoiler exceed max chars (N)", Pleroma's and Akkoma's 422 "The status is
// over the character limit", and the like from other servers and proxies
// (a 413 says the request was too large). A refusal about a media
// description, a poll or the number of attachments is not about the
// status's length.
func isTooLong(err error) bool {
	code, msg, ok := apiStatus(err)
	if !ok || code < 400 {
		return false
	}
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone, http.StatusTooManyRequests:
		return false
	}
	m := strings.ToLower(msg)
	for _, other := range []string{"description", "alt text", "poll", "attachment", "media"} {
		if strings.Contains(m, other) {
			return false
		}
	}
	if code == http.StatusRequestEntityTooLarge {
		return true
	}
	return strings.Contains(m, "too long") ||
		strings.Contains(m, "character limit") ||
		strings.Contains(m, "max chars") ||
		strings.Contains(m, "length") ||
		strings.Contains(m, "exceed") && strings.Contains(m, "char")
}

// isMediaNotReady reports the 422 for attaching media still processing.
func isMediaNotReady(err error) bool {
	code, msg, ok := apiStatus(err)
	return ok && code == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(msg), "finished processing")
}

// isProcessing reports the 206 of GET /api/v1/media/:id.
func isProcessing(err error) bool {
	code, _, ok := apiStatus(err)
	return ok && code == http.StatusPartialContent
}

// mayHaveReached reports a failure after which the server may have acted:
// no answer was read (timeout, connection reset).
func mayHaveReached(err error) bool {
	if _, _, ok := apiStatus(err); ok {
		return false
	}
	var rl *rateLimitedError
	var we *WaitError
	var re *replayedError
	return !errors.As(err, &rl) && !errors.As(err, &we) && !errors.As(err, &re)
}

// isReplayedRefusal reports an error answer replayed for the request's
// Idempotency-Key instead of acting on the request.
func isReplayedRefusal(err error) bool {
	var re *replayedError
	return errors.As(err, &re)
}

// classify turns a failed call into the kind the engine acts on.
func classify(err error, now time.Time) *syndicate.DeliveryError {
	var de *syndicate.DeliveryError
	if errors.As(err, &de) {
		return de
	}
	var we *WaitError
	if errors.As(err, &we) {
		return &syndicate.DeliveryError{Kind: syndicate.ErrRateLimited, RetryAfter: we.Delay, Err: err}
	}
	if isReplayedRefusal(err) {
		// Only when new keys ran out, which takes several refusals.
		return &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: err}
	}
	var rl *rateLimitedError
	if errors.As(err, &rl) {
		wait := rl.Reset.Sub(now)
		if rl.Reset.IsZero() {
			wait = time.Minute
		}
		return &syndicate.DeliveryError{Kind: syndicate.ErrRateLimited, RetryAfter: max(wait, time.Second), Err: err}
	}
	code, msg, ok := apiStatus(err)
	if !ok {
		if errors.Is(err, context.Canceled) {
			return &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: err}
		}
		return &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: err}
	}
	switch {
	case isTooLong(err):
		// A shorter status always exists: the refusal is never final.
		return &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: fmt.Errorf("server refused the status as too long: %w", err)}
	case code == http.StatusUnauthorized:
		return &syndicate.DeliveryError{Kind: syndicate.ErrPermanentDestination, Err: fmt.Errorf("access token rejected (check the account's access_token and its write scopes): %w", err)}
	case code == http.StatusForbidden:
		return &syndicate.DeliveryError{Kind: syndicate.ErrPermanentDestination, Err: fmt.Errorf("account may not post (suspended, or token lacks write scope): %w", err)}
	case code == http.StatusGone:
		return &syndicate.DeliveryError{Kind: syndicate.ErrPermanentDestination, Err: fmt.Errorf("account is gone from the server: %w", err)}
	case code == http.StatusTooManyRequests:
		return &syndicate.DeliveryError{Kind: syndicate.ErrRateLimited, RetryAfter: time.Minute, Err: err}
	case code >= 500, code == http.StatusRequestTimeout:
		return &syndicate.DeliveryError{Kind: syndicate.ErrTemporary, Err: err}
	case code == http.StatusUnprocessableEntity || code == http.StatusBadRequest:
		return &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: fmt.Errorf("server refused the status: %s: %w", msg, err)}
	case code == http.StatusNotFound:
		return &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: fmt.Errorf("not found on the server: %w", err)}
	}
	return &syndicate.DeliveryError{Kind: syndicate.ErrPermanentItem, Err: err}
}

// scrub removes the access token from an error text, whatever produced it.
type scrubbed struct{ msg string }

func (e scrubbed) Error() string { return e.msg }

func scrubError(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return scrubbed{msg: strings.ReplaceAll(err.Error(), token, "[redacted]")}
}

// limitInText finds the limit in Mastodon's "character limit of N", the
// "limit is N" of other servers, GoToSocial's "max chars (N)" and Rails'
// "maximum is N".
var limitInText = regexp.MustCompile(`(?i)(?:limit (?:of|is)|max chars \(|maximum is) ?([0-9]+)`)

// statedLimit returns the character limit a "too long" answer states, if
// it states one.
func statedLimit(err error) (int, bool) {
	_, msg, ok := apiStatus(err)
	if !ok {
		return 0, false
	}
	m := limitInText.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	n, err2 := strconv.Atoi(m[1])
	return n, err2 == nil && n > 0
}
