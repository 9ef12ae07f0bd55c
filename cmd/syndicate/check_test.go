package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/demosite"
)

const (
	checkBotToken = "123456:ABCDEF-check-secret"
	checkMdToken  = "mastodon-check-secret"
)

// checkSetup is what one check scenario configures: the chat the channel
// posts to as Telegram knows it, the channel's options and the token's
// scopes on the Mastodon server.
type checkSetup struct {
	chat        telegramfake.Chat
	topic       int64
	noEdits     bool
	scopes      string
	noAppScopes bool
	tgToken     string // the token the config gives, if not the valid one
	extraFeeds  bool   // add a feed that 404s and one that does not parse
}

// want is a check expected among the results: id and check name, verdict
// and a fragment of the detail.
type want struct {
	id, check, verdict, detail string
}

func TestCheck(t *testing.T) {
	channel := telegramfake.Chat{ID: -1001000000001, Username: "freedomvoice_en", Title: "Freedom Voice"}
	tests := []struct {
		name  string
		setup checkSetup
		code  int
		want  []want
	}{
		{"all good", checkSetup{chat: channel}, 0, []want{
			{"tg-en", "token", "ok", "getMe: @fake_bot (id 123456)"},
			{"tg-en", "chat", "ok", `channel "Freedom Voice" @freedomvoice_en (id -1001000000001)`},
			{"tg-en", "rights", "ok", "administrator with can_post_messages and can_edit_messages"},
			{"md-en", "token", "ok", "verify_credentials: @freedomvoice"},
			{"md-en", "scopes", "ok", `scopes "read write push"`},
			{"md-en", "limits", "ok", "mastodon 4.5.0 (from nodeinfo): max_characters 500, characters_reserved_per_url 23, max_media_attachments 4, image_size_limit 16 MiB, description_limit 1500"},
			{"en", "fetch", "ok", "items"},
		}},
		{"member, not an administrator", checkSetup{chat: withRights(channel, telegramfake.Member{Status: "member"})}, 1, []want{
			{"tg-en", "rights", "FAIL", "the bot is a member, not an administrator: can_post_messages missing"},
		}},
		{"administrator without the right to post", checkSetup{chat: withRights(channel, telegramfake.Member{Status: "administrator", CanEditMessages: true})}, 1, []want{
			{"tg-en", "rights", "FAIL", "administrator without can_post_messages"},
		}},
		{"administrator without can_edit_messages, edits on", checkSetup{chat: withRights(channel, telegramfake.Member{Status: "administrator", CanPostMessages: true})}, 0, []want{
			{"tg-en", "rights", "ok", "administrator with can_post_messages"},
			{"tg-en", "rights", "WARN", "can_edit_messages missing: edits work on this bot's own posts only"},
		}},
		{"administrator without can_edit_messages, edits off", checkSetup{noEdits: true, chat: withRights(channel, telegramfake.Member{Status: "administrator", CanPostMessages: true})}, 0, []want{
			{"tg-en", "rights", "ok", "administrator with can_post_messages"},
		}},
		{"bot not in a private channel", checkSetup{chat: telegramfake.Chat{ID: -1001000000001, Title: "Private", Members: []string{"999:someone-else"}}}, 1, []want{
			{"tg-en", "chat", "FAIL", "getChat: Forbidden: bot is not a member of the channel chat"},
		}},
		{"restricted in a group without photos", checkSetup{chat: telegramfake.Chat{ID: -1001000000001, Username: "freedomvoice_en", Type: "supergroup",
			Rights: map[string]telegramfake.Member{checkBotToken: {Status: "restricted", IsMember: true, Permissions: telegramfake.Permissions{CanSendMessages: true}}}}}, 1, []want{
			{"tg-en", "rights", "FAIL", "restricted member without can_send_photos (the posts carry photos)"},
		}},
		{"group member, documents not allowed", checkSetup{chat: telegramfake.Chat{ID: -1001000000001, Username: "freedomvoice_en", Type: "supergroup",
			Permissions: &telegramfake.Permissions{CanSendMessages: true, CanSendPhotos: true}}}, 0, []want{
			{"tg-en", "rights", "ok", "member allowed to send"},
			{"tg-en", "rights", "WARN", "can_send_documents missing"},
		}},
		{"topic exists", checkSetup{chat: forum(5), topic: 5}, 0, []want{
			{"tg-en", "chat", "ok", "a forum"},
			{"tg-en", "topic", "ok", "topic 5 exists (probed without posting)"},
		}},
		{"missing topic", checkSetup{chat: forum(5), topic: 9}, 1, []want{
			{"tg-en", "topic", "FAIL", "topic 9 not found in the forum"},
		}},
		{"General topic", checkSetup{chat: forum(5), topic: 1}, 1, []want{
			{"tg-en", "topic", "FAIL", "topic 1 is the General topic"},
		}},
		{"topic in a channel", checkSetup{chat: channel, topic: 5}, 1, []want{
			{"tg-en", "topic", "FAIL", "the chat is not a forum"},
		}},
		{"bad Telegram token", checkSetup{chat: channel, tgToken: "123456:WRONG-check-secret"}, 1, []want{
			{"tg-en", "token", "FAIL", "getMe: Unauthorized"},
			{"md-en", "token", "ok", "@freedomvoice"},
		}},
		{"Mastodon token without write:media", checkSetup{chat: channel, scopes: "read write:statuses"}, 1, []want{
			{"md-en", "scopes", "FAIL", `scopes "read write:statuses" lack write:media (the account posts images)`},
		}},
		{"Mastodon token that may not post", checkSetup{chat: channel, scopes: "read"}, 1, []want{
			{"md-en", "scopes", "FAIL", "lack write:statuses and write:media"},
		}},
		{"Mastodon token without read", checkSetup{chat: channel, scopes: "write"}, 0, []want{
			{"md-en", "token", "WARN", "403 Forbidden: This action is outside the authorized scopes"},
			{"md-en", "scopes", "WARN", "lack read:statuses"},
		}},
		{"server without scopes", checkSetup{chat: channel, noAppScopes: true}, 0, []want{
			{"md-en", "scopes", "WARN", "the server does not report the token's scopes"},
		}},
		{"a feed 404s, one does not parse", checkSetup{chat: channel, extraFeeds: true}, 1, []want{
			{"en", "fetch", "ok", "items"},
			{"gone", "fetch", "FAIL", "http 404"},
			{"page", "fetch", "FAIL", "/page: parse feed: not an RSS, Atom or JSON feed"},
			{"ar", "fetch", "ok", "items"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, tg, md := checkEnv(t, tt.setup)
			vars := map[string]string{"TELEGRAM_TOKEN": checkBotToken, "MASTODON_TOKEN": checkMdToken}
			if tt.setup.tgToken != "" {
				vars["TELEGRAM_TOKEN"] = tt.setup.tgToken
			}
			r := runCmd(t, context.Background(), vars, "check", "--config", cfg, "--json")
			assertNoSecret(t, r, vars)
			var got []checkResult
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("--json output does not parse: %v\n%s\n%s", err, r.stdout, r.stderr)
			}
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !hasResult(got, w) {
					t.Errorf("no %s %s %s %q among:\n%s", w.id, w.check, w.verdict, w.detail, r.stdout)
				}
			}
			if tt.code == 0 {
				for _, g := range got {
					if !g.OK {
						t.Errorf("unexpected failure %+v", g)
					}
				}
			}
			if n := len(tg.Messages(fmt.Sprint(tt.setup.chat.ID))); n != 0 {
				t.Errorf("check posted %d Telegram message(s)", n)
			}
			if n := len(md.Statuses()); n != 0 {
				t.Errorf("check posted %d status(es)", n)
			}
		})
	}
}

func TestCheckText(t *testing.T) {
	cfg, _, _ := checkEnv(t, checkSetup{chat: withRights(telegramfake.Chat{ID: -1001000000001, Username: "freedomvoice_en"},
		telegramfake.Member{Status: "member"}), noAppScopes: true})
	vars := map[string]string{"TELEGRAM_TOKEN": checkBotToken, "MASTODON_TOKEN": checkMdToken}
	r := runCmd(t, context.Background(), vars, "check", "--config", cfg)
	assertNoSecret(t, r, vars)
	if r.code != 1 || !strings.Contains(r.stderr, "1 of 7 checks failed") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 9 {
		t.Fatalf("want 7 check lines, a blank line and a summary:\n%s", r.stdout)
	}
	for i, want := range [][]string{
		{"telegram", "tg-en", "token", "ok", "getMe:"},
		{"telegram", "tg-en", "chat", "ok", "getChat:"},
		{"telegram", "tg-en", "rights", "FAIL", "getChatMember:"},
		{"mastodon", "md-en", "token", "ok", "verify_credentials:"},
		{"mastodon", "md-en", "scopes", "WARN", "the"},
		{"mastodon", "md-en", "limits", "ok", "mastodon"},
		{"feed", "en", "fetch", "ok"},
	} {
		if f := strings.Fields(lines[i]); len(f) < len(want) || strings.Join(f[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("line %d = %q, want it to start with %q", i, lines[i], want)
		}
	}
	if lines[8] != "7 checks: 1 failed, 1 warnings." {
		t.Errorf("summary %q", lines[8])
	}
}

func withRights(c telegramfake.Chat, m telegramfake.Member) telegramfake.Chat {
	c.Rights = map[string]telegramfake.Member{checkBotToken: m}
	return c
}

func forum(topics ...int64) telegramfake.Chat {
	return telegramfake.Chat{ID: -1001000000001, Username: "freedomvoice_en", Title: "Freedom Talk", Type: "supergroup", IsForum: true, Topics: topics}
}

func hasResult(got []checkResult, w want) bool {
	for _, g := range got {
		if g.ID == w.id && g.Check == w.check && g.verdict() == w.verdict && strings.Contains(g.Detail, w.detail) {
			return true
		}
	}
	return false
}

// assertNoSecret fails when a token, or the secret half of the bot token,
// shows in any output.
func assertNoSecret(t *testing.T, r result, vars map[string]string) {
	t.Helper()
	secrets := []string{checkBotToken, checkMdToken, "ABCDEF-check-secret"}
	for _, v := range vars {
		secrets = append(secrets, v)
		if _, half, ok := strings.Cut(v, ":"); ok {
			secrets = append(secrets, half)
		}
	}
	for _, s := range secrets {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("output shows the secret %q", s)
		}
	}
}

// checkEnv starts the sample site and both platform stand-ins as the
// setup wants them and writes a config using them.
func checkEnv(t *testing.T, s checkSetup) (string, *telegramfake.Server, *mastodonfake.Server) {
	t.Helper()
	site, err := demosite.Start(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	tg := telegramfake.New(telegramfake.Options{Tokens: []string{checkBotToken}, Chats: []telegramfake.Chat{s.chat}})
	t.Cleanup(tg.Close)
	mo := mastodonfake.Options{Tokens: map[string]string{checkMdToken: "freedomvoice"}, NoAppScopes: s.noAppScopes}
	if s.scopes != "" {
		mo.Scopes = map[string]string{checkMdToken: s.scopes}
	}
	md := mastodonfake.New(mo)
	t.Cleanup(md.Close)

	feeds := fmt.Sprintf("  - id: en\n    url: %s\n", site.FeedURL("en"))
	ids := "en"
	if s.extraFeeds {
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/page" {
				fmt.Fprint(w, "<html><body>not a feed</body></html>")
				return
			}
			http.NotFound(w, r)
		}))
		t.Cleanup(other.Close)
		feeds += fmt.Sprintf("  - id: gone\n    url: %s/feed\n  - id: page\n    url: %s/page\n  - id: ar\n    url: %s\n", other.URL, other.URL, site.FeedURL("ar"))
		ids = "en, gone, page, ar"
	}
	channel := fmt.Sprintf("    - id: tg-en\n      chat: %q\n", fmt.Sprint(s.chat.ID))
	if s.topic != 0 {
		channel += fmt.Sprintf("      topic: %d\n", s.topic)
	}
	if s.noEdits {
		channel += "      format:\n        edits: false\n"
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, fmt.Sprintf(`store:
  embedded:
    path: %s
network:
  feeds:
    allow_private: true
  media:
    allow_private: true
feeds:
%stelegram:
  bots:
    - id: main
      token: ${TELEGRAM_TOKEN}
      api_url: %s
  channels:
%smastodon:
  accounts:
    - id: md-en
      server: %s
      access_token: ${MASTODON_TOKEN}
routes:
  - feeds: [%s]
    to: [tg-en, md-en]
`, filepath.Join(dir, "state.db"), feeds, tg.URL(), channel, md.URL(), ids))
	return cfg, tg, md
}

func TestCheckUsage(t *testing.T) {
	if r := runCmd(t, context.Background(), nil, "check", "--help"); r.code != 0 || !strings.Contains(r.stderr, "syndicate check") || !strings.Contains(r.stderr, "-json") {
		t.Errorf("check --help = %d %q", r.code, r.stderr)
	}
	if r := runCmd(t, context.Background(), nil, "check"); r.code != 1 || !strings.Contains(r.stderr, "--config FILE is required") {
		t.Errorf("check without --config = %d %q", r.code, r.stderr)
	}
	if r := runCmd(t, context.Background(), nil, "check", "--config", "x.yaml", "extra"); r.code != 2 {
		t.Errorf("check with an extra argument = %d", r.code)
	}
}
