package mastodonfake

import (
	"net/http"
	"slices"
	"strings"
)

// defaultScopes are a token's scopes when Options.Scopes does not name it:
// enough for every endpoint the fake serves.
const defaultScopes = "read write push"

// endpointScopes are the scopes an endpoint accepts, any one sufficing, as
// Mastodon's controllers declare them with doorkeeper_authorize! (and with
// authorize_if_got_token!, the same for a request that carries a token):
// app/controllers/api/v1/accounts/credentials_controller.rb (profile, read,
// read:accounts), api/v1/accounts/statuses_controller.rb and
// api/v1/statuses_controller.rb (read, read:statuses to read; write,
// write:statuses to create and update), api/v1/media_controller.rb (write,
// write:media; Api::V2::MediaController inherits it).
// api/v1/apps/credentials_controller.rb takes any valid token since 4.3.
var endpointScopes = map[string][]string{
	"GET /api/v1/accounts/verify_credentials": {"profile", "read", "read:accounts"},
	"GET /api/v1/accounts/{id}/statuses":      {"read", "read:statuses"},
	"GET /api/v1/statuses/{id}":               {"read", "read:statuses"},
	"POST /api/v1/statuses":                   {"write", "write:statuses"},
	"PUT /api/v1/statuses/{id}":               {"write", "write:statuses"},
	"POST /api/v2/media":                      {"write", "write:media"},
	"POST /api/v1/media":                      {"write", "write:media"},
	"GET /api/v1/media/{id}":                  {"write", "write:media"},
	"PUT /api/v1/media/{id}":                  {"write", "write:media"},
}

// tokenScopes are the scopes a token was granted.
func (s *Server) tokenScopes(token string) []string {
	if sc, ok := s.opts.Scopes[token]; ok {
		return strings.Fields(sc)
	}
	return strings.Fields(defaultScopes)
}

// outOfScope answers a token without any scope the endpoint accepts with
// Doorkeeper's 403, whose body Api::BaseController#doorkeeper_forbidden_render_options
// sets (app/controllers/api/base_controller.rb). Only Mastodon's texts are
// known here, so the other flavours do not check scopes.
func (s *Server) outOfScope(token, endpoint string) (answer, bool) {
	need, ok := endpointScopes[endpoint]
	if !ok || (s.opts.Flavour != FlavourMastodon && s.opts.Flavour != FlavourUnknown) {
		return answer{}, false
	}
	have := s.tokenScopes(token)
	if slices.ContainsFunc(need, func(sc string) bool { return slices.Contains(have, sc) }) {
		return answer{}, false
	}
	return errorAnswer(http.StatusForbidden, "This action is outside the authorized scopes"), true
}

// appCredentials answers GET /api/v1/apps/verify_credentials with the
// token's application. Mastodon 4.3 added scopes, the application's
// registered scopes (app/serializers/rest/application_serializer.rb);
// the fake's applications have one token each, granted those scopes, as
// the Development settings page creates them. Earlier versions render only
// name, website and vapid_key (api/v1/apps/credentials_controller.rb),
// which NoAppScopes stands for.
func (s *Server) appCredentials(token string) answer {
	app := map[string]any{"name": "syndicate", "website": nil, "vapid_key": "BFake-vapid-key"}
	if !s.opts.NoAppScopes {
		app["scopes"] = s.tokenScopes(token)
	}
	return answer{status: http.StatusOK, body: app}
}
