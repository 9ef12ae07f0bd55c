package main

import "github.com/syndicate-bot/syndicate/config"

func buildMastodon(cfg *config.Config, dl downloader, o buildOptions) ([]destination, error) {
	return nil, nil
}
