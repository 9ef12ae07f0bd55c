package mastodon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // decoders for the formats feeds carry
	"image/jpeg"
	_ "image/png"
	"math"
	"net/http"
	"slices"
	"strings"

	gomastodon "github.com/mattn/go-mastodon"
	xdraw "golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // WebP is common on WordPress sites

	"github.com/syndicate-bot/syndicate/syndicate/imagehead"
)

// Downloader fetches an image; the caller's implementation enforces the
// network policy (no private addresses) and caps size and time.
type Downloader interface {
	Download(ctx context.Context, url string) (data []byte, contentType string, err error)
}

// errSkipMedia marks a media failure after which the status goes out
// without the image.
var errSkipMedia = errors.New("image skipped")

// prepareImage makes downloaded bytes acceptable to the server: a type it
// supports, within its size and pixel limits, converting when needed. The
// header is judged before anything is decoded: an SVG is never sent (no
// Mastodon-API server takes one), an image over imagehead.PixelBudget is
// never decoded, and an animated image that fits goes as it is (Mastodon
// makes a looping video of a GIF) while one that does not becomes a still
// of its first frame.
func prepareImage(data []byte, contentType string, lim Limits) ([]byte, string, error) {
	ct := http.DetectContentType(data)
	if !strings.HasPrefix(ct, "image/") {
		ct = strings.TrimSpace(strings.Split(contentType, ";")[0])
	}
	head, err := imagehead.Check(data, 0)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", errSkipMedia, ct, err)
	}
	if head.Format == "webp" {
		ct = "image/webp"
	}
	pixels := head.Pixels()
	fits := slices.Contains(lim.SupportedMIMETypes, ct) && int64(len(data)) <= lim.ImageSizeLimit && pixels <= lim.ImageMatrixLimit
	if fits {
		return data, ct, nil
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("%w: decode %s: %v", errSkipMedia, ct, err)
	}
	if pixels > lim.ImageMatrixLimit {
		scale := math.Sqrt(float64(lim.ImageMatrixLimit) / float64(pixels))
		w, h := max(1, int(float64(head.Width)*scale)), max(1, int(float64(head.Height)*scale))
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
		img = dst
	}
	if !slices.Contains(lim.SupportedMIMETypes, "image/jpeg") {
		return nil, "", fmt.Errorf("%w: server takes neither %s nor JPEG", errSkipMedia, ct)
	}
	// JPEG has no transparency: flatten onto white.
	flat := image.NewRGBA(img.Bounds())
	draw.Draw(flat, flat.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(flat, flat.Bounds(), img, img.Bounds().Min, draw.Over)
	for _, q := range []int{85, 70, 50} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, flat, &jpeg.Options{Quality: q}); err != nil {
			return nil, "", fmt.Errorf("%w: encode JPEG: %v", errSkipMedia, err)
		}
		if int64(buf.Len()) <= lim.ImageSizeLimit {
			return buf.Bytes(), "image/jpeg", nil
		}
	}
	return nil, "", fmt.Errorf("%w: larger than the server's %d bytes even as JPEG", errSkipMedia, lim.ImageSizeLimit)
}

// uploadMedia uploads the status's images and waits until the server has
// processed them. Images that fail are left out (and logged); only a spent
// rate budget or a destination error stops the delivery.
func (a *Account) uploadMedia(ctx context.Context, st Status, lim Limits, item string) ([]gomastodon.ID, error) {
	var ids []gomastodon.ID
	for _, m := range st.Media {
		id, err := a.uploadOne(ctx, m, lim)
		if err == nil {
			ids = append(ids, id)
			continue
		}
		if !errors.Is(err, errSkipMedia) {
			de := classify(err, a.now())
			if de.Kind == kindRateLimited || de.Kind == kindDestination {
				return nil, err
			}
		}
		a.opts.Logger.Warn("mastodon status goes out without an image",
			"destination", a.opts.ID, "item", item, "image", m.URL, "error", scrubError(err, a.opts.Token))
	}
	return ids, nil
}

func (a *Account) uploadOne(ctx context.Context, m Media, lim Limits) (gomastodon.ID, error) {
	if a.opts.Downloader == nil {
		return "", fmt.Errorf("%w: no downloader configured", errSkipMedia)
	}
	dctx, cancel := context.WithTimeout(ctx, a.opts.CallTimeout)
	data, ct, err := a.opts.Downloader.Download(dctx, m.URL)
	cancel()
	if err != nil {
		return "", fmt.Errorf("%w: download: %v", errSkipMedia, err)
	}
	data, _, err = prepareImage(data, ct, lim)
	if err != nil {
		return "", err
	}
	done, err := a.wait(ctx, "media", "requests")
	if err != nil {
		return "", err
	}
	var att *gomastodon.Attachment
	err = a.call(ctx, func(ctx context.Context) error {
		var err error
		att, err = a.client.UploadMediaFromMedia(ctx, &gomastodon.Media{File: bytes.NewReader(data), Description: m.Alt})
		return err
	})
	done()
	if err != nil {
		if code, _, ok := apiStatus(err); ok && (code == http.StatusUnprocessableEntity || code == http.StatusRequestEntityTooLarge) {
			return "", fmt.Errorf("%w: server refused the file: %v", errSkipMedia, err)
		}
		return "", err
	}
	if att.URL != "" {
		return att.ID, nil
	}
	// 202: the server processes the file; poll until 200, never attach it
	// unprocessed.
	for range a.opts.MediaPolls {
		if err := a.opts.Sleep(ctx, a.opts.MediaPollInterval); err != nil {
			return "", err
		}
		done, err := a.wait(ctx, "requests")
		if err != nil {
			return "", err
		}
		err = a.call(ctx, func(ctx context.Context) error { return a.client.GetMediaStatus(ctx, att) })
		done()
		switch {
		case err == nil:
			return att.ID, nil
		case isProcessing(err):
			continue
		}
		if code, _, ok := apiStatus(err); ok && code == http.StatusUnprocessableEntity {
			return "", fmt.Errorf("%w: processing failed: %v", errSkipMedia, err)
		}
		return "", err
	}
	return "", fmt.Errorf("%w: still processing after %d polls", errSkipMedia, a.opts.MediaPolls)
}

// waitMediaReady polls media until processed, for a status refused
// because an attachment was not ready yet.
func (a *Account) waitMediaReady(ctx context.Context, ids []gomastodon.ID) error {
	for _, id := range ids {
		att := &gomastodon.Attachment{ID: id}
		for i := 0; ; i++ {
			if i >= a.opts.MediaPolls {
				return fmt.Errorf("%w: media %s still processing", errSkipMedia, id)
			}
			done, err := a.wait(ctx, "requests")
			if err != nil {
				return err
			}
			err = a.call(ctx, func(ctx context.Context) error { return a.client.GetMediaStatus(ctx, att) })
			done()
			if err == nil {
				break
			}
			if !isProcessing(err) {
				return err
			}
			if err := a.opts.Sleep(ctx, a.opts.MediaPollInterval); err != nil {
				return err
			}
		}
	}
	return nil
}
