package mastodonfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// call makes a request with a token and returns the status and error text.
func call(t *testing.T, s *Server, method, path, token string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestScopes(t *testing.T) {
	s := New(Options{
		Tokens: map[string]string{"full": "bot", "statuses": "bot", "readonly": "bot", "profile": "bot"},
		Scopes: map[string]string{"statuses": "write:statuses", "readonly": "read", "profile": "profile write"},
	})
	defer s.Close()
	const outside = "This action is outside the authorized scopes"
	tests := []struct {
		name, method, path, token string
		form                      url.Values
		code                      int
		err                       string
	}{
		{"unknown token", "GET", "/api/v1/apps/verify_credentials", "nope", nil, 401, "The access token is invalid"},
		{"any token reads its app", "GET", "/api/v1/apps/verify_credentials", "readonly", nil, 200, ""},
		{"default scopes post", "POST", "/api/v1/statuses", "full", url.Values{"status": {"x"}}, 200, ""},
		{"write:statuses posts", "POST", "/api/v1/statuses", "statuses", url.Values{"status": {"x"}}, 200, ""},
		{"read may not post", "POST", "/api/v1/statuses", "readonly", url.Values{"status": {"x"}}, 403, outside},
		{"write:statuses may not touch media", "GET", "/api/v1/media/1", "statuses", nil, 403, outside},
		{"write reaches media", "GET", "/api/v1/media/1", "full", nil, 404, "Record not found"},
		{"write:statuses may not read the account", "GET", "/api/v1/accounts/verify_credentials", "statuses", nil, 403, outside},
		{"profile reads the account", "GET", "/api/v1/accounts/verify_credentials", "profile", nil, 200, ""},
		{"profile is not read:statuses", "GET", "/api/v1/accounts/1/statuses", "profile", nil, 403, outside},
		{"instance needs no token", "GET", "/api/v2/instance", "nope", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, s, tt.method, tt.path, tt.token, tt.form)
			msg, _ := body["error"].(string)
			if code != tt.code || msg != tt.err {
				t.Errorf("got %d %q, want %d %q", code, msg, tt.code, tt.err)
			}
		})
	}
	_, app := call(t, s, "GET", "/api/v1/apps/verify_credentials", "statuses", nil)
	if sc, _ := app["scopes"].([]any); !slices.Equal(sc, []any{"write:statuses"}) {
		t.Errorf("app scopes %v", app["scopes"])
	}

	old := New(Options{NoAppScopes: true})
	defer old.Close()
	code, app := call(t, old, "GET", "/api/v1/apps/verify_credentials", "test-token", nil)
	if _, has := app["scopes"]; code != 200 || has || app["name"] == nil {
		t.Errorf("server before 4.3: %d %v", code, app)
	}
	if len(s.SpecErrors())+len(old.SpecErrors()) > 0 {
		t.Errorf("spec errors: %v %v", s.SpecErrors(), old.SpecErrors())
	}
}
