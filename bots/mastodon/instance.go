package mastodon

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
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

// server is what the server says about itself: its limits and, from
// NodeInfo or the instance's version, the implementation.
type server struct {
	limits Limits
	// software is the implementation recognised, "" when unknown.
	software string
	// version is the implementation's version as NodeInfo states it, or the
	// instance's version string.
	version string
	// source says what the identification rests on: "nodeinfo",
	// "instance" (the version heuristics) or "" (nothing recognised).
	source string
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

// mastodonFamily are the NodeInfo software names of Mastodon and of forks
// of it, which keep its status length validator.
var mastodonFamily = map[string]bool{
	"mastodon": true, "glitchsoc": true, "glitch-soc": true, "hometown": true, "fedibird": true, "kmyblue": true,
}

// nodeInfoSoftware maps a NodeInfo software name to an implementation, ""
// for one whose counting rule is unknown.
func nodeInfoSoftware(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	switch {
	case mastodonFamily[name]:
		return softwareMastodon
	case name == softwareGoToSocial, name == softwarePleroma, name == softwareAkkoma:
		return name
	}
	return ""
}

// mastodonVersion matches the version strings Mastodon and its forks give
// ("4.5.0", "4.3.2+glitch", "4.2.0-beta.1"); other implementations that
// imitate Mastodon's version add their own name after a space.
var mastodonVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(?:[-+~][0-9A-Za-z.+~-]*)?$`)

// software recognises the implementation from the instance's version
// ("4.5.0", "2.7.2 (compatible; Pleroma 2.5.0)", "2.7.2 (compatible;
// Akkoma 3.13.2)", "0.19.0+git-…") and source_url, for servers without
// NodeInfo; it returns "" for anything else.
func software(version, sourceURL string) string {
	v := strings.ToLower(strings.TrimSpace(version))
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
		return ""
	}
	if strings.Contains(v+" "+strings.ToLower(sourceURL), "gotosocial") {
		return softwareGoToSocial
	}
	if mastodonVersion.MatchString(v) {
		return softwareMastodon
	}
	return ""
}

// countOf is the count of an implementation; an unknown one is counted
// strictly.
func countOf(sw string) Count {
	switch sw {
	case softwareMastodon:
		return CountMastodon
	case softwareGoToSocial:
		return CountCodePoints
	case softwarePleroma, softwareAkkoma:
		return CountGraphemes
	}
	return CountStrict
}

// fetchInstance asks GET /api/v2/instance, then /api/v1/instance.
func (a *Account) fetchInstance(ctx context.Context) (instanceJSON, error) {
	var errs []string
	for _, path := range []string{"/api/v2/instance", "/api/v1/instance"} {
		var in instanceJSON
		if err := a.getJSON(ctx, a.apiURL(path), true, &in); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", path, err))
			if k := classify(err, a.now()).Kind; k == syndicate.ErrRateLimited || k == syndicate.ErrPermanentDestination {
				return instanceJSON{}, err
			}
			continue
		}
		return in, nil
	}
	return instanceJSON{}, fmt.Errorf("read instance limits: %s", strings.Join(errs, "; "))
}

// nodeInfo is the part of a NodeInfo 2.x document that names the software
// (https://nodeinfo.diaspora.software/protocol.html).
type nodeInfo struct {
	Software struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"software"`
}

// nodeInfoSchema2 starts the rel of every NodeInfo 2.x link.
const nodeInfoSchema2 = "://nodeinfo.diaspora.software/ns/schema/2."

// fetchNodeInfo reads GET /.well-known/nodeinfo, then the document of the
// highest 2.x schema it links. The requests carry no token: NodeInfo is
// public, and the link may point to another host.
func (a *Account) fetchNodeInfo(ctx context.Context) (nodeInfo, error) {
	var wk struct {
		Links []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := a.getJSON(ctx, a.apiURL("/.well-known/nodeinfo"), false, &wk); err != nil {
		return nodeInfo{}, fmt.Errorf("nodeinfo discovery: %w", err)
	}
	base, err := url.Parse(a.apiURL("/"))
	if err != nil {
		return nodeInfo{}, fmt.Errorf("nodeinfo discovery: %w", err)
	}
	var href, best string
	for _, l := range wk.Links {
		_, minor, ok := strings.Cut(l.Rel, nodeInfoSchema2)
		if !ok || minor <= best && href != "" {
			continue
		}
		u, err := base.Parse(l.Href)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		href, best = u.String(), minor
	}
	if href == "" {
		return nodeInfo{}, errors.New("nodeinfo discovery: no link to a 2.x document")
	}
	var ni nodeInfo
	if err := a.getJSON(ctx, href, false, &ni); err != nil {
		return nodeInfo{}, fmt.Errorf("nodeinfo %s: %w", href, err)
	}
	if strings.TrimSpace(ni.Software.Name) == "" {
		return nodeInfo{}, fmt.Errorf("nodeinfo %s: no software name", href)
	}
	return ni, nil
}

// fetchServer reads the instance's limits and identifies the software:
// by NodeInfo when the server serves it, else by the instance's version.
// A server without NodeInfo is no error.
func (a *Account) fetchServer(ctx context.Context) (server, error) {
	in, err := a.fetchInstance(ctx)
	if err != nil {
		return server{}, err
	}
	ni, err := a.fetchNodeInfo(ctx)
	if err != nil {
		a.opts.Logger.Debug("mastodon nodeinfo unavailable", "destination", a.opts.ID, "error", scrubError(err, a.opts.Token))
	}
	return in.server(ni), nil
}

// server reads the limits from an instance answer, and the implementation
// from NodeInfo (when ni names one) or the answer's version.
func (in instanceJSON) server(ni nodeInfo) server {
	c := in.Configuration
	lim := Limits{
		MaxCharacters:       cmp.Or(c.Statuses.MaxCharacters, in.MaxTootChars),
		MaxMediaAttachments: cmp.Or(c.Statuses.MaxMediaAttachments, in.MaxMediaAttachments),
		DescriptionLimit:    cmp.Or(c.MediaAttachments.DescriptionLimit, in.DescriptionLimit, in.Pleroma.Metadata.DescriptionLimit),
		ImageSizeLimit:      cmp.Or(c.MediaAttachments.ImageSizeLimit, in.UploadLimit),
		ImageMatrixLimit:    c.MediaAttachments.ImageMatrixLimit,
	}
	fullURLs := false
	if r := c.Statuses.CharactersReservedPerURL; r != nil {
		lim.CharactersReservedPerURL = *r
		fullURLs = *r == 0
	}
	// Pleroma lists only application/octet-stream, meaning any file: a
	// list without an image type says nothing about images.
	if slices.ContainsFunc(c.MediaAttachments.SupportedMIMETypes, func(t string) bool { return strings.HasPrefix(t, "image/") }) {
		lim.SupportedMIMETypes = c.MediaAttachments.SupportedMIMETypes
	}
	srv := server{version: in.Version}
	if name := ni.Software.Name; name != "" {
		srv.software, srv.version, srv.source = nodeInfoSoftware(name), ni.Software.Version, "nodeinfo"
	} else if sw := software(in.Version, in.SourceURL); sw != "" {
		srv.software, srv.source = sw, "instance"
	}
	lim.Count = countOf(srv.software)
	if lim.Count == CountMastodon && fullURLs {
		// A server that says URLs cost their full length is taken at its
		// word, though it looks like Mastodon.
		lim.Count = CountGraphemes
	}
	srv.limits = lim.withDefaults()
	srv.ignoresKeys = srv.software == softwareGoToSocial
	return srv
}

// apiURL is the URL of a path on the account's server.
func (a *Account) apiURL(path string) string {
	return strings.TrimRight(a.opts.Server, "/") + path
}

// getJSON performs a GET through the account's client, with the token
// when auth is set.
func (a *Account) getJSON(ctx context.Context, u string, auth bool, v any) error {
	if auth {
		done, err := a.wait(ctx, "requests")
		if err != nil {
			return err
		}
		defer done()
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.CallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+a.opts.Token)
	}
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

// learnt is what delivery taught about an account's server beyond what
// it says about itself; it outlives the hourly refresh of the limits.
type learnt struct {
	// strict is set once the server refused a status as too long that
	// fitted its count: its statuses are counted strictly from then on.
	strict bool
	// margin is set once it refused one that fitted the strict count: its
	// statuses keep a margin below the limit from then on.
	margin bool
	// maxChars is a limit the server stated in a refusal while advertising
	// advertised; it holds as long as the advertised limit does.
	maxChars, advertised int
}

// apply returns lim with what was learnt.
func (l learnt) apply(lim Limits) Limits {
	if l.maxChars > 0 && lim.MaxCharacters == l.advertised {
		lim.MaxCharacters = min(lim.MaxCharacters, l.maxChars)
	}
	if l.strict {
		lim.Count = CountStrict
	}
	if l.margin {
		lim.MaxCharacters = withMargin(lim.MaxCharacters)
	}
	return lim
}

// withMargin is a limit a tenth below n, for servers whose count is not
// what this package expects.
func withMargin(n int) int {
	return max(1, n-max(1, n/10))
}

// limits returns the server's limits as statuses are fitted to them,
// asking the server at most once an hour (and once in five minutes after a
// failure, when Mastodon's default limits are counted strictly).
func (a *Account) limits(ctx context.Context) (Limits, error) {
	a.mu.Lock()
	if !a.limitsUntil.IsZero() && a.now().Before(a.limitsUntil) {
		lim := a.learnt.apply(a.server.limits)
		a.mu.Unlock()
		return lim, nil
	}
	a.mu.Unlock()
	srv, err := a.fetchServer(ctx)
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
		srv.limits.Count = CountStrict
		a.limitsUntil = a.now().Add(5 * time.Minute)
	} else {
		a.limitsUntil = a.now().Add(time.Hour)
	}
	a.setServer(srv)
	return a.learnt.apply(srv.limits), nil
}

// setServer records what the server said, logging a change of the
// identification; the caller holds a.mu.
func (a *Account) setServer(srv server) {
	old := a.server
	a.server = srv
	if old.software == srv.software && old.limits.Count == srv.limits.Count && old.source == srv.source {
		return
	}
	a.opts.Logger.Info("mastodon server identified", "destination", a.opts.ID, "software", cmp.Or(srv.software, "unknown"),
		"version", srv.version, "source", cmp.Or(srv.source, "none"), "count", srv.limits.Count.String())
}

// refreshLimits asks the server again at once, after a "too long" answer
// that does not state the limit (Pleroma's): the limit may have been
// lowered since it was read. On failure the known limits stay.
func (a *Account) refreshLimits(ctx context.Context) (Limits, error) {
	srv, err := a.fetchServer(ctx)
	if err != nil {
		return Limits{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.setServer(srv)
	a.limitsUntil = a.now().Add(time.Hour)
	return a.learnt.apply(srv.limits), nil
}
