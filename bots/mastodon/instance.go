package mastodon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// go-mastodon reads only the deprecated v1 instance, as untyped maps and
// without description_limit, so the limits are read with plain GETs.

type instanceJSON struct {
	Version   string `json:"version"`
	SourceURL string `json:"source_url"`
	// MaxTootChars is where Pleroma and Akkoma put the limit.
	MaxTootChars  int `json:"max_toot_chars"`
	Configuration struct {
		Statuses struct {
			MaxCharacters            int `json:"max_characters"`
			MaxMediaAttachments      int `json:"max_media_attachments"`
			CharactersReservedPerURL int `json:"characters_reserved_per_url"`
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
	// ignoresKeys is set for servers known to ignore Idempotency-Key.
	ignoresKeys bool
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
		c := in.Configuration
		lim := Limits{
			MaxCharacters:            c.Statuses.MaxCharacters,
			MaxMediaAttachments:      c.Statuses.MaxMediaAttachments,
			CharactersReservedPerURL: c.Statuses.CharactersReservedPerURL,
			DescriptionLimit:         c.MediaAttachments.DescriptionLimit,
			ImageSizeLimit:           c.MediaAttachments.ImageSizeLimit,
			ImageMatrixLimit:         c.MediaAttachments.ImageMatrixLimit,
			SupportedMIMETypes:       c.MediaAttachments.SupportedMIMETypes,
		}
		if lim.MaxCharacters == 0 {
			lim.MaxCharacters = in.MaxTootChars
		}
		v := strings.ToLower(in.Version + " " + in.SourceURL)
		return server{limits: lim.withDefaults(), ignoresKeys: strings.Contains(v, "gotosocial")}, nil
	}
	return server{}, fmt.Errorf("read instance limits: %s", strings.Join(errs, "; "))
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
	srv.limits.CountURLsInFull = a.server.limits.CountURLsInFull
	a.server = srv
	return srv.limits, nil
}
