package mastodon

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// go-mastodon reads only the deprecated v1 instance, as untyped maps and
// without description_limit, so the limits are read with plain GETs.

type instanceJSON struct {
	Version   string `json:"version"`
	SourceURL string `json:"source_url"`
	// Pleroma and Akkoma state their limits here in v1, and only here in
	// versions without a configuration block.
	MaxTootChars        int   `json:"max_toot_chars"`
	MaxMediaAttachments int   `json:"max_media_attachments"`
	UploadLimit         int64 `json:"upload_limit"`
	DescriptionLimit    int   `json:"description_limit"`
	Pleroma             struct {
		Metadata struct {
			DescriptionLimit int `json:"description_limit"`
		} `json:"metadata"`
	} `json:"pleroma"`
	Configuration struct {
		Statuses struct {
			MaxCharacters       int `json:"max_characters"`
			MaxMediaAttachments int `json:"max_media_attachments"`
			// CharactersReservedPerURL is a pointer because Pleroma
			// states 0: URLs count at their full length.
			CharactersReservedPerURL *int `json:"characters_reserved_per_url"`
		} `json:"statuses"`
		MediaAttachments struct {
			SupportedMIMETypes []string `json:"supported_mime_types"`
			ImageSizeLimit     int64    `json:"image_size_limit"`
			ImageMatrixLimit   int64    `json:"image_matrix_limit"`
			DescriptionLimit   int      `json:"description_limit"`
		} `json:"media_attachments"`
	} `json:"configuration"`
}

// server is what the instance endpoint says about the server.
type server struct {
	limits Limits
	// software is the implementation recognised from the version.
	software string
	// ignoresKeys is set for servers known to ignore Idempotency-Key.
	ignoresKeys bool
}

// Server implementations whose behaviour differs.
const (
	softwareMastodon   = "mastodon"
	softwareGoToSocial = "gotosocial"
	softwarePleroma    = "pleroma"
	softwareAkkoma     = "akkoma"
)

// software recognises the implementation from the instance's version
// ("4.5.0", "2.7.2 (compatible; Pleroma 2.5.0)", "2.7.2 (compatible;
// Akkoma 3.13.2)", "0.19.0+git-…") and source_url; anything else is taken
// for Mastodon or a fork of it.
func software(version, sourceURL string) string {
	v := strings.ToLower(version)
	if _, rest, ok := strings.Cut(v, "(compatible;"); ok {
		name := strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == ')' || r == '/' })
		if len(name) > 0 {
			switch {
			case strings.HasPrefix(name[0], "akkoma"):
				return softwareAkkoma
			case strings.HasPrefix(name[0], "pleroma"):
				return softwarePleroma
			}
		}
	}
	if strings.Contains(v+" "+strings.ToLower(sourceURL), "gotosocial") {
		return softwareGoToSocial
	}
	return softwareMastodon
}

// fetchInstance asks GET /api/v2/instance, then /api/v1/instance.
func (a *Account) fetchInstance(ctx context.Context) (server, error) {
	var errs []string
	for _, path := range []string{"/api/v2/instance", "/api/v1/instance"} {
		var in instanceJSON
		if err := a.getJSON(ctx, path, &in); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", path, err))
			if k := classify(err, a.now()).Kind; k == syndicate.ErrRateLimited || k == syndicate.ErrPermanentDestination {
				return server{}, err
			}
			continue
		}
		return in.server(), nil
	}
	return server{}, fmt.Errorf("read instance limits: %s", strings.Join(errs, "; "))
}

// server reads the limits and the implementation from an instance answer.
func (in instanceJSON) server() server {
	c := in.Configuration
	lim := Limits{
		MaxCharacters:       cmp.Or(c.Statuses.MaxCharacters, in.MaxTootChars),
		MaxMediaAttachments: cmp.Or(c.Statuses.MaxMediaAttachments, in.MaxMediaAttachments),
		DescriptionLimit:    cmp.Or(c.MediaAttachments.DescriptionLimit, in.DescriptionLimit, in.Pleroma.Metadata.DescriptionLimit),
		ImageSizeLimit:      cmp.Or(c.MediaAttachments.ImageSizeLimit, in.UploadLimit),
		ImageMatrixLimit:    c.MediaAttachments.ImageMatrixLimit,
	}
	if r := c.Statuses.CharactersReservedPerURL; r != nil {
		lim.CharactersReservedPerURL = *r
		lim.CountURLsInFull = *r == 0
	}
	// Pleroma lists only application/octet-stream, meaning any file: a
	// list without an image type says nothing about images.
	if slices.ContainsFunc(c.MediaAttachments.SupportedMIMETypes, func(t string) bool { return strings.HasPrefix(t, "image/") }) {
		lim.SupportedMIMETypes = c.MediaAttachments.SupportedMIMETypes
	}
	sw := software(in.Version, in.SourceURL)
	if sw == softwarePleroma || sw == softwareAkkoma {
		// They count the raw text: URLs at full length, whatever v1 says.
		lim.CountURLsInFull = true
	}
	return server{limits: lim.withDefaults(), software: sw, ignoresKeys: sw == softwareGoToSocial}
}

// getJSON performs an authenticated GET through the account's client.
func (a *Account) getJSON(ctx context.Context, path string, v any) error {
	if err := a.wait(ctx, "requests"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.CallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(a.opts.Server, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.opts.Token)
	if a.opts.UserAgent != "" {
		req.Header.Set("User-Agent", a.opts.UserAgent)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return &httpError{Status: resp.StatusCode, Message: e.Error}
	}
	return json.Unmarshal(body, v)
}

// limits returns the server's limits, asking it at most once an hour (and
// once in five minutes after a failure, when the defaults are used).
func (a *Account) limits(ctx context.Context) (Limits, error) {
	a.mu.Lock()
	if !a.limitsUntil.IsZero() && a.now().Before(a.limitsUntil) {
		lim := a.server.limits
		a.mu.Unlock()
		return lim, nil
	}
	a.mu.Unlock()
	srv, err := a.fetchInstance(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		// A spent budget or a rejected token stops the delivery; anything
		// else (an old server, a proxy in the way) falls back to defaults.
		if k := classify(err, a.now()).Kind; k == syndicate.ErrRateLimited || k == syndicate.ErrPermanentDestination {
			return Limits{}, err
		}
		a.opts.Logger.Warn("mastodon instance limits unavailable, using defaults",
			"destination", a.opts.ID, "error", scrubError(err, a.opts.Token))
		srv = server{limits: DefaultLimits()}
		a.limitsUntil = a.now().Add(5 * time.Minute)
	} else {
		a.limitsUntil = a.now().Add(time.Hour)
	}
	srv.limits.CountURLsInFull = srv.limits.CountURLsInFull || a.server.limits.CountURLsInFull
	a.server = srv
	return srv.limits, nil
}

// refreshLimits asks the server again at once, after a "too long" answer
// that does not state the limit (Pleroma's): the limit may have been
// lowered since it was read. On failure the known limits stay.
func (a *Account) refreshLimits(ctx context.Context) (Limits, error) {
	srv, err := a.fetchInstance(ctx)
	if err != nil {
		return Limits{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	srv.limits.CountURLsInFull = srv.limits.CountURLsInFull || a.server.limits.CountURLsInFull
	a.server = srv
	a.limitsUntil = a.now().Add(time.Hour)
	return srv.limits, nil
}
