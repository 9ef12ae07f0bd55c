package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSecretNeverPrinted(t *testing.T) {
	const token = "123456:TOPSECRET-token"
	cfg, err := Parse("c.yaml", []byte(minimal+`
store:
  redis:
    url: redis://user:TOPSECRET-pw@localhost:6379/0
    password: TOPSECRET-pw2
`), LoadOptions{Getenv: mapEnv(map[string]string{"TOKEN": token})})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Telegram.Bots[0].Token = NewSecret(token)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", cfg, "token", cfg.Telegram.Bots[0].Token)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", cfg, "redis", cfg.Store.Redis)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ym, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Telegram.Bots[0].Token
	outputs := map[string]string{
		"%v":        fmt.Sprintf("%v", cfg),
		"%+v":       fmt.Sprintf("%+v", cfg),
		"%#v":       fmt.Sprintf("%#v", cfg),
		"%+v redis": fmt.Sprintf("%+v", *cfg.Store.Redis),
		"%#v redis": fmt.Sprintf("%#v", *cfg.Store.Redis),
		"%#v bots":  fmt.Sprintf("%#v", cfg.Telegram.Bots),
		"%s":        fmt.Sprintf("%s", s),
		"%q":        fmt.Sprintf("%q", s),
		"%x":        fmt.Sprintf("%x", s),
		"%d":        fmt.Sprintf("%d", s),
		"Sprint":    fmt.Sprint(s, &s),
		"slog":      logs.String(),
		"json":      string(js),
		"yaml":      string(ym),
	}
	for name, out := range outputs {
		if strings.Contains(out, "TOPSECRET") {
			t.Errorf("%s shows a secret: %s", name, out)
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%s does not show %q: %s", name, redacted, out)
		}
	}
	if s.Value() != token {
		t.Error("Value lost the secret")
	}
	if got := fmt.Sprintf("%v|%#v", Secret{}, Secret{}); got != `|config.Secret("")` {
		t.Errorf("empty secret prints %q", got)
	}
}

func TestSecretNotInProblems(t *testing.T) {
	doc := `
feeds:
  - id: en
    url: https://example.org/feed/
telegram:
  bots:
    - id: a
      token: [TOPSECRET-1]
    - id: b
      token: TOPSECRET-2
    - id: c
      token_file: /run/secrets/unreadable
    - id: d
      token: ${TOPSECRET-3}
    - id: e
      token: TOPSECRET$4
    - id: f
      token: "${NOT_SET}TOPSECRET-5"
  channels:
    - {id: tg, bot: a, chat: "@example_news"}
mastodon:
  accounts:
    - id: md
      server: https://mastodon.example
      access_token: {TOPSECRET-6: TOPSECRET-7}
store:
  redis:
    url: http://user:TOPSECRET-8@localhost/
    password: ${TOPSECRET-9
routes:
  - {feeds: [en], to: [tg]}
  - {feeds: [en], to: TOPSECRET-10}
`
	_, err := Parse("c.yaml", []byte(doc), LoadOptions{
		Getenv: mapEnv(nil),
		ReadFile: func(name string) ([]byte, error) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		},
	})
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want *Errors", err)
	}
	text := err.Error()
	if strings.Contains(text, "TOPSECRET") {
		t.Errorf("problems show a secret:\n%s", text)
	}
	for _, want := range []string{
		"telegram.bots[0].token: expected a string, got a list",
		"telegram.bots[1].token: does not look like a bot token",
		"telegram.bots[2].token_file: cannot read the secret: open /run/secrets/unreadable: permission denied",
		`telegram.bots[3].token: invalid environment variable name in "${…}"`,
		`telegram.bots[4].token: "$" must start "${NAME}"`,
		"telegram.bots[5].token: environment variable NOT_SET is not set",
		"mastodon.accounts[0].access_token: expected a string, got a mapping",
		"store.redis.url: must be a redis://, rediss:// or unix:// URL",
		`store.redis.password: unterminated "${"`,
		"routes[1].to: expected a list, got a string",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing problem %q in:\n%s", want, text)
		}
	}
}

func TestExpand(t *testing.T) {
	env := mapEnv(map[string]string{"A": "alpha", "B_2": "beta", "EMPTY": ""})
	tests := []struct {
		in, want string
		problems []string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x${A}-${B_2}y", want: "xalpha-betay"},
		{in: "${EMPTY}", want: ""},
		{in: "cost $$5 and $${A}", want: "cost $5 and ${A}"},
		{in: "${MISSING}", want: "", problems: []string{"environment variable MISSING is not set"}},
		{in: "${A", want: "", problems: []string{`unterminated "${" (write "${NAME}", or "$$" for a literal "$")`}},
		{in: "$A", want: "A", problems: []string{`"$" must start "${NAME}" (write "$$" for a literal "$")`}},
		{in: "${1A}${}", want: "", problems: []string{
			`invalid environment variable name in "${…}" (letters, digits and "_", not starting with a digit)`,
			`invalid environment variable name in "${…}" (letters, digits and "_", not starting with a digit)`,
		}},
		{in: "end$", want: "end", problems: []string{`"$" must start "${NAME}" (write "$$" for a literal "$")`}},
	}
	for _, tt := range tests {
		got, problems := expand(tt.in, env)
		if got != tt.want || strings.Join(problems, "|") != strings.Join(tt.problems, "|") {
			t.Errorf("expand(%q) = %q %q, want %q %q", tt.in, got, problems, tt.want, tt.problems)
		}
	}
}

func TestSecretFiles(t *testing.T) {
	var read []string
	opts := LoadOptions{
		Getenv: mapEnv(nil),
		ReadFile: func(name string) ([]byte, error) {
			read = append(read, name)
			switch name {
			case "/etc/syndicate/config.yaml":
				return []byte(strings.Replace(minimal, `token: "123:abc"`, "token_file: secrets/tg", 1) + `
mastodon:
  accounts:
    - id: md
      server: https://mastodon.example
      access_token: literal
      access_token_file: /run/secrets/md
`), nil
			case "/etc/syndicate/secrets/tg":
				return []byte("42:from-file\r\n\n"), nil
			}
			return nil, fs.ErrNotExist
		},
	}
	_, err := Load("/etc/syndicate/config.yaml", opts)
	if err == nil || !strings.Contains(err.Error(), "/etc/syndicate/config.yaml:20:7: mastodon.accounts[0].access_token_file: access_token and access_token_file are exclusive (give one)") {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(read, " ") != "/etc/syndicate/config.yaml /etc/syndicate/secrets/tg" {
		t.Errorf("read %q; a relative _file is relative to the config and an exclusive one is not read", read)
	}

	opts.ReadFile = func(name string) ([]byte, error) {
		if name == "dir/secrets/tg" {
			return []byte("42:from-file\r\n\n"), nil
		}
		return nil, fs.ErrNotExist
	}
	cfg, err := Parse("dir/c.yaml", []byte(strings.Replace(minimal, `token: "123:abc"`, "token_file: secrets/tg", 1)), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Telegram.Bots[0].Token.Value(); got != "42:from-file" {
		t.Errorf("token = %q, want the file without trailing newlines", got)
	}
}
