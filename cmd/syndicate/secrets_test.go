package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadableSecretsWarned: a config with a secret written in it, or a
// secret file, that other users can read draws a warning naming the file;
// secrets given by environment variables do not, and once the files are
// chmod 600 the warning is gone. The secret itself is never printed.
func TestReadableSecretsWarned(t *testing.T) {
	dir := t.TempDir()
	const token = "123456:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
	tokenFile := filepath.Join(dir, "mastodon.token")
	writeFile(t, tokenFile, "Fq3vD9x-mastodon-token-in-a-file")
	base := minimalConfig("https://example.org/feed/", "https://mastodon.example", "https://api.telegram.org", filepath.Join(dir, "state.db"))
	inline := strings.Replace(base, "${TELEGRAM_TOKEN}", token, 1)
	inline = strings.Replace(inline, "access_token: ${MASTODON_TOKEN}", "access_token_file: "+tokenFile, 1)
	vars := map[string]string{"TELEGRAM_TOKEN": token, "MASTODON_TOKEN": "secret"}
	tests := []struct {
		name       string
		config     string
		configMode os.FileMode
		fileMode   os.FileMode
		warned     []string
	}{
		{"secrets from the environment, config world-readable", base, 0o644, 0o600, nil},
		{"inline secret, config world-readable", inline, 0o644, 0o600, []string{"config.yaml (mode 0644)"}},
		{"secret file group-readable", inline, 0o600, 0o640, []string{"mastodon.token (mode 0640)"}},
		{"both", inline, 0o604, 0o644, []string{"config.yaml (mode 0604)", "mastodon.token (mode 0644)"}},
		{"both private", inline, 0o600, 0o600, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "config.yaml")
			writeFile(t, path, tt.config)
			if err := os.Chmod(path, tt.configMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(tokenFile, tt.fileMode); err != nil {
				t.Fatal(err)
			}
			r := runCmd(t, context.Background(), vars, "validate", "--config", path)
			if r.code != 0 {
				t.Fatalf("validate = %d\n%s", r.code, r.stderr)
			}
			if got := strings.Count(r.stderr, "warning:"); got != len(tt.warned) {
				t.Errorf("%d warnings; want %d:\n%s", got, len(tt.warned), r.stderr)
			}
			for _, w := range tt.warned {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("no warning about %s:\n%s", w, r.stderr)
				}
			}
			if out := r.stdout + r.stderr; strings.Contains(out, token) || strings.Contains(out, "Fq3vD9x") {
				t.Errorf("a secret was printed:\n%s", out)
			}
		})
	}
}
