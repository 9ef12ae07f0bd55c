package telegram

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/imagehead"
)

// Downloader fetches a file for upload when Telegram cannot fetch it by
// URL. The caller's implementation guards against private addresses and
// caps size and time.
type Downloader interface {
	Download(ctx context.Context, url string) (data []byte, contentType string, err error)
}

// Telegram's upload limits.
const (
	maxPhotoUpload    = 10 << 20
	maxDocumentUpload = 50 << 20
	maxPhotoSides     = 10000
	maxPhotoRatio     = 20
)

// maxPhotoByURL is the largest photo Telegram fetches from a URL: 5 MB,
// against 10 MB uploaded (Bot API "Sending files").
const maxPhotoByURL = 5 << 20

// byURL reports whether Telegram may be handed the image's URL to fetch.
// A checked image must have been served under a type Telegram takes as a
// photo (the photo extensions TDLib's PHOTO_EXT_INVALID answer lists, in
// td/telegram/MessagesManager.cpp, include .jpg, .jpeg, .gif and .png, not
// .webp) and
// with a known size within the by-URL limit; otherwise it is downloaded
// and uploaded. An unchecked image is handed over as the feed gave it, a
// refusal then handled by sendMain's fallbacks.
func byURL(im syndicate.Image) bool {
	if !im.Checked {
		return true
	}
	switch im.Type {
	case "image/jpeg", "image/png", "image/gif":
	default:
		return false
	}
	return !im.Sniffed && im.Bytes > 0 && im.Bytes <= maxPhotoByURL
}

// toUpload lists the item's image URLs that are not for Telegram to fetch.
func toUpload(it syndicate.Item) map[string]bool {
	out := map[string]bool{}
	all := it.Images
	if it.Image != nil {
		all = append([]syndicate.Image{*it.Image}, all...)
	}
	for _, im := range all {
		if !byURL(im) {
			out[im.URL] = true
		}
	}
	return out
}

// checkPhoto refuses what Telegram would refuse as a photo: too big, too
// large in width plus height, too narrow, an SVG drawing, or not an image
// at all; only the header is read, the pixels are never decoded. An
// animated GIF, PNG or WebP passes: Telegram keeps its first frame as the
// photo, as it does for any animated file sent with sendPhoto. It returns
// the image format ("jpeg", "png", …).
func checkPhoto(data []byte) (string, error) {
	if len(data) > maxPhotoUpload {
		return "", fmt.Errorf("photo of %d bytes is over the upload limit", len(data))
	}
	head, err := imagehead.Read(data)
	if err != nil {
		return "", err
	}
	w, h := head.Width, head.Height
	if w <= 0 || h <= 0 || w+h > maxPhotoSides || w > maxPhotoRatio*h || h > maxPhotoRatio*w {
		return "", fmt.Errorf("%s image of %dx%d is outside Telegram's photo limits", head.Format, w, h)
	}
	return head.Format, nil
}

// photo is an image of a post: downloaded and checked for upload, or, in
// an album, with no data when Telegram fetches it by URL.
type photo struct {
	url    string
	data   []byte
	format string
}

// attachName names the multipart part an attach:// reference points to;
// it is made of safe characters only, as it is written inside JSON.
func (ph photo) attachName(i int) string {
	ext := ph.format
	if ext == "jpeg" {
		ext = "jpg"
	}
	return fmt.Sprintf("photo%d.%s", i, ext)
}

// fileName names an upload after its URL.
func fileName(rawURL, fallback string) string {
	name := path.Base(mustPath(rawURL))
	if name == "." || name == "/" || name == "" || !strings.Contains(name, ".") {
		return fallback
	}
	return name
}
