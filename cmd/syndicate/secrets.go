package main

import (
	"fmt"
	"os"

	"github.com/syndicate-bot/syndicate/config"
)

// readableSecrets lists the files holding a config's secrets that users
// other than their owner can read: the config file when secrets are
// written in it, and the files "_file" keys read them from.
func readableSecrets(cfg *config.Config) []string {
	var paths []string
	if len(cfg.Secrets.Inline) > 0 && cfg.Path != "" {
		paths = append(paths, cfg.Path)
	}
	paths = append(paths, cfg.Secrets.Files...)
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err == nil && fi.Mode().Perm()&0o044 != 0 {
			out = append(out, fmt.Sprintf("%s (mode %#o)", p, fi.Mode().Perm()))
		}
	}
	return out
}
