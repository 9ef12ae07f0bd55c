package mastodonfake

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func post(t *testing.T, s *Server, path string, form url.Values, hdr map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer test-token")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, resp.Header
}

func TestFlavourLength(t *testing.T) {
	const long = "see https://example.org/a/very/long/path/that/goes/on/and/on"
	tests := []struct {
		spoiler, text string
		// want by flavour: Mastodon, GoToSocial (and the unknown server),
		// Pleroma (and Akkoma).
		mastodon, gts, pleroma int
	}{
		{"", "hello", 5, 5, 5},
		{"", long, 4 + 23, 4 + 56, 4 + 56},
		{"", "see https://example.org/x.", 4 + 23 + 1, 26, 26},
		{"", "hi @alice@example.social!", len("hi @alice!"), 25, 25},
		{"", "mail bob@example.org", 20, 20, 20},
		// A family (7 code points) and a flag (2): 2 graphemes, 9 code points.
		{"", "👩‍👩‍👧‍👦🇦🇱", 2, 9, 2},
		// e and three combining marks: one grapheme, four code points.
		{"", "e\u0301\u0302\u0303", 1, 4, 1},
		{"", "example.org/no-scheme", 21, 21, 21},
		{"", "  padded \n", 10, 10, 6},
		{"CW", "ab", 4, 4, 4},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			flavour string
			want    int
		}{
			{FlavourMastodon, tt.mastodon}, {FlavourGoToSocial, tt.gts}, {FlavourUnknown, tt.gts},
			{FlavourPleroma, tt.pleroma}, {FlavourAkkoma, tt.pleroma},
		} {
			if got := FlavourLength(c.flavour, tt.spoiler, tt.text, 23); got != c.want {
				t.Errorf("%s: length of %q + %q = %d, want %d", c.flavour, tt.spoiler, tt.text, got, c.want)
			}
		}
	}
}

// TestTooLongAnswers checks each flavour's refusal of a status one
// character over its limit, and its acceptance at the limit.
func TestTooLongAnswers(t *testing.T) {
	tests := []struct {
		flavour string
		code    int
		text    string
	}{
		{FlavourMastodon, 422, "Validation failed: Text character limit of 40 exceeded"},
		{FlavourGoToSocial, 400, "Bad Request: text with spoiler exceed max chars (40)"},
		{FlavourPleroma, 422, "The status is over the character limit"},
		{FlavourAkkoma, 422, "The status is over the character limit"},
		{FlavourUnknown, 422, "Status is too long"},
	}
	for _, tt := range tests {
		t.Run(tt.flavour, func(t *testing.T) {
			s := New(Options{Flavour: tt.flavour, MaxCharacters: 40})
			defer s.Close()
			// 39 graphemes but 41 code points: over the limit only where
			// code points count.
			text := strings.Repeat("a", 38) + "e\u0301\u0302"
			code, body, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {text}}, nil)
			codePoints := tt.flavour == FlavourGoToSocial || tt.flavour == FlavourUnknown
			if codePoints && (code != tt.code || body["error"] != tt.text) {
				t.Errorf("41 code points: %d %v, want %d %q", code, body, tt.code, tt.text)
			}
			if !codePoints && code != 200 {
				t.Errorf("39 graphemes: %d %v", code, body)
			}
			code, body, _ = post(t, s, "/api/v1/statuses", url.Values{"status": {strings.Repeat("b", 41)}}, nil)
			if code != tt.code || body["error"] != tt.text {
				t.Errorf("41 characters: %d %v, want %d %q", code, body, tt.code, tt.text)
			}
			if code, body, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {strings.Repeat("c", 40)}}, nil); code != 200 {
				t.Errorf("40 characters: %d %v", code, body)
			}
			if errs := s.SpecErrors(); len(errs) > 0 {
				t.Errorf("spec errors %v", errs)
			}
		})
	}
}

func TestNodeInfo(t *testing.T) {
	tests := []struct {
		flavour, name string
		schemas       []string
	}{
		{FlavourMastodon, "mastodon", []string{"2.0"}},
		{FlavourGoToSocial, "gotosocial", []string{"2.0", "2.1"}},
		{FlavourPleroma, "pleroma", []string{"2.0", "2.1"}},
		{FlavourAkkoma, "akkoma", []string{"2.0", "2.1"}},
		{FlavourUnknown, "someserver", []string{"2.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.flavour, func(t *testing.T) {
			s := New(Options{Flavour: tt.flavour})
			defer s.Close()
			var wk struct {
				Links []struct{ Rel, Href string }
			}
			getJSON(t, s.URL()+"/.well-known/nodeinfo", 200, &wk)
			if len(wk.Links) != len(tt.schemas) {
				t.Fatalf("links %+v", wk.Links)
			}
			for i, l := range wk.Links {
				if l.Rel != "http://nodeinfo.diaspora.software/ns/schema/"+tt.schemas[i] {
					t.Errorf("rel %q", l.Rel)
				}
				var doc struct {
					Version  string
					Software struct{ Name, Version string }
				}
				getJSON(t, l.Href, 200, &doc)
				if doc.Version != tt.schemas[i] || doc.Software.Name != tt.name || doc.Software.Version == "" {
					t.Errorf("%s: %+v", l.Href, doc)
				}
			}
			// NodeInfo is outside the client API description.
			if errs := s.SpecErrors(); len(errs) > 0 {
				t.Errorf("spec errors %v", errs)
			}
			if r := s.Requests()[0]; r.Endpoint != "GET /.well-known/nodeinfo" || r.Status != 200 {
				t.Errorf("request recorded as %+v", r)
			}
		})
	}
	off := New(Options{Flavour: FlavourGoToSocial, NoNodeInfo: true, NoSourceURL: true, Version: "4.5.0"})
	defer off.Close()
	getJSON(t, off.URL()+"/.well-known/nodeinfo", 404, nil)
	var in map[string]any
	getJSON(t, off.URL()+"/api/v2/instance", 200, &in)
	if in["version"] != "4.5.0" || in["source_url"] != nil {
		t.Errorf("instance passing for Mastodon: %v", in)
	}
}

func getJSON(t *testing.T, u string, want int, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d", u, resp.StatusCode, want)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
	}
}

func TestMentionsAndHashtags(t *testing.T) {
	text := "Hi @alice@example.social and @bob, #news #2026 ＃wide x#no https://e.org/#frag https://e.org/@carol a=@dan"
	if got := strings.Join(Mentions(text), ","); got != "alice@example.social,bob" {
		t.Errorf("mentions %q", got)
	}
	if got := strings.Join(Hashtags(text), ","); got != "news,wide" {
		t.Errorf("hashtags %q", got)
	}
	if got := Mentions("@\u2060bob #\u2060tag"); len(got) != 0 || len(Hashtags("#\u2060tag")) != 0 {
		t.Errorf("word joiner does not break: %v", got)
	}
}

func TestServerRules(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Options{Now: c.now, MaxCharacters: 50, RateLimits: RateLimits{Statuses: 4, StatusesWindow: time.Hour}})
	defer s.Close()

	code, body, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {strings.Repeat("a", 51)}}, nil)
	if code != 422 || body["error"] != "Validation failed: Text character limit of 50 exceeded" {
		t.Errorf("too long: %d %v", code, body)
	}
	code, _, _ = post(t, s, "/api/v1/statuses", url.Values{"status": {"x https://example.org/" + strings.Repeat("p", 80)}}, nil)
	if code != 200 {
		t.Errorf("URL not counted as 23: %d", code)
	}
	key := map[string]string{"Idempotency-Key": "k1"}
	_, first, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {"one"}}, key)
	_, again, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {"changed"}}, key)
	if first["id"] != again["id"] || len(s.Statuses()) != 2 {
		t.Errorf("idempotency: %v vs %v, %d statuses", first["id"], again["id"], len(s.Statuses()))
	}
	c.add(2 * time.Hour)
	_, later, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {"one"}}, key)
	if later["id"] == first["id"] {
		t.Error("key remembered beyond an hour")
	}
	// Statuses budget of 4 per hour (refused requests count too): four
	// made in this window, the fifth is refused with the headers.
	post(t, s, "/api/v1/statuses", url.Values{"status": {"two"}}, nil)
	post(t, s, "/api/v1/statuses", url.Values{"status": {"three"}}, nil)
	post(t, s, "/api/v1/statuses", url.Values{"status": {"four"}}, nil)
	code, body, hdr := post(t, s, "/api/v1/statuses", url.Values{"status": {"five"}}, nil)
	if code != 429 || body["error"] != "Too many requests" || hdr.Get("X-RateLimit-Remaining") != "0" || hdr.Get("X-RateLimit-Reset") == "" {
		t.Errorf("429: %d %v %v", code, body, hdr)
	}

	code, _, _ = post(t, s, "/api/v1/statuses", url.Values{"status": {"x"}, "colour": {"red"}}, nil)
	if code != 400 || len(s.SpecErrors()) != 1 {
		t.Errorf("unknown parameter: %d %v", code, s.SpecErrors())
	}
	code, _, _ = post(t, s, "/api/v1/nope", url.Values{}, nil)
	if code != 404 || len(s.SpecErrors()) != 2 {
		t.Errorf("unknown endpoint: %d %v", code, s.SpecErrors())
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v1/accounts/verify_credentials", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("bad token: %d", resp.StatusCode)
	}
}

func TestGoToSocialFlavour(t *testing.T) {
	s := New(Options{Flavour: FlavourGoToSocial, MaxCharacters: 40})
	defer s.Close()
	code, body, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {"x https://example.org/" + strings.Repeat("p", 30)}}, nil)
	if code != 400 || body["error"] != "Bad Request: text with spoiler exceed max chars (40)" {
		t.Errorf("URLs must count in full: %d %v", code, body)
	}
	if code, body, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {" "}, "spoiler_text": {""}}, nil); code != 200 {
		t.Errorf("blank but not empty: %d %v", code, body)
	}
	key := map[string]string{"Idempotency-Key": "k"}
	post(t, s, "/api/v1/statuses", url.Values{"status": {"a"}}, key)
	post(t, s, "/api/v1/statuses", url.Values{"status": {"a"}}, key)
	sts := s.Statuses()
	if len(sts) != 3 || sts[1].Visibility != "unlisted" {
		t.Errorf("statuses %+v", sts)
	}
}

func get(t *testing.T, s *Server, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(s.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func upload(t *testing.T, s *Server, path string) (int, map[string]any) {
	t.Helper()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 3))); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "a.png")
	fw.Write(img.Bytes())
	mw.WriteField("description", "a grey square")
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestPleromaInstance(t *testing.T) {
	old := New(Options{Flavour: FlavourPleroma, NoV2Instance: true})
	defer old.Close()
	if code, _ := get(t, old, "/api/v2/instance"); code != 404 {
		t.Errorf("v2 instance of an older version: %d", code)
	}
	code, v1 := get(t, old, "/api/v1/instance")
	if code != 200 || v1["max_toot_chars"] != 5000.0 || v1["upload_limit"] != 16e6 || v1["poll_limits"] == nil ||
		v1["configuration"] != nil || !strings.Contains(v1["version"].(string), "(compatible; Pleroma ") {
		t.Errorf("older v1 instance: %d %v", code, v1)
	}

	akkoma := New(Options{Flavour: FlavourAkkoma, MaxCharacters: 8000})
	defer akkoma.Close()
	code, v2 := get(t, akkoma, "/api/v2/instance")
	st, _ := v2["configuration"].(map[string]any)["statuses"].(map[string]any)
	if code != 200 || st["max_characters"] != 8000.0 || st["characters_reserved_per_url"] != 0.0 ||
		!strings.Contains(v2["source_url"].(string), "akkoma") || v2["version"] != "2.7.2 (compatible; Akkoma 3.13.2)" {
		t.Errorf("v2 instance: %d %v", code, v2)
	}
	if _, v1 := get(t, akkoma, "/api/v1/instance"); v1["configuration"] == nil || v1["max_toot_chars"] != 8000.0 {
		t.Errorf("newer v1 instance lacks the configuration block: %v", v1)
	}
}

func TestPleromaFlavour(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Options{Now: c.now, Flavour: FlavourPleroma, MaxCharacters: 40,
		Tokens: map[string]string{"test-token": "bot", "other-token": "other"}})
	defer s.Close()

	// URLs and mentions count in full; the text is trimmed first.
	code, body, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {"x https://example.org/" + strings.Repeat("p", 30)}}, nil)
	if code != 422 || body["error"] != "The status is over the character limit" {
		t.Errorf("URL must count in full: %d %v", code, body)
	}
	if code, _, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {"hi @someone@example.social " + strings.Repeat("m", 14)}}, nil); code != 422 {
		t.Errorf("mention must count in full: %d", code)
	}
	code, body, hdr := post(t, s, "/api/v1/statuses", url.Values{"status": {"  " + strings.Repeat("a", 40) + "\n"}}, nil)
	if code != 200 || body["visibility"] != "public" || hdr.Get("X-RateLimit-Limit") != "" {
		t.Errorf("40 characters once trimmed: %d %v %v", code, body, hdr)
	}
	if code, body, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {" "}}, nil); code != 422 || body["error"] != "Cannot post an empty status without attachments" {
		t.Errorf("empty: %d %v", code, body)
	}

	// Every answer to a key is kept, a refusal included.
	key := map[string]string{"Idempotency-Key": "k1"}
	if code, _, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {strings.Repeat("b", 41)}}, key); code != 422 {
		t.Fatalf("too long: %d", code)
	}
	code, body, hdr = post(t, s, "/api/v1/statuses", url.Values{"status": {"short"}}, key)
	if code != 422 || body["error"] != "The status is over the character limit" || hdr.Get("Idempotent-Replayed") != "true" || len(s.Statuses()) != 1 {
		t.Errorf("refusal not replayed: %d %v %v", code, body, hdr)
	}
	key2 := map[string]string{"Idempotency-Key": "k2"}
	_, first, hdr := post(t, s, "/api/v1/statuses", url.Values{"status": {"short"}}, key2)
	if hdr.Get("Idempotency-Key") != "k2" || hdr.Get("Idempotent-Replayed") != "" {
		t.Errorf("first answer headers %v", hdr)
	}
	_, again, hdr := post(t, s, "/api/v1/statuses", url.Values{"status": {"changed"}}, key2)
	if again["id"] != first["id"] || hdr.Get("Idempotent-Replayed") != "true" || len(s.Statuses()) != 2 {
		t.Errorf("success not replayed: %v vs %v, %d statuses", first["id"], again["id"], len(s.Statuses()))
	}
	reqs := s.Requests()
	if !reqs[len(reqs)-1].Replayed || reqs[len(reqs)-2].Replayed {
		t.Error("replays not recorded")
	}
	// Keys belong to the account.
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/v1/statuses", strings.NewReader("status=mine"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer other-token")
	req.Header.Set("Idempotency-Key", "k2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Idempotent-Replayed") != "" || len(s.Statuses()) != 3 {
		t.Errorf("key shared between accounts")
	}
	c.add(6*time.Hour + time.Second)
	if _, later, _ := post(t, s, "/api/v1/statuses", url.Values{"status": {"short"}}, key2); later["id"] == first["id"] {
		t.Error("answer kept beyond six hours")
	}

	// Uploads are processed at once; v2 still says 202.
	code, m := upload(t, s, "/api/v2/media")
	if code != 202 || m["url"] == nil || m["description"] != "a grey square" {
		t.Errorf("v2 upload: %d %v", code, m)
	}
	if code, m := upload(t, s, "/api/v1/media"); code != 200 || m["url"] == nil {
		t.Errorf("v1 upload: %d %v", code, m)
	}
	if errs := s.SpecErrors(); len(errs) > 0 {
		t.Errorf("spec errors %v", errs)
	}
}

func TestPleromaLength(t *testing.T) {
	tests := []struct {
		spoiler, text string
		want          int
	}{
		{"", "hello", 5},
		{"", "  hello \n", 5},
		{"", "see https://example.org/a/very/long/path", 4 + 36},
		{"", "hi @alice@example.social", 24},
		{"CW", " ab ", 4},
		{"", "👩‍👩‍👧‍👦🇦🇱", 2},
	}
	for _, tt := range tests {
		if got := PleromaLength(tt.spoiler, tt.text); got != tt.want {
			t.Errorf("PleromaLength(%q, %q) = %d, want %d", tt.spoiler, tt.text, got, tt.want)
		}
	}
}
