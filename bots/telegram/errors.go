package telegram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// action is what the publisher does next about a failed call, beyond
// what the engine is told.
type action int

const (
	actFail          action = iota // give the engine the classified error
	actPlain                       // Telegram refused the markup or length: send plain text
	actNoKeyboard                  // Telegram refused a button: send without buttons
	actMedia                       // Telegram could not take the media: upload it, else text
	actMigrated                    // the chat moved: follow it
	actNotModified                 // an edit changed nothing: success
	actEditWrongKind               // the message has no text (or no media) to edit
)

// apiError is a classified Bot API failure. Its text never contains the
// bot token.
type apiError struct {
	kind       syndicate.ErrorKind
	act        action
	retryAfter time.Duration
	migrateTo  int64
	msg        string
}

func (e *apiError) Error() string { return e.msg }

func (e *apiError) delivery() *syndicate.DeliveryError {
	return &syndicate.DeliveryError{Kind: e.kind, RetryAfter: e.retryAfter, Err: errors.New(e.msg)}
}

// callInfo is what the transport saw of one call: whether the request was
// written out (so Telegram may have acted on it) and the HTTP status.
type callInfo struct {
	wrote  atomic.Bool
	status atomic.Int64
}

type callInfoKey struct{}

// traced is the HTTP client handed to the Bot API library: it records in
// the call's context whether the request was sent and what status came
// back, which the library does not expose.
type traced struct{ client *http.Client }

func (t traced) Do(req *http.Request) (*http.Response, error) {
	info, _ := req.Context().Value(callInfoKey{}).(*callInfo)
	if info != nil {
		trace := &httptrace.ClientTrace{WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				info.wrote.Store(true)
			}
		}}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	resp, err := t.client.Do(req)
	if info != nil && resp != nil {
		info.status.Store(int64(resp.StatusCode))
	}
	return resp, err
}

func withCallInfo(ctx context.Context) (context.Context, *callInfo) {
	info := &callInfo{}
	return context.WithValue(ctx, callInfoKey{}, info), info
}

// Fragments of Telegram's error descriptions. This file is the only place
// that reads them.
var (
	destinationErrors = []string{
		"chat not found", "bot was kicked", "bot is not a member", "not enough rights",
		"have no rights", "need administrator rights", "chat_write_forbidden", "chat_admin_required",
		"bot can't initiate", "user is deactivated", "bot was blocked", "group chat was deactivated",
		"message thread not found", "topic_closed", "topic_deleted", "chat is deactivated",
	}
	contentErrors = []string{
		"can't parse entities", "message is too long", "caption is too long", "text is too long",
		"message text is empty", "entities_too_long", "entity_bounds_invalid",
	}
	buttonErrors = []string{"button_url_invalid", "inline keyboard button", "reply markup is too long", "button_data_invalid"}
	mediaErrors  = []string{
		"wrong file identifier", "failed to get http url content", "wrong type of the web page content",
		"photo_invalid_dimensions", "file is too big", "image_process_failed", "photo_save_file_invalid",
		"webpage_curl_failed", "webpage_media_empty", "wrong remote file identifier", "photo_ext_invalid",
		"wrong http url", "media_empty", "failed to get http url", "request entity too large",
	}
	wrongKindErrors = []string{"there is no text in the message to edit", "there is no media in the message to edit", "there is no caption in the message to edit"}
	itemEditErrors  = []string{"message to edit not found", "message can't be edited", "message_id_invalid", "message_edit_time_expired"}
)

// imageInvalid reports a refusal of the image itself (its dimensions):
// uploading the same image cannot cure it, so no download is worth making.
func (e *apiError) imageInvalid() bool {
	return strings.Contains(strings.ToLower(e.msg), "dimensions")
}

func containsAny(s string, frags []string) bool {
	for _, f := range frags {
		if strings.Contains(s, f) {
			return true
		}
	}
	return false
}

// classify maps a failed call to what the engine and the publisher do. A
// failure without an answer is ambiguous when the request was written out
// (Telegram may have posted it; it has no idempotency keys), else
// temporary.
func classify(method string, err error, info *callInfo, token string) *apiError {
	text := redact(err.Error(), token)
	e := &apiError{kind: syndicate.ErrTemporary, msg: fmt.Sprintf("%s: %s", method, text)}
	lower := strings.ToLower(text)

	var tooMany *tgbot.TooManyRequestsError
	var migrate *tgbot.MigrateError
	switch {
	case errors.As(err, &tooMany):
		e.kind, e.retryAfter = syndicate.ErrRateLimited, time.Duration(max(1, tooMany.RetryAfter))*time.Second
	case errors.As(err, &migrate):
		e.kind, e.act, e.migrateTo = syndicate.ErrTemporary, actMigrated, int64(migrate.MigrateToChatID)
	case strings.Contains(lower, "message is not modified"):
		e.act = actNotModified
	case errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorForbidden), errors.Is(err, tgbot.ErrorNotFound):
		e.kind = syndicate.ErrPermanentDestination
	case errors.Is(err, tgbot.ErrorBadRequest):
		switch {
		case containsAny(lower, destinationErrors):
			e.kind = syndicate.ErrPermanentDestination
		case containsAny(lower, wrongKindErrors):
			e.kind, e.act = syndicate.ErrPermanentItem, actEditWrongKind
		case containsAny(lower, itemEditErrors):
			e.kind = syndicate.ErrPermanentItem
		case containsAny(lower, buttonErrors):
			e.kind, e.act = syndicate.ErrPermanentItem, actNoKeyboard
		case containsAny(lower, contentErrors):
			e.kind, e.act = syndicate.ErrPermanentItem, actPlain
		case containsAny(lower, mediaErrors):
			e.kind, e.act = syndicate.ErrPermanentItem, actMedia
		default:
			// An unknown refusal of this message: try the plain version
			// before parking the item.
			e.kind, e.act = syndicate.ErrPermanentItem, actPlain
		}
	case errors.Is(err, tgbot.ErrorConflict):
		e.kind = syndicate.ErrTemporary
	default:
		status := int64(0)
		wrote := false
		if info != nil {
			status, wrote = info.status.Load(), info.wrote.Load()
		}
		switch {
		case status >= 500:
			e.kind = syndicate.ErrTemporary
		case status == http.StatusOK:
			// Telegram answered success but the answer was unreadable.
			e.kind = syndicate.ErrAmbiguous
		case status == http.StatusRequestEntityTooLarge:
			e.kind, e.act = syndicate.ErrPermanentItem, actMedia
		case status == 0 && wrote && isTimeoutOrCut(err):
			e.kind = syndicate.ErrAmbiguous
			e.msg += " (the request was sent; Telegram may have posted it)"
		case status != 0 && status < 500 && status != http.StatusTooManyRequests:
			e.kind = syndicate.ErrPermanentItem
		default:
			e.kind = syndicate.ErrTemporary
		}
	}
	return e
}

// isTimeoutOrCut reports a failure while waiting for the answer.
func isTimeoutOrCut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		(errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "EOF") ||
		strings.Contains(err.Error(), "connection reset")
}

// redact removes the token from any text that may reach logs or errors.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "***")
	// Also the secret half alone, in case a URL was split or escaped.
	if i := strings.IndexByte(token, ':'); i >= 0 && len(token)-i > 8 {
		s = strings.ReplaceAll(s, token[i+1:], "***")
	}
	return s
}
