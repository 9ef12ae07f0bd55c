// Package telegramfake is an in-process Bot API server for tests and demos
// that behaves like Telegram where our code depends on it: it validates
// method names and parameters against the published API signatures,
// parses HTML like Telegram and refuses what Telegram refuses (invalid
// markup, over-long texts and captions, bad button URLs), enforces flood
// limits with 429 and retry_after, keeps the messages a follower would
// see (edits applied), injects faults and records every call.
//
// Where it differs from Telegram on purpose it is stricter: unknown
// parameters are refused with 400 "unknown parameter" (Telegram ignores
// them), and lengths are counted in UTF-16 units (never fewer than
// Telegram's code points).
package telegramfake

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock tells the fake the time, so flood windows follow a test's clock.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Chat is a chat the fake knows.
type Chat struct {
	ID int64
	// Username without '@', for public channels.
	Username string
	Title    string
	// Type is "channel" unless set.
	Type string
	// Members are the tokens of the bots that may post; empty means every
	// valid token.
	Members []string
	// Rights give a bot (by token) its membership and rights in the chat;
	// a bot without an entry is an administrator that may post and edit in
	// a channel, and a member in a group.
	Rights map[string]Member
	// Permissions are what members of a group or supergroup may send
	// (nil: everything).
	Permissions *Permissions
	// IsForum makes a supergroup a forum; Topics are its topics' ids
	// (message_thread_id) besides General's.
	IsForum bool
	Topics  []int64
}

// Options configure a fake server.
type Options struct {
	Clock Clock
	// FloodPerChatPerMinute caps messages to one chat in any minute
	// (default 20, negative: off); FloodPerBotPerSecond caps the calls of
	// one bot in any second (default 30, negative: off). The defaults are
	// the Bot FAQ's ("My bot is hitting limits, how do I avoid this?" at
	// core.telegram.org/bots/faq): no more than 20 messages a minute to
	// one group, about 30 a second in all. Both count in sliding windows
	// (any minute, any second, not the clock's), so the fake refuses
	// whatever fixed windows would, and every call counts towards its
	// bot's second, getMe and edits included; refused calls count nowhere.
	FloodPerChatPerMinute int
	FloodPerBotPerSecond  int
	// Tokens are the valid bot tokens; empty means any token shaped like one.
	Tokens []string
	Chats  []Chat
	// FetchURLs makes the fake fetch the photo URLs it is given, as
	// Telegram does, and refuse what Telegram refuses: a fetch that fails
	// or answers 4xx/5xx, content that is not an image, a photo over the
	// 5 MB by-URL limit or outside the photo dimensions. Without it photo
	// URLs are taken unseen (tests with made-up URLs).
	FetchURLs bool
	// FetchClient makes those fetches (default: a 10 s timeout).
	FetchClient *http.Client
}

// Call is one request the fake answered.
type Call struct {
	Method string
	Token  string
	Params map[string]string
	Files  map[string]File
	// Code is the HTTP status answered; Description the error text.
	Code        int
	Description string
	// Messages are the messages the call created or edited.
	Messages []Message
	At       time.Time
}

// Server is a fake Bot API server.
type Server struct {
	srv   *httptest.Server
	spec  *apiSpec
	clock Clock
	opts  Options

	closing   chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	chats     map[int64]*chatState
	usernames map[string]int64
	calls     []Call
	faults    []queuedFault
	rejected  map[string]string // URL → error description when fetched
	chatSends map[int64][]time.Time
	botCalls  map[string][]time.Time
	nextFile  int
	nextGroup int
}

type chatState struct {
	Chat
	messages   []*Message
	nextID     int64
	migratedTo int64
	kicked     map[string]bool
}

// New starts a fake server; Close stops it.
func New(opts Options) *Server {
	spec, err := loadSpec()
	if err != nil {
		panic(err) // the embedded spec is part of the binary
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.FloodPerChatPerMinute == 0 {
		opts.FloodPerChatPerMinute = 20
	}
	if opts.FloodPerBotPerSecond == 0 {
		opts.FloodPerBotPerSecond = 30
	}
	s := &Server{
		spec:      spec,
		clock:     opts.Clock,
		opts:      opts,
		closing:   make(chan struct{}),
		chats:     map[int64]*chatState{},
		usernames: map[string]int64{},
		rejected:  map[string]string{},
		chatSends: map[int64][]time.Time{},
		botCalls:  map[string][]time.Time{},
	}
	for _, c := range opts.Chats {
		s.AddChat(c)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the server URL to give a client (without a trailing slash).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server, releasing requests held by a hang fault.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.srv.Close()
}

// AddChat makes a chat known.
func (s *Server) AddChat(c Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Type == "" {
		c.Type = "channel"
	}
	s.chats[c.ID] = &chatState{Chat: c, nextID: 1, kicked: map[string]bool{}}
	if c.Username != "" {
		s.usernames[strings.ToLower(c.Username)] = c.ID
	}
}

// MigrateChat moves a chat to a new id, as when a group becomes a
// supergroup: requests to the old id fail with migrate_to_chat_id.
func (s *Server) MigrateChat(oldID, newID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.chats[oldID]
	if !ok {
		return
	}
	c := old.Chat
	c.ID = newID
	nc := &chatState{Chat: c, nextID: 1, kicked: map[string]bool{}}
	s.chats[newID] = nc
	old.migratedTo = newID
	if c.Username != "" {
		s.usernames[strings.ToLower(c.Username)] = newID
	}
}

// Kick removes a bot from a chat: its requests there fail with 403.
func (s *Server) Kick(chatID int64, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.chats[chatID]; ok {
		c.kicked[token] = true
	}
}

// RejectURL makes Telegram fail to fetch a file URL with description (for
// example FailedToGetURL or InvalidDimensions), every time, as Telegram
// caches failed fetches.
func (s *Server) RejectURL(url, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected[url] = description
}

// Calls returns every call answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Refused returns the calls answered with an error, in order.
func (s *Server) Refused() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Code != http.StatusOK {
			out = append(out, c)
		}
	}
	return out
}

// CallsTo returns the calls of one method.
func (s *Server) CallsTo(method string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns what a follower sees in a chat (a numeric id or
// @username), oldest first, with edits applied.
func (s *Server) Messages(chat string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveLocked(chat)
	if err != nil {
		return nil
	}
	out := make([]Message, len(c.messages))
	for i, m := range c.messages {
		out[i] = *m
	}
	return out
}

var pathRE = regexp.MustCompile(`^/bot([^/]+)/([A-Za-z0-9_]+)$`)
var tokenRE = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// answer is what a handler returns: a result, or an error with code.
type answer struct {
	code        int
	description string
	result      any
	retryAfter  int
	migrateTo   int64
	messages    []Message
}

func fail(code int, format string, args ...any) answer {
	return answer{code: code, description: fmt.Sprintf(format, args...)}
}

func badRequest(err error) answer {
	return answer{code: http.StatusBadRequest, description: err.Error()}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		s.write(w, Call{}, fail(http.StatusNotFound, "Not Found"))
		return
	}
	token, name := m[1], m[2]
	call := Call{Method: name, Token: token, At: s.clock.Now()}
	method, ok := s.spec.byLower[strings.ToLower(name)]
	if !ok {
		s.write(w, call, fail(http.StatusNotFound, "Not Found"))
		return
	}
	call.Method = method
	if !s.validToken(token) {
		s.write(w, call, fail(http.StatusUnauthorized, "Unauthorized"))
		return
	}
	p, err := readParams(r)
	call.Params, call.Files = p.values, p.files
	if err != nil {
		s.write(w, call, badRequest(err))
		return
	}
	f, hasFault := s.takeFault(method, p.values["chat_id"])
	if hasFault && !f.HangAfterStore {
		s.write(w, call, f.answer())
		return
	}
	if err := s.spec.validate(method, p); err != nil {
		s.write(w, call, badRequest(err))
		return
	}
	s.prefetch(method, &p)
	a := s.handle(method, token, p)
	if hasFault && f.HangAfterStore {
		s.record(call, a)
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	}
	s.write(w, call, a)
}

func (s *Server) validToken(token string) bool {
	if len(s.opts.Tokens) == 0 {
		return tokenRE.MatchString(token)
	}
	for _, t := range s.opts.Tokens {
		if t == token {
			return true
		}
	}
	return false
}

func (s *Server) record(call Call, a answer) {
	call.Code = http.StatusOK
	if a.code != 0 {
		call.Code, call.Description = a.code, a.description
	}
	call.Messages = a.messages
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
}

func (s *Server) write(w http.ResponseWriter, call Call, a answer) {
	s.record(call, a)
	w.Header().Set("Content-Type", "application/json")
	if a.code != 0 {
		body := map[string]any{"ok": false, "error_code": a.code, "description": a.description}
		ps := map[string]any{}
		if a.retryAfter > 0 {
			ps["retry_after"] = a.retryAfter
			w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
		}
		if a.migrateTo != 0 {
			ps["migrate_to_chat_id"] = a.migrateTo
		}
		if len(ps) > 0 {
			body["parameters"] = ps
		}
		w.WriteHeader(a.code)
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": a.result})
}

// floodCheck counts a call against the bot's and the chat's windows and
// answers 429 with the wait when one of them is full: a window holds the
// calls after now−window up to now, read under the lock, so that every
// log stays in time order.
func (s *Server) floodCheck(token string, chat int64, countChat bool) (answer, bool) {
	now := s.clock.Now()
	if lim := s.opts.FloodPerBotPerSecond; lim > 0 {
		w := prune(s.botCalls[token], now, time.Second)
		s.botCalls[token] = w
		if len(w) >= lim {
			return tooMany(w[len(w)-lim].Add(time.Second).Sub(now)), false
		}
	}
	if lim := s.opts.FloodPerChatPerMinute; lim > 0 && countChat {
		w := prune(s.chatSends[chat], now, time.Minute)
		s.chatSends[chat] = w
		if len(w) >= lim {
			return tooMany(w[len(w)-lim].Add(time.Minute).Sub(now)), false
		}
		s.chatSends[chat] = append(w, now)
	}
	if s.opts.FloodPerBotPerSecond > 0 {
		s.botCalls[token] = append(s.botCalls[token], now)
	}
	return answer{}, true
}

func prune(ts []time.Time, now time.Time, window time.Duration) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-window)) {
		i++
	}
	return ts[i:]
}

// tooMany is the Bot API server's flood answer: 429 "Too Many Requests:
// retry after N" with parameters.retry_after N
// (telegram-bot-api/Query.cpp, Query::set_retry_after_error) and a
// Retry-After header of N (telegram-bot-api/HttpConnection.cpp,
// HttpConnection::send_response), N being the whole seconds until the
// window has room.
func tooMany(wait time.Duration) answer {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	return answer{code: http.StatusTooManyRequests, description: fmt.Sprintf("Too Many Requests: retry after %d", secs), retryAfter: secs}
}
