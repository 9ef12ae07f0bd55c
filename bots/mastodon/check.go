package mastodon

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/syndicate-bot/syndicate/syndicate"
)

var _ syndicate.Checker = (*Account)(nil)

// Check verifies without posting that the account can post: the token
// (GET /api/v1/accounts/verify_credentials), its scopes (GET
// /api/v1/apps/verify_credentials) and the server's limits that statuses
// will be fitted to (the instance answer and NodeInfo).
func (a *Account) Check(ctx context.Context) []syndicate.Check {
	var acct struct {
		Acct string `json:"acct"`
		URL  string `json:"url"`
	}
	err := a.getJSON(ctx, a.apiURL("/api/v1/accounts/verify_credentials"), true, &acct)
	code, _, _ := apiStatus(err)
	var out []syndicate.Check
	switch {
	case err == nil:
		out = append(out, syndicate.Check{Name: "token", Detail: fmt.Sprintf("verify_credentials: @%s (%s)", acct.Acct, acct.URL)})
	case code == http.StatusForbidden:
		// The token is valid but may not read the account: posting may
		// still work, looking up a post after an unclear outcome will not.
		out = append(out, syndicate.Check{Name: "token", Verdict: syndicate.VerdictWarn,
			Detail: "verify_credentials: " + a.errText(err) + ": the token may not read the account (read:accounts), so a post whose outcome was unclear cannot be looked up"})
	default:
		detail := "verify_credentials: " + a.errText(err)
		if code == http.StatusUnauthorized {
			detail += ": the server refused the token"
		}
		return []syndicate.Check{{Name: "token", Verdict: syndicate.VerdictFail, Detail: detail}}
	}
	out = append(out, a.checkScopes(ctx))
	return append(out, a.checkLimits(ctx))
}

// errText is an error's text without the token.
func (a *Account) errText(err error) string {
	return scrubError(err, a.opts.Token).Error()
}

// postsImages reports whether statuses carry images.
func (a *Account) postsImages() bool {
	return a.opts.Format.Images == nil || *a.opts.Format.Images > 0
}

// checkScopes judges the scopes the server reports for the token's
// application (Mastodon 4.3 and later): the most the token may hold.
func (a *Account) checkScopes(ctx context.Context) syndicate.Check {
	var app struct {
		Scopes *[]string `json:"scopes"`
	}
	err := a.getJSON(ctx, a.apiURL("/api/v1/apps/verify_credentials"), true, &app)
	if err != nil {
		return syndicate.Check{Name: "scopes", Verdict: syndicate.VerdictWarn,
			Detail: "apps/verify_credentials: " + a.errText(err) + ": the token's scopes were not verified"}
	}
	if app.Scopes == nil {
		return syndicate.Check{Name: "scopes", Verdict: syndicate.VerdictWarn,
			Detail: "the server does not report the token's scopes (Mastodon before 4.3 and others): write:statuses and write:media were not verified"}
	}
	have := *app.Scopes
	need := []string{"write:statuses"}
	if a.postsImages() {
		need = append(need, "write:media")
	}
	var missing []string
	for _, n := range need {
		if !grants(have, n) {
			missing = append(missing, n)
		}
	}
	list := strings.Join(have, " ")
	if len(missing) > 0 {
		why := ""
		if slices.Contains(missing, "write:media") {
			why = " (the account posts images)"
		}
		return syndicate.Check{Name: "scopes", Verdict: syndicate.VerdictFail,
			Detail: fmt.Sprintf("apps/verify_credentials: scopes %q lack %s%s", list, strings.Join(missing, " and "), why)}
	}
	if !grants(have, "read:statuses") {
		return syndicate.Check{Name: "scopes", Verdict: syndicate.VerdictWarn,
			Detail: fmt.Sprintf("apps/verify_credentials: scopes %q lack read:statuses: a post whose outcome was unclear cannot be looked up", list)}
	}
	return syndicate.Check{Name: "scopes", Detail: fmt.Sprintf("apps/verify_credentials: scopes %q", list)}
}

// grants reports whether scopes include scope, or the whole family it
// belongs to ("write" grants "write:media").
func grants(scopes []string, scope string) bool {
	family, _, _ := strings.Cut(scope, ":")
	return slices.Contains(scopes, scope) || slices.Contains(scopes, family)
}

// checkLimits reads the server's limits as the publisher will, and says
// which ones statuses will be fitted to.
func (a *Account) checkLimits(ctx context.Context) syndicate.Check {
	srv, err := a.fetchServer(ctx)
	if err != nil {
		return syndicate.Check{Name: "limits", Verdict: syndicate.VerdictWarn,
			Detail: "instance: " + a.errText(err) + ": Mastodon's default limits will be used, counted strictly"}
	}
	l := srv.limits
	software := cmp.Or(srv.software, "unknown software")
	if srv.version != "" {
		software += " " + srv.version
	}
	if srv.source != "" {
		software += " (from " + srv.source + ")"
	}
	return syndicate.Check{Name: "limits", Detail: fmt.Sprintf(
		"%s: max_characters %d, characters_reserved_per_url %d, max_media_attachments %d, image_size_limit %s, description_limit %d, counted as %s",
		software, l.MaxCharacters, l.CharactersReservedPerURL, l.MaxMediaAttachments, size(l.ImageSizeLimit), l.DescriptionLimit, l.Count)}
}

// size writes a byte count the way the server most likely chose it: in
// MiB (Mastodon's 16 MiB), in MB (Pleroma's 16 MB), else in bytes.
func size(n int64) string {
	switch {
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n > 0 && n%1_000_000 == 0:
		return fmt.Sprintf("%d MB", n/1_000_000)
	}
	return fmt.Sprintf("%d bytes", n)
}
