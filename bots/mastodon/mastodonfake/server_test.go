package mastodonfake

import (
	"encoding/json"
	"io"
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

func TestLength(t *testing.T) {
	tests := []struct {
		text string
		full bool
		want int
	}{
		{"hello", false, 5},
		{"see https://example.org/a/very/long/path/that/goes/on/and/on", false, 4 + 23},
		{"see https://example.org/a/very/long/path/that/goes/on/and/on", true, 4 + 56},
		{"see https://example.org/x.", false, 4 + 23 + 1},
		{"hi @alice@example.social!", false, len("hi @alice!")},
		{"mail bob@example.org", false, 20},
		{"👩‍👩‍👧‍👦🇦🇱", false, 2},
		{"example.org/no-scheme", false, 21},
	}
	for _, tt := range tests {
		if got := Length("", tt.text, 23, tt.full); got != tt.want {
			t.Errorf("Length(%q, full=%v) = %d, want %d", tt.text, tt.full, got, tt.want)
		}
	}
	if got := Length("CW", "ab", 23, false); got != 4 {
		t.Errorf("spoiler not counted: %d", got)
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
	if code != 400 || !strings.Contains(body["error"].(string), "too long") {
		t.Errorf("URLs must count in full: %d %v", code, body)
	}
	key := map[string]string{"Idempotency-Key": "k"}
	post(t, s, "/api/v1/statuses", url.Values{"status": {"a"}}, key)
	post(t, s, "/api/v1/statuses", url.Values{"status": {"a"}}, key)
	sts := s.Statuses()
	if len(sts) != 2 || sts[0].Visibility != "unlisted" {
		t.Errorf("statuses %+v", sts)
	}
}
