package telegramfake

import (
	"net/http"
	"strconv"
)

// Fault is a failure the fake answers with instead of doing the work.
type Fault struct {
	Code        int
	Description string
	RetryAfter  int
	MigrateTo   int64
	// HangAfterStore does the work (the message is stored) and then never
	// answers until the client gives up: an outcome the client cannot know.
	HangAfterStore bool
}

func (f Fault) answer() answer {
	return answer{code: f.Code, description: f.Description, retryAfter: f.RetryAfter, migrateTo: f.MigrateTo}
}

type queuedFault struct {
	method string // "" for any method
	chat   string // "" for any chat; else a numeric id or @username
	left   int
	fault  Fault
}

// Fail makes the next times calls of method ("" for any method) fail
// with f. Faults are used in the order they were added.
func (s *Server) Fail(method string, times int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, queuedFault{method: method, left: times, fault: f})
}

// FailChat is Fail for the calls addressed to one chat (a numeric id or
// @username, however the call names it), so that a flood wait or an
// outage can hit one chat while the bot's other chats keep working.
func (s *Server) FailChat(chat, method string, times int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, queuedFault{method: method, chat: chat, left: times, fault: f})
}

func (s *Server) takeFault(method, chat string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		q := &s.faults[i]
		if q.left > 0 && (q.method == "" || q.method == method) && (q.chat == "" || s.sameChatLocked(q.chat, chat)) {
			q.left--
			return q.fault, true
		}
	}
	return Fault{}, false
}

// sameChatLocked reports whether two chat references name one chat.
func (s *Server) sameChatLocked(a, b string) bool {
	if a == b {
		return true
	}
	ca, erra := s.resolveLocked(a)
	cb, errb := s.resolveLocked(b)
	return erra == nil && errb == nil && ca.ID == cb.ID
}

// Descriptions of Telegram errors, as the Bot API words them.
const (
	FailedToGetURL       = "Bad Request: failed to get HTTP URL content"
	WrongFileIdentifier  = "Bad Request: wrong file identifier/HTTP URL specified"
	WrongContentType     = "Bad Request: wrong type of the web page content"
	InvalidDimensions    = "Bad Request: PHOTO_INVALID_DIMENSIONS"
	FileTooBig           = "Bad Request: file is too big"
	NotModified          = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	MessageTooLong       = "Bad Request: message is too long"
	CaptionTooLong       = "Bad Request: message caption is too long"
	TextTooLong          = "Bad Request: text is too long"
	MessageTextEmpty     = "Bad Request: message text is empty"
	ChatNotFoundText     = "Bad Request: chat not found"
	KickedText           = "Forbidden: bot was kicked from the channel chat"
	NotMemberText        = "Forbidden: bot is not a member of the channel chat"
	NotEnoughRightsText  = "Bad Request: not enough rights to send text messages to the chat"
	MigratedText         = "Bad Request: group chat was upgraded to a supergroup chat"
	MessageToEditMissing = "Bad Request: message to edit not found"
)

// TooManyRequests answers 429 with retry_after seconds.
func TooManyRequests(retryAfter int) Fault {
	return Fault{Code: http.StatusTooManyRequests, Description: "Too Many Requests: retry after " + strconv.Itoa(retryAfter), RetryAfter: retryAfter}
}

// ServerError answers a 5xx status.
func ServerError(code int) Fault {
	return Fault{Code: code, Description: http.StatusText(code)}
}

// HangAfterStore stores the message, then never answers.
func HangAfterStore() Fault { return Fault{HangAfterStore: true} }

// Kicked answers that the bot was removed from the channel.
func Kicked() Fault { return Fault{Code: http.StatusForbidden, Description: KickedText} }

// NotMember answers that the bot is not in the channel.
func NotMember() Fault { return Fault{Code: http.StatusForbidden, Description: NotMemberText} }

// ChatNotFound answers that the chat does not exist for the bot.
func ChatNotFound() Fault { return Fault{Code: http.StatusBadRequest, Description: ChatNotFoundText} }

// NotEnoughRights answers that the bot may not post there.
func NotEnoughRights() Fault {
	return Fault{Code: http.StatusBadRequest, Description: NotEnoughRightsText}
}

// Unauthorized answers that the token is not valid.
func Unauthorized() Fault { return Fault{Code: http.StatusUnauthorized, Description: "Unauthorized"} }

// Migrated answers that the chat moved to newID.
func Migrated(newID int64) Fault {
	return Fault{Code: http.StatusBadRequest, Description: MigratedText, MigrateTo: newID}
}

// BadRequest answers 400 with a description such as FailedToGetURL.
func BadRequest(description string) Fault {
	return Fault{Code: http.StatusBadRequest, Description: description}
}
