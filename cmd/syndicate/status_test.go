package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
)

func TestStatusJSON(t *testing.T) {
	site, tg, md := platforms(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	text := minimalConfig(site.FeedURL("en"), md.URL(), tg.URL(), filepath.Join(dir, "state.db"))
	writeFile(t, cfg, strings.Replace(text, "telegram:\n", "  - id: off\n    url: https://example.org/off/\n    disabled: true\ntelegram:\n", 1))
	r := runCmd(t, context.Background(), platformVars, "status", "--config", cfg, "--json")
	var before statusReport
	if err := json.Unmarshal([]byte(r.stdout), &before); r.code != 0 || err != nil {
		t.Fatalf("status --json before any run = %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(before.Feeds) != 2 || before.Feeds[0].Polled || before.Feeds[0].LastSuccess != nil || len(before.Deliveries) != 0 {
		t.Errorf("before any run: %+v", before)
	}

	md.Fail("POST /api/v1/statuses", mastodonfake.Fault{Status: 422, Error: "Validation failed: Language is not supported"})
	if r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once"); r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	r = runCmd(t, context.Background(), platformVars, "status", "--config", cfg, "--json")
	var rep statusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
		t.Fatalf("status --json = %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	en, off := rep.Feeds[0], rep.Feeds[1]
	if en.ID != "en" || !en.Polled || en.LastSuccess == nil || en.NextPoll == nil || en.Failures != 0 || en.Disabled {
		t.Errorf("feed en %+v", en)
	}
	if off.ID != "off" || !off.Disabled || off.Polled {
		t.Errorf("feed off %+v", off)
	}
	if len(rep.Destinations) != 2 {
		t.Fatalf("destinations %+v", rep.Destinations)
	}
	tgd, mdd := rep.Destinations[0], rep.Destinations[1]
	if tgd.ID != "tg-en" || tgd.Sent != 2 || tgd.Parked != 0 || mdd.ID != "md-en" || mdd.Sent != 1 || mdd.Parked != 1 || mdd.PausedReason != "" {
		t.Errorf("destinations %+v", rep.Destinations)
	}
	if len(rep.Deliveries) != 1 {
		t.Fatalf("deliveries %+v", rep.Deliveries)
	}
	d := rep.Deliveries[0]
	if d.Destination != "md-en" || d.Status != "parked" || d.Article == "" || d.Title == "" || d.Link == "" ||
		d.Reason == "" || !json.Valid([]byte(r.stdout)) {
		t.Errorf("delivery %+v", d)
	}
	assertNoSecret(t, r, platformVars)
}
