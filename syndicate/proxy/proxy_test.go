package proxy

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func ptr(s string) *string { return &s }

// Which proxy a target gets, from the environment and from a configured
// override, with NO_PROXY applied.
func TestChoice(t *testing.T) {
	const envProxy, cfgProxy = "http://env-proxy:3128", "socks5://cfg-proxy:1080"
	tests := []struct {
		name    string
		env     map[string]string
		proxy   string
		noProxy *string
		target  string
		want    string
	}{
		{"nothing set", nil, "", nil, "https://news.example/feed", ""},
		{"HTTPS_PROXY for https", map[string]string{"HTTPS_PROXY": envProxy}, "", nil, "https://news.example/feed", envProxy},
		{"HTTPS_PROXY not for http", map[string]string{"HTTPS_PROXY": envProxy}, "", nil, "http://news.example/feed", ""},
		{"HTTP_PROXY for http", map[string]string{"HTTP_PROXY": envProxy}, "", nil, "http://news.example/feed", envProxy},
		{"lower case wins", map[string]string{"HTTP_PROXY": "http://upper:1", "http_proxy": envProxy}, "", nil, "http://news.example/", envProxy},
		{"bare host:port means http", map[string]string{"HTTPS_PROXY": "env-proxy:3128"}, "", nil, "https://news.example/", envProxy},
		{"NO_PROXY domain and subdomains", map[string]string{"HTTPS_PROXY": envProxy, "NO_PROXY": "example.org"}, "", nil, "https://cdn.example.org/a.jpg", ""},
		{"NO_PROXY leaves other hosts", map[string]string{"HTTPS_PROXY": envProxy, "NO_PROXY": "example.org"}, "", nil, "https://example.net/a.jpg", envProxy},
		{"NO_PROXY CIDR", map[string]string{"HTTP_PROXY": envProxy, "no_proxy": "10.0.0.0/8"}, "", nil, "http://10.1.2.3/", ""},
		{"NO_PROXY star", map[string]string{"HTTP_PROXY": envProxy, "NO_PROXY": "*"}, "", nil, "http://news.example/", ""},
		{"loopback is never proxied", map[string]string{"HTTP_PROXY": envProxy}, "", nil, "http://127.0.0.1:8080/", ""},
		{"config replaces the environment", map[string]string{"HTTPS_PROXY": envProxy}, cfgProxy, nil, "https://news.example/", cfgProxy},
		{"config proxy serves http too", nil, cfgProxy, nil, "http://news.example/", cfgProxy},
		{"config keeps NO_PROXY of the environment", map[string]string{"NO_PROXY": "news.example"}, cfgProxy, nil, "http://news.example/", ""},
		{"config no_proxy replaces NO_PROXY", map[string]string{"NO_PROXY": "news.example"}, cfgProxy, ptr("other.example"), "http://news.example/", cfgProxy},
		{"config empty no_proxy bypasses nothing", map[string]string{"NO_PROXY": "*"}, cfgProxy, ptr(""), "http://news.example/", cfgProxy},
		{"direct turns the environment off", map[string]string{"HTTPS_PROXY": envProxy}, Direct, nil, "https://news.example/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := FromEnv(env(tt.env)).Override(tt.proxy, tt.noProxy)
			f, err := s.Func()
			if err != nil {
				t.Fatal(err)
			}
			if (f == nil) != !s.Enabled() {
				t.Fatalf("Func() nil = %v with Enabled() = %v", f == nil, s.Enabled())
			}
			got := ""
			if f != nil {
				u, err := f(mustURL(t, tt.target))
				if err != nil {
					t.Fatal(err)
				}
				if u != nil {
					got = u.String()
				}
			}
			if got != tt.want {
				t.Fatalf("proxy for %s = %q, want %q", tt.target, got, tt.want)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Unusable proxy URLs are refused when the settings are built, never
// ignored (which would connect directly), and the error does not repeat
// the value.
func TestInvalidProxy(t *testing.T) {
	for _, raw := range []string{
		"ftp://op:hunter2@proxy:21",
		"http://op:hunter2@proxy:3128/path",
		"http://op:hunter2@proxy:3128/?q=1",
		"http://op:hunter2@:3128",
		"file:///op:hunter2",
		"http://op:hunter2@proxy:3128 x",
	} {
		_, err := FromEnv(env(map[string]string{"HTTPS_PROXY": raw})).Func()
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: error %v, want ErrInvalid", raw, err)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error %q repeats the value", raw, err)
		}
		if !strings.Contains(err.Error(), "environment") {
			t.Errorf("%q: error %q does not say where the value came from", raw, err)
		}
	}
	for _, raw := range []string{"http://proxy:3128", "https://proxy", "socks5://u:p@10.0.0.1:1080", "socks5h://proxy:1080/", "proxy.internal:3128", "10.0.0.1:3128"} {
		if _, err := Parse(raw); err != nil {
			t.Errorf("Parse(%q): %v", raw, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"http://op:hunter2@proxy:3128": "http://proxy:3128",
		"socks5://op@proxy:1080":       "socks5://proxy:1080",
		"proxy:3128":                   "http://proxy:3128",
		"ftp://op:hunter2@x":           "(invalid proxy URL)",
	} {
		if got := Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}
