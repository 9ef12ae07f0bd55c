package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/syndicate-bot/syndicate/bots/mastodon"
	"github.com/syndicate-bot/syndicate/bots/telegram"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/previewpage"
	"github.com/syndicate-bot/syndicate/syndicate"
)

// telegramRenderer is a Telegram publisher that hands out the post it
// would send, for the HTML preview.
type telegramRenderer interface {
	Render(item syndicate.Item) (telegram.Post, error)
}

// mastodonRenderer is a Mastodon publisher that hands out the status it
// would post, for the HTML preview.
type mastodonRenderer interface {
	Render(item syndicate.Item) (mastodon.Status, error)
}

// writePreviewHTML writes the posts of every destination, in config order,
// as a page that shows them as their readers would see them. The images are
// downloaded as the bots download them, under the media limits.
func writePreviewHTML(ctx context.Context, path, title string, a *app, byDest map[string][]syndicate.Delivery) error {
	page := previewpage.Page{Title: title}
	for _, id := range a.destinationIDs() {
		d, err := pageDestination(a, id, byDest[id])
		if err != nil {
			return err
		}
		page.Destinations = append(page.Destinations, d)
	}
	media := a.media // the worker's media client: its caps and proxy
	if err := writeFileAtomic(path, func(f *os.File) error {
		return previewpage.Write(ctx, f, page, previewpage.Options{Images: downloader{c: media}})
	}); err != nil {
		return fmt.Errorf("html preview: %w", err)
	}
	return nil
}

// pageDestination renders one destination's jobs with its publisher.
func pageDestination(a *app, id string, jobs []syndicate.Delivery) (previewpage.Destination, error) {
	_, ch, acc := a.cfg.Destination(id)
	d := previewpage.Destination{ID: id}
	switch {
	case ch != nil:
		d.Telegram = ch.Chat
	case acc != nil:
		d.Mastodon = acc.Server
	default:
		return d, fmt.Errorf("html preview: unknown destination %q", id)
	}
	pub := a.dests[id].Publisher
	for _, j := range jobs {
		p := previewpage.Post{Item: j.Item, Edit: j.Kind == syndicate.JobEdit}
		switch r := pub.(type) {
		case telegramRenderer:
			post, err := r.Render(j.Item)
			p.Telegram, p.Err = &post, err
		case mastodonRenderer:
			st, err := r.Render(j.Item)
			p.Mastodon, p.Err = &st, err
		default:
			return d, fmt.Errorf("html preview: destination %s cannot show its posts", id)
		}
		d.Posts = append(d.Posts, p)
	}
	return d, nil
}

// writeFileAtomic writes a file through a temporary one beside it, so a
// browser never opens half a page.
func writeFileAtomic(path string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	err = write(f)
	err = errors.Join(err, f.Chmod(0o644), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
