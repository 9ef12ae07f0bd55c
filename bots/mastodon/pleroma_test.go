package mastodon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/syndicate"
)

// statusRequests lists the answers to POST /api/v1/statuses as
// "code" or "code(replayed)", with the key each request carried.
func statusRequests(srv *mastodonfake.Server) ([]string, []string) {
	var codes, keys []string
	for _, r := range srv.Requests() {
		if r.Endpoint != "POST /api/v1/statuses" {
			continue
		}
		c := fmt.Sprint(r.Status)
		if r.Replayed {
			c += "(replayed)"
		}
		codes = append(codes, c)
		keys = append(keys, r.IdempotencyKey)
	}
	return codes, keys
}

// restart returns a second publisher of the env's account, as after a
// process restart: nothing of the first one's memory is kept.
func (e *env) restart(t *testing.T) *Account {
	t.Helper()
	acct, err := NewAccount(AccountOptions{
		ID: "masto", Server: e.srv.URL(), Token: testToken, Now: e.clock.Now, Sleep: e.clock.Sleep,
		Logger:     slog.New(slog.NewTextHandler(e.logs, nil)),
		Downloader: &downloader{files: map[string][]byte{}},
		Limiter:    NewLocalLimiter(LocalLimiterOptions{Now: e.clock.Now, NoWait: true}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return acct
}

func TestSoftware(t *testing.T) {
	tests := []struct {
		version, source, want string
	}{
		{"4.5.0", "https://github.com/mastodon/mastodon", softwareMastodon},
		{"4.3.2+glitch", "", softwareMastodon},
		{"4.2.0-beta.1", "", softwareMastodon},
		{"2.7.2 (compatible; Pleroma 2.5.0)", "", softwarePleroma},
		{"2.7.2 (compatible; Pleroma 2.6.51-12-g0a1b2c3d-develop)", "https://git.pleroma.social/pleroma/pleroma", softwarePleroma},
		{"2.7.2 (compatible; Akkoma 3.13.2)", "", softwareAkkoma},
		{"2.7.2 (compatible; Akkoma 3.13.2-0-gabcdef)", "https://akkoma.dev/AkkomaGang/akkoma", softwareAkkoma},
		{"0.19.1+git-1a2b3c4", "https://codeberg.org/superseriousbusiness/gotosocial", softwareGoToSocial},
		{"3.5.3+0.20.0", "https://codeberg.org/superseriousbusiness/gotosocial", softwareGoToSocial},
		// Nothing recognisable: counted strictly.
		{"3.0.0 (compatible; Misskey 13.0.0)", "", ""},
		{"4.0.0 (not true; really snac/2.50)", "", ""},
		{"7", "", ""},
		{"", "", ""},
		{"takahe/0.11", "", ""},
	}
	for _, tt := range tests {
		if got := software(tt.version, tt.source); got != tt.want {
			t.Errorf("software(%q, %q) = %q, want %q", tt.version, tt.source, got, tt.want)
		}
	}
}

func TestInstanceAnswers(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Limits
		sw   string
	}{
		{
			name: "older Pleroma v1",
			body: `{"uri":"p.example","version":"2.7.2 (compatible; Pleroma 2.4.5)","max_toot_chars":5000,
				"poll_limits":{"max_options":20},"upload_limit":16000000,"description_limit":5000,"pleroma":{"metadata":{}}}`,
			want: Limits{MaxCharacters: 5000, MaxMediaAttachments: 4, CharactersReservedPerURL: 23, DescriptionLimit: 5000,
				ImageSizeLimit: 16000000, ImageMatrixLimit: 16777216, Count: CountGraphemes},
			sw: softwarePleroma,
		},
		{
			name: "newer Pleroma v2",
			body: `{"domain":"p.example","version":"2.7.2 (compatible; Pleroma 2.7.0)","source_url":"https://git.pleroma.social/pleroma/pleroma",
				"configuration":{"statuses":{"max_characters":8000,"max_media_attachments":1000,"characters_reserved_per_url":0},
				"media_attachments":{"image_size_limit":4000000,"supported_mime_types":["application/octet-stream"]}},
				"pleroma":{"metadata":{"description_limit":900}}}`,
			want: Limits{MaxCharacters: 8000, MaxMediaAttachments: 1000, CharactersReservedPerURL: 23, DescriptionLimit: 900,
				ImageSizeLimit: 4000000, ImageMatrixLimit: 16777216, Count: CountGraphemes},
			sw: softwarePleroma,
		},
		{
			name: "Mastodon v2",
			body: `{"domain":"m.example","version":"4.5.0","configuration":{"statuses":{"max_characters":500,"max_media_attachments":4,
				"characters_reserved_per_url":23},"media_attachments":{"supported_mime_types":["image/jpeg","image/png"],
				"image_size_limit":16777216,"image_matrix_limit":33177600,"description_limit":1500}}}`,
			want: Limits{MaxCharacters: 500, MaxMediaAttachments: 4, CharactersReservedPerURL: 23, DescriptionLimit: 1500,
				ImageSizeLimit: 16777216, ImageMatrixLimit: 33177600, SupportedMIMETypes: []string{"image/jpeg", "image/png"}, Count: CountMastodon},
			sw: softwareMastodon,
		},
		{
			name: "GoToSocial v2",
			body: `{"domain":"g.example","version":"0.20.1","source_url":"https://codeberg.org/superseriousbusiness/gotosocial",
				"configuration":{"statuses":{"max_characters":5000,"max_media_attachments":6,"characters_reserved_per_url":25}}}`,
			want: Limits{MaxCharacters: 5000, MaxMediaAttachments: 6, CharactersReservedPerURL: 25, DescriptionLimit: 1500,
				ImageSizeLimit: 10 << 20, ImageMatrixLimit: 16777216, Count: CountCodePoints},
			sw: softwareGoToSocial,
		},
		{
			name: "unrecognised",
			body: `{"domain":"x.example","version":"7","configuration":{"statuses":{"max_characters":1000}}}`,
			want: Limits{MaxCharacters: 1000, MaxMediaAttachments: 4, CharactersReservedPerURL: 23, DescriptionLimit: 1500,
				ImageSizeLimit: 10 << 20, ImageMatrixLimit: 16777216, Count: CountStrict},
			sw: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in instanceJSON
			if err := json.Unmarshal([]byte(tt.body), &in); err != nil {
				t.Fatal(err)
			}
			srv := in.server(nodeInfo{})
			want := tt.want
			if want.SupportedMIMETypes == nil {
				want.SupportedMIMETypes = DefaultLimits().SupportedMIMETypes
			}
			if fmt.Sprint(srv.limits) != fmt.Sprint(want) || srv.software != tt.sw || srv.ignoresKeys != (tt.sw == softwareGoToSocial) {
				t.Errorf("got %+v %s ignoresKeys=%v\nwant %+v %s", srv.limits, srv.software, srv.ignoresKeys, want, tt.sw)
			}
		})
	}
}

func TestPleromaLongStatusUsesV1Limit(t *testing.T) {
	// An excerpt cap above the limit lets the body fill the status.
	f := Format{ExcerptMax: 10000}
	e := newEnv(t, mastodonfake.Options{Flavour: mastodonfake.FlavourPleroma, NoV2Instance: true}, AccountOptions{Format: f})
	it := loadItems(t)["huge-body"]
	if _, err := e.acct.Publish(context.Background(), job(it)); err != nil {
		t.Fatal(err)
	}
	sts := e.srv.Statuses()
	if len(sts) != 1 {
		t.Fatalf("%d statuses", len(sts))
	}
	st := sts[0]
	n := mastodonfake.PleromaLength(st.SpoilerText, st.Text)
	if n <= 4000 || n > 5000 {
		t.Errorf("status of %d characters: the v1 max_toot_chars 5000 was not used", n)
	}
	lim := DefaultLimits()
	lim.MaxCharacters, lim.Count = 5000, CountGraphemes
	if want, _ := Render(it, f, lim); st.Text != want.Text {
		t.Errorf("status differs from the rendering for 5000 characters counted as Pleroma does")
	}
	codes, _ := statusRequests(e.srv)
	if strings.Join(codes, " ") != "200" {
		t.Errorf("status requests %v", codes)
	}
	var seq []string
	for _, r := range e.srv.Requests() {
		seq = append(seq, fmt.Sprintf("%s:%d", r.Endpoint, r.Status))
	}
	if got, want := strings.Join(seq[:4], " "), "GET /api/v2/instance:404 GET /api/v1/instance:200 GET /.well-known/nodeinfo:200 GET /nodeinfo/{version}:200"; got != want {
		t.Errorf("instance requests %s, want %s", got, want)
	}
}

func TestPleromaPostsStatus(t *testing.T) {
	tests := []struct {
		name       string
		opts       mastodonfake.Options
		visibility string
		software   string
	}{
		{"older Pleroma", mastodonfake.Options{NoV2Instance: true}, "", softwarePleroma},
		{"newer Pleroma", mastodonfake.Options{}, "unlisted", softwarePleroma},
		{"Akkoma", mastodonfake.Options{Flavour: mastodonfake.FlavourAkkoma, NoV2Instance: true}, "private", softwareAkkoma},
		{"Akkoma without NodeInfo", mastodonfake.Options{Flavour: mastodonfake.FlavourAkkoma, NoNodeInfo: true}, "", softwareAkkoma},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Flavour == "" {
				tt.opts.Flavour = mastodonfake.FlavourPleroma
			}
			e := newEnv(t, tt.opts, AccountOptions{Format: Format{Visibility: tt.visibility}})
			it := loadItems(t)["en-news"]
			j := job(it)
			r, err := e.acct.Publish(context.Background(), j)
			if err != nil {
				t.Fatal(err)
			}
			sts := e.srv.Statuses()
			if len(sts) != 1 {
				t.Fatalf("%d statuses", len(sts))
			}
			st := sts[0]
			wantVis := tt.visibility
			if wantVis == "" {
				wantVis = "public"
			}
			if r.MessageIDs[0] != st.ID || st.Visibility != wantVis || st.Language != "en" {
				t.Errorf("status %s %q %q, receipt %+v", st.ID, st.Visibility, st.Language, r)
			}
			// The newer versions list only application/octet-stream: the
			// image must go out all the same.
			if len(st.Media) != 1 || st.Media[0].Description != it.Image.Alt || st.Media[0].ContentType != "image/png" {
				t.Errorf("media %+v", st.Media)
			}
			// Not mistaken for GoToSocial: the key is sent.
			if st.IdempotencyKey != IdempotencyKey(j) {
				t.Errorf("idempotency key %q", st.IdempotencyKey)
			}
			e.acct.mu.Lock()
			srv := e.acct.server
			e.acct.mu.Unlock()
			if srv.software != tt.software || srv.ignoresKeys || srv.limits.Count != CountGraphemes || srv.limits.MaxCharacters != 5000 {
				t.Errorf("server read as %+v", srv)
			}
			// Uploads are processed at once (202 with the URL): no polling.
			for _, r := range e.srv.Requests() {
				if r.Endpoint == "GET /api/v1/media/{id}" {
					t.Errorf("media polled")
				}
			}
		})
	}
}

func TestPleromaTooLongReRenders(t *testing.T) {
	t.Run("refused with the server's text", func(t *testing.T) {
		e := newEnv(t, mastodonfake.Options{Flavour: mastodonfake.FlavourPleroma}, AccountOptions{})
		e.srv.Fail("POST /api/v1/statuses", mastodonfake.Fault{Status: http.StatusUnprocessableEntity, Error: "The status is over the character limit"})
		j := job(loadItems(t)["huge-body"])
		if _, err := e.acct.Publish(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		sts := e.srv.Statuses()
		if len(sts) != 1 {
			t.Fatalf("%d statuses", len(sts))
		}
		if n := mastodonfake.PleromaLength(sts[0].SpoilerText, sts[0].Text); n > 4500 {
			t.Errorf("re-rendered status has %d characters, want at most 4500", n)
		}
		// The server keeps the refusal for the key and replays it to the
		// shorter status: the job goes on with its next key.
		codes, keys := statusRequests(e.srv)
		if got := strings.Join(codes, " "); got != "422 422(replayed) 200" {
			t.Errorf("status requests %s", got)
		}
		base := IdempotencyKey(j)
		if keys[0] != base || keys[1] != base || keys[2] != generationKey(base, 1) || sts[0].IdempotencyKey != keys[2] {
			t.Errorf("keys %v", keys)
		}
		if !strings.Contains(e.logs.String(), "renewed after a replayed refusal") {
			t.Error("renewal not logged")
		}
	})
	t.Run("limit lowered on the server", func(t *testing.T) {
		e := newEnv(t, mastodonfake.Options{Flavour: mastodonfake.FlavourPleroma, NoV2Instance: true}, AccountOptions{})
		items := loadItems(t)
		if _, err := e.acct.Publish(context.Background(), job(items["en-news"])); err != nil {
			t.Fatal(err)
		}
		e.srv.SetMaxCharacters(300)
		if _, err := e.acct.Publish(context.Background(), job(items["huge-body"])); err != nil {
			t.Fatal(err)
		}
		sts := e.srv.Statuses()
		if len(sts) != 2 {
			t.Fatalf("%d statuses", len(sts))
		}
		if n := mastodonfake.PleromaLength(sts[1].SpoilerText, sts[1].Text); n > 300 || n < 200 {
			t.Errorf("status of %d characters for a limit of 300", n)
		}
		codes, _ := statusRequests(e.srv)
		if got := strings.Join(codes, " "); got != "200 422 422(replayed) 200" {
			t.Errorf("status requests %s", got)
		}
		// The limits were read again once, after the refusal.
		v1 := 0
		for _, r := range e.srv.Requests() {
			if r.Endpoint == "GET /api/v1/instance" {
				v1++
			}
		}
		if v1 != 2 {
			t.Errorf("v1 instance read %d times, want 2", v1)
		}
	})
}

func TestPleromaRetryAfterTimeoutMakesOneStatus(t *testing.T) {
	for name, fault := range map[string]mastodonfake.Fault{
		"dropped": {DropAfterCreate: true},
		"timeout": {HangAfterCreate: true},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, mastodonfake.Options{Flavour: mastodonfake.FlavourPleroma}, AccountOptions{CallTimeout: 300 * time.Millisecond})
			e.srv.Fail("POST /api/v1/statuses", fault)
			j := job(loadItems(t)["en-news"])
			r, err := e.acct.Publish(context.Background(), j)
			if err != nil {
				// Go's transport may have resent the keyed request by
				// itself after the dropped connection; if not, the
				// engine retries.
				if kindOf(err) != syndicate.ErrTemporary {
					t.Fatalf("first attempt: %v, want temporary", err)
				}
				if len(e.srv.Statuses()) != 1 {
					t.Fatal("the fake did not create the status")
				}
				j.Attempts = 1
				e.clock.Advance(time.Minute)
				if r, err = e.acct.Publish(context.Background(), j); err != nil {
					t.Fatalf("retry: %v", err)
				}
			}
			sts := e.srv.Statuses()
			if len(sts) != 1 || r.MessageIDs[0] != sts[0].ID {
				t.Fatalf("%d statuses, receipt %v", len(sts), r)
			}
			codes, keys := statusRequests(e.srv)
			if len(codes) != 2 || codes[1] != "200(replayed)" || keys[0] != IdempotencyKey(j) || keys[1] != keys[0] {
				t.Errorf("status requests %v with keys %v", codes, keys)
			}
		})
	}
}

func TestPleromaReplayedRefusalAfterRestart(t *testing.T) {
	tests := []struct {
		name  string
		fault mastodonfake.Fault
		kind  syndicate.ErrorKind
	}{
		{"500", mastodonfake.Fault{Status: 500}, syndicate.ErrTemporary},
		{"503", mastodonfake.Fault{Status: 503}, syndicate.ErrTemporary},
		// Without a new key the retry would meet this 429 for six hours.
		{"429", mastodonfake.Fault{Status: 429, Error: "Throttled"}, syndicate.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, mastodonfake.Options{Flavour: mastodonfake.FlavourPleroma}, AccountOptions{})
			e.srv.Fail("POST /api/v1/statuses", tt.fault)
			j := job(loadItems(t)["sq-article"])
			j.EnqueuedAt = e.clock.Now()
			_, err := e.acct.Publish(context.Background(), j)
			if kindOf(err) != tt.kind {
				t.Fatalf("first attempt: %v, want %v", err, tt.kind)
			}
			_, wait := syndicate.Classify(err)
			e.clock.Advance(wait + time.Minute)
			j.Attempts = 1
			if _, err := e.restart(t).Publish(context.Background(), j); err != nil {
				t.Fatalf("retry after restart: %v", err)
			}
			if n := len(e.srv.Statuses()); n != 1 {
				t.Errorf("%d statuses", n)
			}
			codes, keys := statusRequests(e.srv)
			if got := strings.Join(codes, " "); got != tt.name+" "+tt.name+"(replayed) 200" {
				t.Errorf("status requests %s", got)
			}
			if keys[2] != generationKey(IdempotencyKey(j), 1) {
				t.Errorf("keys %v", keys)
			}
		})
	}
}
