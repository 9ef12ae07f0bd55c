package config

import (
	"io/fs"
	"slices"
	"testing"
)

// TestSecretSources: literal secrets are told from "${VAR}" references,
// and the files "_file" keys read are listed, so that the command can warn
// when other users can read them.
func TestSecretSources(t *testing.T) {
	files := map[string]string{
		"/etc/syndicate/config.yaml": `
telegram:
  bots:
    - id: main
      token: "123456:AAE-literal-token-in-the-file"
    - id: other
      token: ${OTHER_TOKEN}
    - id: third
      token_file: third.token
  channels:
    - {id: tg, bot: main, chat: "@newsroom"}
mastodon:
  accounts:
    - {id: md, server: https://m.example, access_token_file: /run/secrets/md}
feeds:
  - {id: en, url: https://news.example/feed/}
routes:
  - {feeds: [en], to: [tg, md]}
`,
		"/etc/syndicate/third.token": "123:third\n",
		"/run/secrets/md":            "md-token",
	}
	cfg, err := Load("/etc/syndicate/config.yaml", LoadOptions{
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := files[name]; ok {
				return []byte(s), nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
		Getenv: func(k string) (string, bool) { return "999:from-env", k == "OTHER_TOKEN" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"telegram.bots[0].token"}; !slices.Equal(cfg.Secrets.Inline, want) {
		t.Errorf("inline secrets %q; want %q", cfg.Secrets.Inline, want)
	}
	got := slices.Sorted(slices.Values(cfg.Secrets.Files))
	if want := []string{"/etc/syndicate/third.token", "/run/secrets/md"}; !slices.Equal(got, want) {
		t.Errorf("secret files %q; want %q", got, want)
	}
}
