// Package mastodonfake is an in-process Mastodon API server for tests and
// demos: it serves the client API the bots use and NodeInfo, validates
// requests against the endpoints' OpenAPI description, applies Mastodon's
// (or GoToSocial's, Pleroma's, Akkoma's) length rules and refusals,
// Idempotency-Key semantics, media processing and rate limits, injects
// faults on demand and records everything.
package mastodonfake

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server flavours: servers that speak the Mastodon client API differently.
// Each counts a status its own way and refuses one that is too long with
// its own status code and text, quoted from its source.
const (
	// FlavourMastodon counts the grapheme clusters of text and spoiler,
	// URLs as the reserved length, @user@domain as @user
	// (app/validators/status_length_validator.rb) and refuses with 422
	// "Validation failed: Text character limit of N exceeded" (the
	// validator's statuses.over_character_limit, "character limit of
	// %{max} exceeded" in config/locales/en.yml, on the text attribute, in
	// ActiveRecord's "Validation failed: …" answer). NodeInfo names it
	// "mastodon" (app/serializers/nodeinfo/serializer.rb).
	FlavourMastodon = "mastodon"
	// FlavourGoToSocial ignores Idempotency-Key, defaults to unlisted,
	// counts the code points of status plus spoiler_text with URLs and
	// mentions in full, and refuses with 400 "Bad Request: text with
	// spoiler exceed max chars (N)" (internal/processing/status/common.go,
	// validateStatusContent; gtserror.NewErrorBadRequest in
	// internal/gtserror/withcode.go prefixes "Bad Request: "). NodeInfo
	// names it "gotosocial" (internal/processing/fedi/wellknown.go); its
	// instance version is its own, and source_url names it
	// (internal/typeutils/internaltofrontend.go).
	FlavourGoToSocial = "gotosocial"
	// FlavourPleroma is Pleroma. What differs from Mastodon, with "[src]"
	// for what its source shows and "[inf]" for inference:
	//   - the version reads "2.7.2 (compatible; Pleroma 2.5.0)" [src];
	//   - older versions have no GET /api/v2/instance (set NoV2Instance);
	//     their v1 instance carries the limits as max_toot_chars,
	//     upload_limit, description_limit and poll_limits, without a
	//     configuration block [src]; newer ones add a configuration block
	//     whose supported_mime_types is only application/octet-stream, and
	//     a v2 instance stating characters_reserved_per_url 0 [src];
	//   - defaults: 5000 characters, 16 MB uploads, 5000-character alt
	//     text, 1000 attachments [src config defaults];
	//   - the length is the grapheme count of the trimmed text followed by
	//     the spoiler, trimmed again, URLs and mentions at full length
	//     (lib/pleroma/web/common_api/activity_draft.ex, status/1 and
	//     full_payload/1; String.length counts graphemes) [src];
	//   - a status over the limit is refused with 422 "The status is over
	//     the character limit" (lib/pleroma/web/common_api/utils.ex,
	//     validate_character_limit/2; the 422 is StatusController.create/2
	//     in lib/pleroma/web/mastodon_api/controllers/status_controller.ex)
	//     [src];
	//   - Idempotency-Key is kept by a plug in front of every POST, PUT and
	//     PATCH: whatever the first answer was, errors included, is replayed
	//     for six hours with Idempotent-Replayed: true, per account and
	//     path [src IdempotencyPlug; older versions keyed by the key alone];
	//     the real cache also forgets early once 2500 keys are held [src],
	//     which the fake does not model;
	//   - POST /api/v2/media answers 202 with the URL already set (uploads
	//     are processed synchronously), POST /api/v1/media 200 [src];
	//   - NodeInfo names it "pleroma", the application's name in lower case
	//     (lib/pleroma/web/nodeinfo/nodeinfo.ex) [src];
	//   - visibility defaults to public (the account's default scope) [inf];
	//   - 429 says "Throttled" and no X-RateLimit-* headers are sent [inf].
	FlavourPleroma = "pleroma"
	// FlavourAkkoma is Pleroma's fork Akkoma: everything as FlavourPleroma
	// (the same activity_draft.ex, utils.ex and status_controller.ex), but
	// the version reads "2.7.2 (compatible; Akkoma 3.13.2)" and NodeInfo
	// names it "akkoma" (its mix.exs names the application "Akkoma").
	FlavourAkkoma = "akkoma"
	// FlavourUnknown is a made-up server standing for any implementation
	// this package knows nothing about: NodeInfo names it "someserver", its
	// instance version is a plain "7", it counts code points with URLs in
	// full and refuses with 422 "Status is too long". Its texts come from
	// no real server; otherwise it answers as Mastodon does.
	FlavourUnknown = "someserver"
)

// pleromaKeyMemory is how long Pleroma's idempotency cache keeps an answer.
const pleromaKeyMemory = 6 * time.Hour

// Options configure a fake server; zero values take Mastodon's defaults.
type Options struct {
	// Now is the fake's clock (default time.Now).
	Now                func() time.Time
	MaxCharacters      int
	MaxMedia           int
	ReservedPerURL     int
	DescriptionLimit   int
	ImageSizeLimit     int64
	ImageMatrixLimit   int64
	SupportedMIMETypes []string
	Flavour            string
	// Tokens maps access tokens to account user names (default
	// {"test-token": "bot"}).
	Tokens map[string]string
	// Scopes maps access tokens to their scopes, space separated as
	// Mastodon stores them ("read write:statuses"); a token not named has
	// "read write push". A request outside its token's scopes is refused
	// with 403 as Mastodon does.
	Scopes map[string]string
	// NoAppScopes leaves scopes out of GET /api/v1/apps/verify_credentials,
	// as servers before Mastodon 4.3 do.
	NoAppScopes bool
	// NoV2Instance makes GET /api/v2/instance answer 404 (Mastodon before
	// 4.0, older Pleroma and Akkoma).
	NoV2Instance bool
	// Version replaces the flavour's version string in the instance
	// answers, e.g. "4.5.0" on another flavour to pass for Mastodon.
	Version string
	// NoNodeInfo makes /.well-known/nodeinfo answer 404, as behind a proxy
	// that serves only the API; NoSourceURL leaves source_url out of the
	// instance answers.
	NoNodeInfo  bool
	NoSourceURL bool
	// MediaProcessing is how many times GET /api/v1/media/:id answers 206
	// before 200; with 0 uploads are processed at once (200).
	MediaProcessing int
	RateLimits      RateLimits
}

// RateLimits are per-account request budgets. The defaults are
// Mastodon's: 300 API requests per 5 minutes per access token
// (throttle_per_token_api) and 30 media uploads per 30 minutes per user
// (throttle_api_media) in config/initializers/rack_attack.rb, and 300
// statuses per 3 hours per account (the statuses family of
// app/lib/rate_limiter.rb). Mastodon counts in fixed windows (whole
// periods since 1970); the fake counts in sliding windows (any period),
// which refuse whatever fixed windows refuse, and counts only the
// requests it answers.
type RateLimits struct {
	Requests       int
	RequestsWindow time.Duration
	Media          int
	MediaWindow    time.Duration
	Statuses       int
	StatusesWindow time.Duration
}

// Fault is an injected failure for one request.
type Fault struct {
	// Status and Error answer the request with this code and error text
	// without doing anything.
	Status int
	Error  string
	// DropAfterCreate performs the request, then closes the connection
	// without answering (a crash or timeout after the server acted).
	DropAfterCreate bool
	// HangAfterCreate performs the request, then answers only after the
	// client gave up.
	HangAfterCreate bool
}

// Status is a status as followers see it.
type Status struct {
	ID          string
	URL         string
	Account     string
	Text        string
	Content     string
	SpoilerText string
	Visibility  string
	Language    string
	Sensitive   bool
	Media       []Attachment
	Mentions    []string
	Tags        []string
	// IdempotencyKey is the key the status was created with.
	IdempotencyKey string
	CreatedAt      time.Time
	EditedAt       time.Time
	Edits          int
}

// Attachment is an uploaded media file.
type Attachment struct {
	ID          string
	Account     string
	Type        string
	ContentType string
	URL         string
	Description string
	Size        int
	Width       int
	Height      int
	StatusID    string
	// pending counts the 206 answers still to give.
	pending int
}

// Request is a recorded request.
type Request struct {
	Method string
	Path   string
	// Endpoint is "METHOD /path/{template}" as in the spec.
	Endpoint       string
	Query          url.Values
	Form           url.Values
	Files          []string
	IdempotencyKey string
	// Replayed is set when the answer was replayed from an earlier request
	// with the same Idempotency-Key (Pleroma).
	Replayed bool
	// Authorization is the header as sent.
	Authorization string
	Status        int
	At            time.Time
}

// Server is a running fake.
type Server struct {
	opts Options
	spec Spec
	ts   *httptest.Server
	done chan struct{}

	mu          sync.Mutex
	requests    []Request
	specErrors  []string
	statuses    []*Status
	media       map[string]*Attachment
	idempotency map[string]idemEntry
	replays     map[string]replay
	faults      map[string][]Fault
	windows     map[string][]time.Time
	nextID      int
}

type idemEntry struct {
	statusID string
	at       time.Time
}

// replay is an answer Pleroma keeps for an Idempotency-Key.
type replay struct {
	status int
	body   any
	at     time.Time
}

// New starts a fake server.
func New(opts Options) *Server {
	s := newServer(opts)
	s.ts = httptest.NewServer(s)
	return s
}

func newServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Flavour == "" {
		opts.Flavour = FlavourMastodon
	}
	if opts.Flavour == FlavourPleroma || opts.Flavour == FlavourAkkoma {
		// Pleroma's configuration defaults.
		if opts.MaxCharacters == 0 {
			opts.MaxCharacters = 5000
		}
		if opts.MaxMedia == 0 {
			opts.MaxMedia = 1000
		}
		if opts.DescriptionLimit == 0 {
			opts.DescriptionLimit = 5000
		}
		if opts.ImageSizeLimit == 0 {
			opts.ImageSizeLimit = 16_000_000
		}
	}
	if opts.Flavour == FlavourGoToSocial {
		// GoToSocial's defaults, as v0.19.2 states them in its instance
		// answers (statuses-max-chars 5000, statuses-media-max-files 6,
		// 25 characters advertised per URL, 40 MiB images).
		if opts.MaxCharacters == 0 {
			opts.MaxCharacters = 5000
		}
		if opts.MaxMedia == 0 {
			opts.MaxMedia = 6
		}
		if opts.ReservedPerURL == 0 {
			opts.ReservedPerURL = 25
		}
		if opts.ImageSizeLimit == 0 {
			opts.ImageSizeLimit = 40 << 20
		}
	}
	if opts.MaxCharacters == 0 {
		opts.MaxCharacters = 500
	}
	if opts.MaxMedia == 0 {
		opts.MaxMedia = 4
	}
	if opts.ReservedPerURL == 0 {
		opts.ReservedPerURL = 23
	}
	if opts.DescriptionLimit == 0 {
		opts.DescriptionLimit = 1500
	}
	if opts.ImageSizeLimit == 0 {
		opts.ImageSizeLimit = 16 << 20
	}
	if opts.ImageMatrixLimit == 0 {
		opts.ImageMatrixLimit = 33177600
	}
	if len(opts.SupportedMIMETypes) == 0 {
		opts.SupportedMIMETypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"}
	}
	if opts.Tokens == nil {
		opts.Tokens = map[string]string{"test-token": "bot"}
	}
	r := &opts.RateLimits
	if r.Requests == 0 {
		r.Requests, r.RequestsWindow = 300, 5*time.Minute
	}
	if r.Media == 0 {
		r.Media, r.MediaWindow = 30, 30*time.Minute
	}
	if r.Statuses == 0 {
		r.Statuses, r.StatusesWindow = 300, 3*time.Hour
	}
	spec, err := loadSpec()
	if err != nil {
		panic(err) // the embedded spec is part of the build
	}
	return &Server{
		opts:        opts,
		spec:        spec,
		done:        make(chan struct{}),
		media:       map[string]*Attachment{},
		idempotency: map[string]idemEntry{},
		replays:     map[string]replay{},
		faults:      map[string][]Fault{},
		windows:     map[string][]time.Time{},
		nextID:      110000000000000000,
	}
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.ts.URL }

// Close stops the server and releases requests still hanging.
func (s *Server) Close() {
	close(s.done)
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// Fail queues faults for the next requests to endpoint ("POST
// /api/v1/statuses", "GET /api/v1/media/{id}", …), one per request.
func (s *Server) Fail(endpoint string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = append(s.faults[endpoint], faults...)
}

// Statuses returns the account's statuses as followers see them, oldest
// first, edits applied.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.statuses))
	for _, st := range s.statuses {
		c := *st
		c.Media = append([]Attachment(nil), st.Media...)
		out = append(out, c)
	}
	return out
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// SpecErrors returns what requests did that the API description does not
// allow (unknown endpoints or parameters, wrong types).
func (s *Server) SpecErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.specErrors...)
}

// CountStatus returns how many requests got the HTTP status code.
func (s *Server) CountStatus(code int) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Status == code {
			n++
		}
	}
	return n
}

// SetMaxCharacters changes the character limit (a server reconfigured).
func (s *Server) SetMaxCharacters(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.MaxCharacters = n
}

// request is the parsed request handed to the handlers.
type request struct {
	*http.Request
	op      *Operation
	vals    map[string]string
	form    url.Values
	files   map[string]*multipart.FileHeader
	account string
	token   string
	rec     *Request
}

// answer is what a handler returns.
type answer struct {
	status int
	body   any
	// fault is the failure that follows the action (a dropped connection,
	// an answer that never comes).
	fault *Fault
	// headers are set on the answer besides the rate-limit headers.
	headers map[string]string
}

func errorAnswer(status int, msg string) answer {
	return answer{status: status, body: map[string]string{"error": msg}}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Authorization: r.Header.Get("Authorization"), At: now}
	req := &request{Request: r, rec: &rec}
	a := s.serve(req, now)

	s.mu.Lock()
	rec.Status = a.status
	s.requests = append(s.requests, rec)
	headers := s.rateHeaders(req.account, req.op, now)
	s.mu.Unlock()

	if a.fault != nil && a.fault.DropAfterCreate {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	}
	if a.fault != nil && a.fault.HangAfterCreate {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	for k, v := range a.headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(a.status)
	if a.body != nil {
		_ = json.NewEncoder(w).Encode(a.body)
	}
}

// pleromaLike reports Pleroma and Akkoma.
func (s *Server) pleromaLike() bool {
	return s.opts.Flavour == FlavourPleroma || s.opts.Flavour == FlavourAkkoma
}

func (s *Server) serve(req *request, now time.Time) answer {
	// NodeInfo is a federation protocol, not part of the client API the
	// spec describes, so it is answered before the spec is consulted.
	if a, ok := s.nodeInfo(req); ok {
		return a
	}
	op, vals := s.spec.match(req.Method, req.URL.Path)
	if op == nil {
		s.specError(fmt.Sprintf("unknown endpoint %s %s", req.Method, req.URL.Path))
		return errorAnswer(http.StatusNotFound, "Record not found")
	}
	req.op, req.vals = op, vals
	endpoint := op.Method + " " + op.Path
	req.rec.Endpoint = endpoint
	if err := s.parseBody(req); err != nil {
		s.specError(fmt.Sprintf("%s: %v", endpoint, err))
		return errorAnswer(http.StatusBadRequest, err.Error())
	}
	var files []string
	for f := range req.files {
		files = append(files, f)
	}
	req.rec.Form, req.rec.Files = req.form, files
	if errs := op.validate(req.URL.Query(), req.form, files); len(errs) > 0 {
		for _, e := range errs {
			s.specError(endpoint + ": " + e)
		}
		return errorAnswer(http.StatusBadRequest, "fake: request does not match the API description: "+strings.Join(errs, "; "))
	}
	if v := req.form.Get("visibility"); v != "" && !oneOf(v, "public", "unlisted", "private", "direct") {
		return errorAnswer(http.StatusUnprocessableEntity, "Validation failed: Visibility is not included in the list")
	}

	public := strings.Contains(op.Path, "/instance")
	if !public {
		token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		acct, known := s.opts.Tokens[token]
		if !ok || !known {
			return errorAnswer(http.StatusUnauthorized, "The access token is invalid")
		}
		req.account = acct
		if a, refused := s.outOfScope(token, endpoint); refused {
			return a
		}
		req.token = token
	}
	if !s.pleromaLike() || req.rec.IdempotencyKey == "" || !oneOf(req.Method, http.MethodPost, http.MethodPut, http.MethodPatch) {
		return s.act(req, endpoint, now)
	}
	// Pleroma's idempotency plug sits in front of the controllers: it
	// replays any answer it kept, and keeps whatever the controller (or
	// its rate limiter) answers.
	cacheKey := strings.Join([]string{req.Method, req.URL.Path, req.account, req.rec.IdempotencyKey}, "\x00")
	s.mu.Lock()
	if r, ok := s.replays[cacheKey]; ok && now.Sub(r.at) < pleromaKeyMemory {
		s.mu.Unlock()
		req.rec.Replayed = true
		return answer{status: r.status, body: r.body,
			headers: map[string]string{"Idempotency-Key": req.rec.IdempotencyKey, "Idempotent-Replayed": "true"}}
	}
	s.mu.Unlock()
	a := s.act(req, endpoint, now)
	s.mu.Lock()
	s.replays[cacheKey] = replay{status: a.status, body: a.body, at: now}
	s.mu.Unlock()
	a.headers = map[string]string{"Idempotency-Key": req.rec.IdempotencyKey}
	return a
}

// act answers an authenticated request: an injected fault, the rate
// limit, or the endpoint's handler.
func (s *Server) act(req *request, endpoint string, now time.Time) answer {
	s.mu.Lock()
	if f, ok := s.nextFault(endpoint); ok && !f.DropAfterCreate && !f.HangAfterCreate {
		s.mu.Unlock()
		msg := f.Error
		if msg == "" {
			msg = defaultError(f.Status)
		}
		return errorAnswer(f.Status, msg)
	} else if ok {
		s.mu.Unlock()
		a := s.handle(req, endpoint, now)
		a.fault = &f
		return a
	}
	if req.account != "" {
		// A spent budget is answered 429 {"error": "Too many requests"}
		// (errors.429 in config/locales/en.yml): by rack-attack's
		// throttled_responder in config/initializers/rack_attack.rb for
		// the requests and media throttles, by Api::BaseController's
		// rescue of Mastodon::RateLimitExceededError
		// (app/controllers/api/base_controller.rb) for the statuses.
		if !s.takeRate(req.account, endpoint, now) {
			s.mu.Unlock()
			if s.pleromaLike() {
				return errorAnswer(http.StatusTooManyRequests, "Throttled")
			}
			return errorAnswer(http.StatusTooManyRequests, "Too many requests")
		}
	}
	s.mu.Unlock()
	return s.handle(req, endpoint, now)
}

func (s *Server) nextFault(endpoint string) (Fault, bool) {
	q := s.faults[endpoint]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[endpoint] = q[1:]
	return q[0], true
}

func (s *Server) specError(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.specErrors = append(s.specErrors, msg)
}

func defaultError(code int) string {
	switch code {
	case 401:
		return "The access token is invalid"
	case 403:
		return "This action is not allowed"
	case 404:
		return "Record not found"
	case 410:
		return "Account is suspended"
	case 422:
		return "Validation failed"
	case 429:
		return "Too many requests"
	case 503:
		return "Service Unavailable"
	}
	return http.StatusText(code)
}

func (s *Server) parseBody(req *request) error {
	req.form = url.Values{}
	if req.Body == nil || req.Method == http.MethodGet {
		return nil
	}
	ct, params, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	switch ct {
	case "", "application/x-www-form-urlencoded":
		b, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		if err != nil {
			return err
		}
		v, err := url.ParseQuery(string(b))
		if err != nil {
			return fmt.Errorf("form body: %w", err)
		}
		req.form = v
	case "multipart/form-data":
		mr := multipart.NewReader(req.Body, params["boundary"])
		f, err := mr.ReadForm(64 << 20)
		if err != nil {
			return fmt.Errorf("multipart body: %w", err)
		}
		req.form = url.Values(f.Value)
		req.files = map[string]*multipart.FileHeader{}
		for k, fhs := range f.File {
			req.files[k] = fhs[0]
		}
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(&m); err != nil {
			return fmt.Errorf("json body: %w", err)
		}
		for k, v := range m {
			switch x := v.(type) {
			case []any:
				for _, e := range x {
					req.form.Add(k+"[]", fmt.Sprint(e))
				}
			case nil:
			default:
				req.form.Set(k, fmt.Sprint(x))
			}
		}
	default:
		return fmt.Errorf("unsupported content type %q", ct)
	}
	return nil
}

// families returns the rate-limit families a request counts in.
func families(endpoint string) []string {
	switch endpoint {
	case "POST /api/v2/media", "POST /api/v1/media":
		return []string{"requests", "media"}
	case "POST /api/v1/statuses":
		return []string{"requests", "statuses"}
	}
	return []string{"requests"}
}

func (s *Server) limit(family string) (int, time.Duration) {
	r := s.opts.RateLimits
	switch family {
	case "media":
		return r.Media, r.MediaWindow
	case "statuses":
		return r.Statuses, r.StatusesWindow
	}
	return r.Requests, r.RequestsWindow
}

// window returns the times of the family's requests still in its window.
func (s *Server) window(account, family string, now time.Time) []time.Time {
	_, d := s.limit(family)
	key := account + "/" + family
	w := s.windows[key]
	i := 0
	for i < len(w) && !w[i].After(now.Add(-d)) {
		i++
	}
	w = w[i:]
	s.windows[key] = w
	return w
}

// takeRate counts a request, or reports false when a family is exhausted.
func (s *Server) takeRate(account, endpoint string, now time.Time) bool {
	for _, f := range families(endpoint) {
		n, _ := s.limit(f)
		if len(s.window(account, f, now)) >= n {
			return false
		}
	}
	for _, f := range families(endpoint) {
		// Requests read the clock before the lock, so they may come in a
		// little out of order: keep each log sorted.
		key := account + "/" + f
		w := s.windows[key]
		i := len(w)
		for i > 0 && w[i-1].After(now) {
			i--
		}
		s.windows[key] = slices.Insert(w, i, now)
	}
	return true
}

// rateHeaders reports the family closest to its limit, as Mastodon does
// (app/controllers/concerns/rate_limit_headers.rb, api_throttle_data), in
// X-RateLimit-Limit, X-RateLimit-Remaining (0 once spent, as rack-attack's
// throttled_responder says) and X-RateLimit-Reset, an ISO 8601 time with
// microseconds (iso8601(6)): the end of the fixed period at Mastodon, when
// the oldest counted request leaves the sliding window here.
func (s *Server) rateHeaders(account string, op *Operation, now time.Time) map[string]string {
	if account == "" || op == nil || s.pleromaLike() {
		return nil
	}
	best := ""
	bestLeft := 0.0
	var lim, rem int
	var reset time.Time
	for _, f := range families(op.Method + " " + op.Path) {
		n, d := s.limit(f)
		w := s.window(account, f, now)
		left := float64(n-len(w)) / float64(n)
		if best == "" || left < bestLeft {
			best, bestLeft = f, left
			lim, rem = n, max(0, n-len(w))
			reset = now.Add(d)
			if len(w) > 0 {
				reset = w[0].Add(d)
			}
		}
	}
	return map[string]string{
		"X-RateLimit-Limit":     strconv.Itoa(lim),
		"X-RateLimit-Remaining": strconv.Itoa(rem),
		"X-RateLimit-Reset":     reset.UTC().Format("2006-01-02T15:04:05.000000Z"),
	}
}

func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}
