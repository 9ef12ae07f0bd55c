// Package storetest is the behaviour suite that every syndicate.Store
// implementation runs, so that the engine can rely on one contract whatever
// keeps its state.
//
// The suite uses explicit times (never the wall clock) and no sleeps. Each
// subtest opens its own empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// Factory opens the stores under test.
type Factory struct {
	// Open returns a new, empty store. It registers the store's Close with
	// t.Cleanup; the suite never closes a store it got from Open.
	Open func(t *testing.T) syndicate.Store
	// Reopen closes old and opens the same state again, as a restarted
	// process would. Nil skips the durability test.
	Reopen func(t *testing.T, old syndicate.Store) syndicate.Store
	// LeasesEndWithProcess says the store's feed poll leases and job
	// claims belong to the process that opened it: a store only one
	// process can open (an embedded file) ends them on reopen, as a
	// restart ends every poll and every send.
	LeasesEndWithProcess bool
}

// Run runs the whole contract suite against the stores f opens.
func Run(t *testing.T, f Factory) {
	if f.Open == nil {
		t.Fatal("storetest: Factory.Open is nil")
	}
	tests := []struct {
		name string
		run  func(t *testing.T, f Factory)
	}{
		{"FeedStateRoundTrip", testFeedState},
		{"SeenFingerprints", testSeen},
		{"EnqueueOrderAndSeq", testEnqueueOrder},
		{"EnqueueSkipsExistingPost", testEnqueueIdempotent},
		{"EnqueueSeveralDestinations", testEnqueueDestinations},
		{"EnqueueRejectsBadJobs", testEnqueueInvalid},
		{"EditRequeuesSentRecord", testEditSent},
		{"EditSkippedUnlessSent", testEditSkipped},
		{"ItemRoundTrip", testItemRoundTrip},
		{"ClaimDueness", testClaimDue},
		{"ClaimOldestFirstWithLimit", testClaimOrder},
		{"ClaimLeases", testClaimLease},
		{"ClaimExpiredLease", testClaimExpired},
		{"ExtendKeepsLease", testExtend},
		{"ExtendAfterExpiry", testExtendAfterExpiry},
		{"ExtendRefused", testExtendRefused},
		{"ExtendRejectsBadArgs", testExtendInvalid},
		{"ReleaseClaims", testReleaseClaims},
		{"FinishRetry", testFinishRetry},
		{"FinishSent", testFinishSent},
		{"FinishParked", testFinishParked},
		{"FinishNotClaimed", testFinishNotClaimed},
		{"FinishRejectsBadStatus", testFinishInvalid},
		{"Get", testGet},
		{"List", testList},
		{"DestinationStateRoundTrip", testDestinationState},
		{"PruneSeen", testPruneSeen},
		{"PruneRecords", testPruneRecords},
		{"ConcurrentClaimers", testConcurrentClaimers},
		{"OneInFlightPerDestination", testOneInFlight},
		{"RequeueParkedAndUnknown", testRequeue},
		{"RequeueKeepsReceiptOfEdit", testRequeueEdit},
		{"RequeueRefusesOtherStates", testRequeueRefused},
		{"FeedLeaseTakeRefuseRenew", testFeedLease},
		{"FeedLeaseRelease", testFeedLeaseRelease},
		{"FeedLeaseRejectsBadArgs", testFeedLeaseInvalid},
		{"ConcurrentFeedLease", testConcurrentFeedLease},
		{"PruneKeepsFeedLeases", testPruneLeases},
		{"BeginPollLease", testBeginPoll},
		{"EndPoll", testEndPoll},
		{"EndPollSeenReplaced", testEndPollSeenReplaced},
		{"PollRejectsBadArgs", testPollRejectsBadArgs},
		{"ConcurrentBeginPoll", testConcurrentBeginPoll},
		{"ConcurrentPolls", testConcurrentPolls},
		{"PushStateRoundTrip", testPushState},
		{"PruneKeepsFeedAndPushState", testPruneKeepsState},
		{"Ping", testPing},
		{"Durability", testDurability},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, f) })
	}
}

// t0 is the suite's fixed clock; tests move it forward explicitly.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// equateTimes compares instants, so a store may return another location.
var equateTimes = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func diff(want, got any) string { return cmp.Diff(want, got, equateTimes) }

func item(feed, key string) syndicate.Item {
	return syndicate.Item{
		FeedID: feed,
		Key:    "guid:" + key,
		Link:   "https://example.org/" + key,
		Title:  "Title " + key,
	}
}

func post(dest, key string) syndicate.Delivery {
	it := item("feed", key)
	return syndicate.Delivery{Destination: dest, ArticleKey: it.ArticleKey(), Kind: syndicate.JobPost, Item: it}
}

func edit(dest, key, title string) syndicate.Delivery {
	d := post(dest, key)
	d.Kind = syndicate.JobEdit
	d.Item.Title = title
	return d
}

func enqueue(t *testing.T, s syndicate.Store, now time.Time, jobs ...syndicate.Delivery) []syndicate.Delivery {
	t.Helper()
	added, err := s.Enqueue(context.Background(), jobs, now)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return added
}

func claim(t *testing.T, s syndicate.Store, dest, owner string, now time.Time, lease time.Duration, n int) []syndicate.Delivery {
	t.Helper()
	got, err := s.Claim(context.Background(), dest, owner, now, lease, n)
	if err != nil {
		t.Fatalf("Claim(%s, %s): %v", dest, owner, err)
	}
	return got
}

func finish(t *testing.T, s syndicate.Store, d syndicate.Delivery) {
	t.Helper()
	if err := s.Finish(context.Background(), d); err != nil {
		t.Fatalf("Finish(%s %s): %v", d.ArticleKey, d.Status, err)
	}
}

func get(t *testing.T, s syndicate.Store, dest, key string) syndicate.Delivery {
	t.Helper()
	d, ok, err := s.Get(context.Background(), dest, key)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", dest, key, err)
	}
	if !ok {
		t.Fatalf("Get(%s, %s): no record", dest, key)
	}
	return d
}

func keysOf(ds []syndicate.Delivery) []string {
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = d.ArticleKey
	}
	return keys
}

func seqsOf(ds []syndicate.Delivery) []int64 {
	seqs := make([]int64, len(ds))
	for i, d := range ds {
		seqs[i] = d.Seq
	}
	return seqs
}

func akey(key string) string { return item("feed", key).ArticleKey() }

// sendOK finishes a claimed job as sent with a receipt.
func sendOK(t *testing.T, s syndicate.Store, d syndicate.Delivery, at time.Time, ids ...string) syndicate.Delivery {
	t.Helper()
	d.Status = syndicate.StatusSent
	d.SentAt = at
	d.FinishedAt = at
	d.MessageIDs = ids
	d.Fingerprint = d.Item.Fingerprint()
	finish(t, s, d)
	return d
}

func testFeedState(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	got, err := s.LoadFeed(ctx, "unknown")
	if err != nil {
		t.Fatalf("LoadFeed(unknown): %v", err)
	}
	if d := diff(syndicate.FeedState{}, got); d != "" {
		t.Errorf("unknown feed is not the zero state (-want +got):\n%s", d)
	}
	st := syndicate.FeedState{
		ETag:         `W/"abc"`,
		LastModified: "Sun, 01 Mar 2026 11:00:00 GMT",
		LastAttempt:  t0,
		LastSuccess:  t0.Add(-time.Minute),
		Failures:     3,
		LastError:    "fetch: 503",
		NextPoll:     t0.Add(10 * time.Minute),
		Primed:       true,
	}
	if err := s.SaveFeed(ctx, "news", st); err != nil {
		t.Fatalf("SaveFeed: %v", err)
	}
	got, err = s.LoadFeed(ctx, "news")
	if err != nil {
		t.Fatalf("LoadFeed: %v", err)
	}
	if d := diff(st, got); d != "" {
		t.Errorf("feed state round trip (-want +got):\n%s", d)
	}
	// SaveFeed replaces the whole state.
	st2 := syndicate.FeedState{LastAttempt: t0.Add(time.Hour), Primed: true}
	if err := s.SaveFeed(ctx, "news", st2); err != nil {
		t.Fatalf("SaveFeed: %v", err)
	}
	got, _ = s.LoadFeed(ctx, "news")
	if d := diff(st2, got); d != "" {
		t.Errorf("SaveFeed did not replace the state (-want +got):\n%s", d)
	}
	// Feeds are independent, including ids with separators and braces.
	odd := "a}b{c:d/e f"
	if err := s.SaveFeed(ctx, odd, syndicate.FeedState{ETag: "odd"}); err != nil {
		t.Fatalf("SaveFeed(%q): %v", odd, err)
	}
	if got, _ := s.LoadFeed(ctx, odd); got.ETag != "odd" {
		t.Errorf("LoadFeed(%q).ETag = %q, want odd", odd, got.ETag)
	}
	if got, _ := s.LoadFeed(ctx, "news"); got.ETag != "" {
		t.Errorf("saving %q changed feed news: ETag = %q", odd, got.ETag)
	}
}

func testSeen(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	got, err := s.SeenFingerprints(ctx, "news", []string{"a", "b"})
	if err != nil {
		t.Fatalf("SeenFingerprints: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("unknown feed has seen keys: %v", got)
	}
	if err := s.MarkSeen(ctx, "news", map[string]string{"a": "fa", "b": "fb", "e": ""}, t0); err != nil {
		t.Fatalf("MarkSeen: %v", err)
	}
	got, err = s.SeenFingerprints(ctx, "news", []string{"a", "c", "e", "b"})
	if err != nil {
		t.Fatalf("SeenFingerprints: %v", err)
	}
	want := map[string]string{"a": "fa", "b": "fb", "e": ""}
	if d := diff(want, got); d != "" {
		t.Errorf("SeenFingerprints (-want +got):\n%s", d)
	}
	// A fingerprint is replaced by a later MarkSeen.
	if err := s.MarkSeen(ctx, "news", map[string]string{"a": "fa2"}, t0.Add(time.Hour)); err != nil {
		t.Fatalf("MarkSeen: %v", err)
	}
	got, _ = s.SeenFingerprints(ctx, "news", []string{"a", "b"})
	if d := diff(map[string]string{"a": "fa2", "b": "fb"}, got); d != "" {
		t.Errorf("after update (-want +got):\n%s", d)
	}
	// Keys are scoped to their feed.
	got, _ = s.SeenFingerprints(ctx, "other", []string{"a", "b"})
	if len(got) != 0 {
		t.Errorf("feed other sees keys of feed news: %v", got)
	}
	got, err = s.SeenFingerprints(ctx, "news", nil)
	if err != nil || len(got) != 0 {
		t.Errorf("SeenFingerprints(no keys) = %v, %v; want empty, nil", got, err)
	}
	if err := s.MarkSeen(ctx, "news", nil, t0); err != nil {
		t.Errorf("MarkSeen(nothing): %v", err)
	}
}

func testEnqueueOrder(t *testing.T, f Factory) {
	s := f.Open(t)
	added := enqueue(t, s, t0, post("tg", "1"), post("tg", "2"), post("tg", "3"))
	if d := diff([]string{akey("1"), akey("2"), akey("3")}, keysOf(added)); d != "" {
		t.Fatalf("added (-want +got):\n%s", d)
	}
	for i, d := range added {
		if d.Status != syndicate.StatusQueued || !d.EnqueuedAt.Equal(t0) || d.Destination != "tg" {
			t.Errorf("added[%d] = status %q enqueued %v destination %q; want queued at %v on tg", i, d.Status, d.EnqueuedAt, d.Destination, t0)
		}
		if i > 0 && d.Seq <= added[i-1].Seq {
			t.Errorf("Seq not increasing in enqueue order: %v", seqsOf(added))
		}
		if g := get(t, s, "tg", d.ArticleKey); diff(d, g) != "" {
			t.Errorf("Get differs from the added job (-added +get):\n%s", diff(d, g))
		}
	}
	more := enqueue(t, s, t0.Add(time.Minute), post("tg", "4"))
	if len(more) != 1 || more[0].Seq <= added[2].Seq {
		t.Errorf("a later Enqueue got Seq %v, want more than %d", seqsOf(more), added[2].Seq)
	}
}

func testEnqueueIdempotent(t *testing.T, f Factory) {
	s := f.Open(t)
	first := enqueue(t, s, t0, post("tg", "1"))
	again := post("tg", "1")
	again.Item.Title = "changed"
	if added := enqueue(t, s, t0.Add(time.Minute), again, post("tg", "2")); len(added) != 1 || added[0].ArticleKey != akey("2") {
		t.Errorf("second Enqueue added %v, want only %s", keysOf(added), akey("2"))
	}
	if g := get(t, s, "tg", akey("1")); diff(first[0], g) != "" {
		t.Errorf("existing record changed by a repeated post (-want +got):\n%s", diff(first[0], g))
	}
	// Within one call the first job for a key wins.
	a, b := post("tg", "3"), post("tg", "3")
	b.Item.Title = "second"
	added := enqueue(t, s, t0, a, b)
	if len(added) != 1 || added[0].Item.Title != a.Item.Title {
		t.Errorf("duplicate within one call: added %d jobs (%v), want one with the first item", len(added), keysOf(added))
	}
	// A record that was sent also blocks a repeated post.
	c := claim(t, s, "tg", "w", t0, time.Minute, 10)
	for _, d := range c {
		sendOK(t, s, d, t0, "m-"+d.ArticleKey)
	}
	if added := enqueue(t, s, t0.Add(time.Hour), post("tg", "1"), post("tg", "2"), post("tg", "3")); len(added) != 0 {
		t.Errorf("posts of sent articles were queued again: %v", keysOf(added))
	}
	// The same article on another destination is another record.
	if added := enqueue(t, s, t0, post("masto", "1")); len(added) != 1 {
		t.Errorf("post to another destination skipped")
	}
}

func testEnqueueDestinations(t *testing.T, f Factory) {
	s := f.Open(t)
	added := enqueue(t, s, t0, post("a", "1"), post("b", "1"), post("a", "2"), post("b", "2"))
	if len(added) != 4 {
		t.Fatalf("added %d jobs, want 4", len(added))
	}
	if added[0].Destination != "a" || added[1].Destination != "b" || added[2].Destination != "a" || added[3].Destination != "b" {
		t.Errorf("added jobs not in the order given: %v %v %v %v", added[0].Destination, added[1].Destination, added[2].Destination, added[3].Destination)
	}
	if added[2].Seq <= added[0].Seq || added[3].Seq <= added[1].Seq {
		t.Errorf("Seq per destination not increasing: %v", seqsOf(added))
	}
	if got := claim(t, s, "a", "w", t0, time.Minute, 10); len(got) != 2 || got[0].Destination != "a" || got[1].Destination != "a" {
		t.Errorf("Claim(a) got %v", keysOf(got))
	}
}

func testEnqueueInvalid(t *testing.T, f Factory) {
	s := f.Open(t)
	noDest := post("", "1")
	noKey := post("tg", "1")
	noKey.ArticleKey = ""
	badKind := post("tg", "1")
	badKind.Kind = "delete"
	for name, d := range map[string]syndicate.Delivery{"no destination": noDest, "no article key": noKey, "unknown kind": badKind} {
		if _, err := s.Enqueue(context.Background(), []syndicate.Delivery{d}, t0); err == nil {
			t.Errorf("Enqueue with %s: no error", name)
		}
	}
	if added, err := s.Enqueue(context.Background(), nil, t0); err != nil || len(added) != 0 {
		t.Errorf("Enqueue(nothing) = %v, %v", added, err)
	}
}

func testEditSent(t *testing.T, f Factory) {
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"), post("tg", "2"))
	c := claim(t, s, "tg", "w", t0, time.Minute, 1)
	sent := sendOK(t, s, c[0], t0.Add(time.Second), "100", "101")
	before := get(t, s, "tg", akey("1"))

	later := t0.Add(time.Hour)
	e := edit("tg", "1", "New title")
	added := enqueue(t, s, later, e)
	if len(added) != 1 {
		t.Fatalf("edit of a sent record not added (added %d)", len(added))
	}
	got := added[0]
	if got.Kind != syndicate.JobEdit || got.Status != syndicate.StatusQueued || got.Item.Title != "New title" {
		t.Errorf("edit job = kind %q status %q title %q; want edit, queued, New title", got.Kind, got.Status, got.Item.Title)
	}
	if d := diff(sent.MessageIDs, got.MessageIDs); d != "" {
		t.Errorf("edit lost the message ids (-want +got):\n%s", d)
	}
	if got.Fingerprint != before.Fingerprint || !got.SentAt.Equal(before.SentAt) {
		t.Errorf("edit lost the receipt: fingerprint %q sent %v; want %q %v", got.Fingerprint, got.SentAt, before.Fingerprint, before.SentAt)
	}
	if got.Seq <= before.Seq || !got.EnqueuedAt.Equal(later) || !got.FinishedAt.IsZero() {
		t.Errorf("edit job seq %d enqueued %v finished %v; want seq > %d, enqueued %v, not finished", got.Seq, got.EnqueuedAt, got.FinishedAt, before.Seq, later)
	}
	if g := get(t, s, "tg", akey("1")); diff(got, g) != "" {
		t.Errorf("Get after edit (-added +get):\n%s", diff(got, g))
	}
	// The edit is queued behind the post that was already waiting.
	c = claim(t, s, "tg", "w", later, time.Minute, 10)
	if d := diff([]string{akey("2"), akey("1")}, keysOf(c)); d != "" {
		t.Errorf("claim order after edit (-want +got):\n%s", d)
	}
	// The edit is done: the new receipt replaces the old.
	for _, d := range c {
		if d.ArticleKey == akey("1") {
			if d.Kind != syndicate.JobEdit || len(d.MessageIDs) != 2 {
				t.Errorf("claimed edit = kind %q ids %v; want edit with the receipt", d.Kind, d.MessageIDs)
			}
			sendOK(t, s, d, later.Add(time.Second), "100", "101")
		}
	}
	if g := get(t, s, "tg", akey("1")); g.Status != syndicate.StatusSent || g.Fingerprint != e.Item.Fingerprint() {
		t.Errorf("after the edit: status %q fingerprint %q; want sent %q", g.Status, g.Fingerprint, e.Item.Fingerprint())
	}
	// A sent edit can be edited again.
	if added := enqueue(t, s, later.Add(time.Hour), edit("tg", "1", "Third title")); len(added) != 1 {
		t.Errorf("second edit of a sent record not added")
	}
}

func testEditSkipped(t *testing.T, f Factory) {
	s := f.Open(t)
	if added := enqueue(t, s, t0, edit("tg", "none", "x")); len(added) != 0 {
		t.Errorf("edit of a missing record added: %v", keysOf(added))
	}
	if _, ok, _ := s.Get(context.Background(), "tg", akey("none")); ok {
		t.Errorf("edit of a missing record created one")
	}
	// Queued: the post has not happened yet, so it goes out with the new
	// content, still as a post and in its place.
	queued := enqueue(t, s, t0, post("tg", "q"))[0]
	if added := enqueue(t, s, t0, edit("tg", "q", "x")); len(added) != 0 {
		t.Errorf("edit of a queued record added a job")
	}
	want := queued
	want.Item.Title = "x"
	if g := get(t, s, "tg", akey("q")); diff(want, g) != "" {
		t.Errorf("edit of a queued record (-want +got):\n%s", diff(want, g))
	}
	// Within one call: post, then edit of it.
	if added := enqueue(t, s, t0, post("tg", "p"), edit("tg", "p", "x")); len(added) != 1 || added[0].Kind != syndicate.JobPost {
		t.Errorf("post+edit in one call added %d jobs, want the post only", len(added))
	}
	if g := get(t, s, "tg", akey("p")); g.Item.Title != "x" || g.Kind != syndicate.JobPost {
		t.Errorf("post+edit in one call stored %q as %s, want the edited title as a post", g.Item.Title, g.Kind)
	}
	// Sending, parked and unknown records are not edited.
	enqueue(t, s, t0, post("tg2", "s"), post("tg2", "pk"), post("tg2", "u"))
	c := claim(t, s, "tg2", "w", t0, time.Hour, 3)
	for _, d := range c {
		switch d.ArticleKey {
		case akey("pk"):
			d.Status, d.FinishedAt, d.LastError = syndicate.StatusParked, t0, "too long"
			finish(t, s, d)
		case akey("u"):
			d.Status, d.FinishedAt = syndicate.StatusUnknown, t0
			finish(t, s, d)
		}
	}
	for _, k := range []string{"s", "pk", "u"} {
		before := get(t, s, "tg2", akey(k))
		if added := enqueue(t, s, t0.Add(time.Minute), edit("tg2", k, "x")); len(added) != 0 {
			t.Errorf("edit of a %s record added", before.Status)
		}
		if g := get(t, s, "tg2", akey(k)); diff(before, g) != "" {
			t.Errorf("edit changed a %s record (-want +got):\n%s", before.Status, diff(before, g))
		}
	}
}

func testItemRoundTrip(t *testing.T, f Factory) {
	s := f.Open(t)
	it := syndicate.Item{
		FeedID:     "news-fr",
		Key:        "guid:https://example.org/?p=12345",
		GUID:       "https://example.org/?p=12345",
		Link:       "https://example.org/fr/2026/03/01/éte-à-paris/",
		Title:      "L'été \"à\" Paris <b> & 日本語 😀",
		Summary:    "First paragraph.\n\nSecond paragraph with \\ backslash and \u2028 separator.",
		Author:     "Zoë",
		Published:  time.Date(2026, 2, 28, 9, 30, 0, 123456789, time.UTC),
		Updated:    time.Date(2026, 3, 1, 8, 0, 0, 0, time.FixedZone("CET", 3600)),
		Categories: []string{"Culture", "Île-de-France"},
		Language:   "fr-FR",
		Image:      &syndicate.Image{URL: "https://example.org/a.jpg", Alt: "A bridge", Type: "image/jpeg", Width: 1200, Height: 800, Source: "media"},
		Images:     []syndicate.Image{{URL: "https://example.org/b.webp", Source: "content"}},
		Attachments: []syndicate.Attachment{
			{URL: "https://example.org/n.pdf", Type: "application/pdf", Title: "Newsletter", Length: 9007199254740993},
		},
		Videos: []syndicate.Video{{URL: "https://www.youtube.com/watch?v=abc", Provider: "youtube", ID: "abc"}},
	}
	job := syndicate.Delivery{
		Destination: "tg",
		ArticleKey:  it.ArticleKey(),
		Kind:        syndicate.JobPost,
		Item:        it,
		NotBefore:   t0.Add(-time.Second),
	}
	added := enqueue(t, s, t0, job)
	if len(added) != 1 {
		t.Fatalf("added %d jobs", len(added))
	}
	if d := diff(it, added[0].Item); d != "" {
		t.Errorf("Enqueue changed the item (-want +got):\n%s", d)
	}
	c := claim(t, s, "tg", "w1", t0, time.Minute, 1)
	if len(c) != 1 {
		t.Fatalf("claimed %d jobs", len(c))
	}
	if d := diff(it, c[0].Item); d != "" {
		t.Errorf("Claim changed the item (-want +got):\n%s", d)
	}
	c[0].Status = syndicate.StatusQueued
	c[0].Attempts = 1
	c[0].LastError = "timeout \"quoted\""
	c[0].NotBefore = t0.Add(time.Minute)
	finish(t, s, c[0])
	g := get(t, s, "tg", it.ArticleKey())
	if d := diff(it, g.Item); d != "" {
		t.Errorf("Finish changed the item (-want +got):\n%s", d)
	}
	if g.LastError != c[0].LastError || g.Attempts != 1 {
		t.Errorf("after Finish: last error %q attempts %d", g.LastError, g.Attempts)
	}
}

func testClaimDue(t *testing.T, f Factory) {
	s := f.Open(t)
	later := post("tg", "later")
	later.NotBefore = t0.Add(time.Minute)
	now := post("tg", "now")
	now.NotBefore = t0
	enqueue(t, s, t0, later, now)
	// The order is strict: the head waits for its NotBefore, and so does
	// every job behind it.
	if c := claim(t, s, "tg", "w", t0, time.Hour, 10); len(c) != 0 {
		t.Errorf("claim at t0 = %v, want nothing while the head is held back", keysOf(c))
	}
	if c := claim(t, s, "tg", "w", t0.Add(time.Minute-time.Millisecond), time.Hour, 10); len(c) != 0 {
		t.Errorf("job claimed before the head's NotBefore: %v", keysOf(c))
	}
	c := claim(t, s, "tg", "w", t0.Add(time.Minute), time.Hour, 10)
	if d := diff([]string{akey("later"), akey("now")}, keysOf(c)); d != "" {
		t.Errorf("claim at NotBefore (-want +got):\n%s", d)
	}
	if c := claim(t, s, "other", "w", t0, time.Hour, 10); len(c) != 0 {
		t.Errorf("claim on an empty destination: %v", keysOf(c))
	}
}

func testClaimOrder(t *testing.T, f Factory) {
	s := f.Open(t)
	var jobs []syndicate.Delivery
	for _, k := range []string{"e", "d", "c", "b", "a"} {
		jobs = append(jobs, post("tg", k))
	}
	added := enqueue(t, s, t0, jobs...)
	var got []syndicate.Delivery
	for i, n := range []int{2, 2, 2} {
		c := claim(t, s, "tg", "w", t0, time.Hour, n)
		if len(c) > n {
			t.Errorf("Claim(n=%d) returned %d jobs", n, len(c))
		}
		for i := 1; i < len(c); i++ {
			if c[i].Seq <= c[i-1].Seq {
				t.Errorf("one claim not oldest first: %v", seqsOf(c))
			}
		}
		got = append(got, c...)
		// A destination has one batch in flight: finish it to get the
		// next, except the last, which stays leased.
		if i < 2 {
			for _, d := range c {
				sendOK(t, s, d, t0, "m")
			}
		}
	}
	if d := diff(keysOf(added), keysOf(got)); d != "" {
		t.Errorf("claims not in Seq order (-want +got):\n%s", d)
	}
	if c := claim(t, s, "tg", "w", t0, time.Hour, 2); len(c) != 0 {
		t.Errorf("claimed again while leased: %v", keysOf(c))
	}
}

func testClaimLease(t *testing.T, f Factory) {
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"))
	now := t0.Add(time.Second)
	c := claim(t, s, "tg", "worker-1", now, 5*time.Minute, 1)
	if len(c) != 1 {
		t.Fatalf("claimed %d jobs", len(c))
	}
	d := c[0]
	if d.Status != syndicate.StatusSending || d.Owner != "worker-1" || !d.LeaseUntil.Equal(now.Add(5*time.Minute)) {
		t.Errorf("claimed job: status %q owner %q lease %v; want sending, worker-1, %v", d.Status, d.Owner, d.LeaseUntil, now.Add(5*time.Minute))
	}
	if g := get(t, s, "tg", d.ArticleKey); diff(d, g) != "" {
		t.Errorf("Get differs from the claimed job (-claim +get):\n%s", diff(d, g))
	}
	if c := claim(t, s, "tg", "worker-2", now.Add(5*time.Minute-time.Millisecond), time.Minute, 1); len(c) != 0 {
		t.Errorf("job claimed by another worker before the lease expired")
	}
}

func testClaimExpired(t *testing.T, f Factory) {
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"))
	old := claim(t, s, "tg", "old", t0, time.Minute, 1)[0]
	now := t0.Add(time.Minute)
	c := claim(t, s, "tg", "new", now, time.Minute, 1)
	if len(c) != 1 || c[0].Owner != "new" || !c[0].LeaseUntil.Equal(now.Add(time.Minute)) || c[0].Seq != old.Seq {
		t.Fatalf("expired lease not taken over: %+v", c)
	}
	old.Status, old.SentAt, old.FinishedAt, old.MessageIDs = syndicate.StatusSent, now, now, []string{"1"}
	if err := s.Finish(context.Background(), old); !errors.Is(err, syndicate.ErrNotClaimed) {
		t.Errorf("Finish by the old owner = %v, want ErrNotClaimed", err)
	}
	if g := get(t, s, "tg", akey("1")); g.Status != syndicate.StatusSending || g.Owner != "new" {
		t.Errorf("old owner's Finish changed the record: status %q owner %q", g.Status, g.Owner)
	}
	sendOK(t, s, c[0], now, "2")
	if g := get(t, s, "tg", akey("1")); g.Status != syndicate.StatusSent || len(g.MessageIDs) != 1 || g.MessageIDs[0] != "2" {
		t.Errorf("new owner's Finish: status %q ids %v", g.Status, g.MessageIDs)
	}
}

func extend(t *testing.T, s syndicate.Store, dest, key, owner string, now time.Time, lease time.Duration) {
	t.Helper()
	if err := s.Extend(context.Background(), dest, key, owner, now, lease); err != nil {
		t.Fatalf("Extend(%s, %s, %s): %v", dest, key, owner, err)
	}
}

func testExtend(t *testing.T, f Factory) {
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "a"), post("tg", "b"))
	c := claim(t, s, "tg", "w", t0, time.Minute, 2)
	if len(c) != 2 {
		t.Fatalf("claimed %d jobs, want 2", len(c))
	}
	now := t0.Add(50 * time.Second)
	extend(t, s, "tg", akey("a"), "w", now, time.Minute)
	want := c[0]
	want.LeaseUntil = now.Add(time.Minute)
	if d := diff(want, get(t, s, "tg", akey("a"))); d != "" {
		t.Errorf("extended record (-want +got):\n%s", d)
	}
	if d := diff(c[1], get(t, s, "tg", akey("b"))); d != "" {
		t.Errorf("Extend of a changed b (-want +got):\n%s", d)
	}
	// At the original lease end the extended job is still held, and with
	// it the destination; so it is until just before its new lease end.
	if got := claim(t, s, "tg", "w2", t0.Add(time.Minute), 24*time.Hour, 10); len(got) != 0 {
		t.Errorf("claim at the original lease end while a is extended: %v", keysOf(got))
	}
	if got := claim(t, s, "tg", "w2", want.LeaseUntil.Add(-time.Millisecond), time.Hour, 10); len(got) != 0 {
		t.Errorf("extended job claimed before its new lease end: %v", keysOf(got))
	}
	// The owner finishes as usual.
	sent := sendOK(t, s, want, now.Add(30*time.Second), "m1")
	// Then only the job not extended is taken over, at its original lease end.
	got := claim(t, s, "tg", "w2", t0.Add(time.Minute), 24*time.Hour, 10)
	if d := diff([]string{akey("b")}, keysOf(got)); d != "" {
		t.Errorf("claim at the original lease end (-want +got):\n%s", d)
	}
	for _, d := range got {
		sendOK(t, s, d, t0.Add(time.Minute), "m2")
	}
	g := get(t, s, "tg", akey("a"))
	if g.Status != syndicate.StatusSent || g.Owner != "" || !g.LeaseUntil.IsZero() || diff(sent.MessageIDs, g.MessageIDs) != "" {
		t.Errorf("finished after Extend: status %q owner %q lease %v ids %v; want sent, no owner, no lease, %v", g.Status, g.Owner, g.LeaseUntil, g.MessageIDs, sent.MessageIDs)
	}
	if got := claim(t, s, "tg", "w2", want.LeaseUntil.Add(time.Hour), time.Hour, 10); len(got) != 0 {
		t.Errorf("finished job claimed again: %v", keysOf(got))
	}
}

func testExtendAfterExpiry(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"))
	old := claim(t, s, "tg", "w", t0, time.Minute, 1)[0]
	// Expired but not taken over: the owner still holds the job.
	now := t0.Add(2 * time.Minute)
	extend(t, s, "tg", akey("1"), "w", now, time.Minute)
	if g := get(t, s, "tg", akey("1")); g.Owner != "w" || !g.LeaseUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("late Extend: owner %q lease %v; want w until %v", g.Owner, g.LeaseUntil, now.Add(time.Minute))
	}
	if got := claim(t, s, "tg", "w2", now.Add(time.Minute-time.Millisecond), time.Minute, 1); len(got) != 0 {
		t.Fatalf("job claimed before the renewed lease ended: %v", keysOf(got))
	}
	// Once another worker took it over, the old owner has lost it.
	later := now.Add(time.Minute)
	got := claim(t, s, "tg", "w2", later, time.Minute, 1)
	if len(got) != 1 || got[0].Owner != "w2" {
		t.Fatalf("expired renewed lease not taken over: %v", keysOf(got))
	}
	err := s.Extend(ctx, "tg", akey("1"), "w", later, time.Hour)
	if !errors.Is(err, syndicate.ErrNotClaimed) {
		t.Errorf("Extend by the old owner after takeover = %v, want ErrNotClaimed", err)
	}
	if d := diff(got[0], get(t, s, "tg", akey("1"))); d != "" {
		t.Errorf("old owner's Extend changed the record (-want +got):\n%s", d)
	}
	if c := claim(t, s, "tg", "w3", got[0].LeaseUntil, time.Minute, 1); len(c) != 1 || c[0].Owner != "w3" {
		t.Errorf("old owner's Extend moved the new owner's lease: claim at its end got %v", keysOf(c))
	}
	old.Status, old.SentAt, old.FinishedAt = syndicate.StatusSent, later, later
	if err := s.Finish(ctx, old); !errors.Is(err, syndicate.ErrNotClaimed) {
		t.Errorf("Finish by the old owner after takeover = %v, want ErrNotClaimed", err)
	}
}

// testReleaseClaims restarts a worker under its name: its own claim is
// taken back at once, while another owner's live claim, a retry's wait
// and queued jobs are untouched.
func testReleaseClaims(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"), post("tg", "2"), post("md", "1"), post("retry", "1"), post("idle", "1"))
	mine := claim(t, s, "tg", "w1", t0, time.Hour, 1)[0]
	theirs := claim(t, s, "md", "w2", t0, time.Hour, 1)[0]
	waiting := claim(t, s, "retry", "w1", t0, time.Hour, 1)[0]
	waiting.Status, waiting.Attempts, waiting.NotBefore, waiting.LastError = syndicate.StatusQueued, 1, t0.Add(time.Hour), "http 500"
	finish(t, s, waiting)
	before := map[string][]syndicate.Delivery{}
	for _, d := range []string{"md", "retry", "idle"} {
		before[d] = mustList(t, s, d)
	}

	if _, err := s.ReleaseClaims(ctx, ""); err == nil {
		t.Error("ReleaseClaims with an empty owner succeeded")
	}
	if n, err := s.ReleaseClaims(ctx, "w3"); err != nil || n != 0 {
		t.Errorf("ReleaseClaims of an owner without claims = %d, %v; want 0", n, err)
	}
	n, err := s.ReleaseClaims(ctx, "w1")
	if err != nil || n != 1 {
		t.Fatalf("ReleaseClaims(w1) = %d, %v; want 1", n, err)
	}
	want := mine
	want.LeaseUntil = time.Time{}
	if d := diff(want, get(t, s, "tg", mine.ArticleKey)); d != "" {
		t.Errorf("released claim (-want +got):\n%s", d)
	}
	for d, recs := range before {
		if diff := diff(recs, mustList(t, s, d)); diff != "" {
			t.Errorf("%s changed by another owner's release (-want +got):\n%s", d, diff)
		}
	}

	// The restarted w1 claims its job again long before the lease would
	// have ended, and in order.
	now := t0.Add(time.Second)
	got := claim(t, s, "tg", "w1", now, time.Minute, 1)
	if len(got) != 1 || got[0].ArticleKey != mine.ArticleKey || got[0].Owner != "w1" || !got[0].LeaseUntil.Equal(now.Add(time.Minute)) || got[0].Seq != mine.Seq {
		t.Fatalf("claim after release = %+v; want job 1 of tg for w1 until %v", got, now.Add(time.Minute))
	}
	if got := claim(t, s, "md", "w1", now, time.Minute, 1); len(got) != 0 {
		t.Errorf("w2's live claim was taken by w1: %v", keysOf(got))
	}
	if got := claim(t, s, "retry", "w1", now, time.Minute, 1); len(got) != 0 {
		t.Errorf("a job waiting for its retry was claimed early: %v", keysOf(got))
	}
	if got := claim(t, s, "idle", "w1", now, time.Minute, 1); len(got) != 1 {
		t.Errorf("queued job not claimable after a release: %v", keysOf(got))
	}
	sendOK(t, s, got[0], now, "m1")
	finish(t, s, func() syndicate.Delivery {
		d := theirs
		d.Status, d.SentAt, d.FinishedAt, d.MessageIDs = syndicate.StatusSent, now, now, []string{"m2"}
		return d
	}())
}

func testExtendRefused(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "sending"), post("tg", "sent"), post("tg", "queued"))
	c := claim(t, s, "tg", "w", t0, time.Hour, 2)
	sendOK(t, s, c[1], t0, "m")
	before := mustList(t, s, "tg")
	now := t0.Add(30 * time.Minute)
	for _, tt := range []struct{ name, dest, key, owner string }{
		{"another owner", "tg", akey("sending"), "w2"},
		{"a queued record", "tg", akey("queued"), "w"},
		{"a sent record", "tg", akey("sent"), "w"},
		{"a missing record", "tg", akey("missing"), "w"},
		{"another destination", "masto", akey("sending"), "w"},
	} {
		err := s.Extend(ctx, tt.dest, tt.key, tt.owner, now, 2*time.Hour)
		if !errors.Is(err, syndicate.ErrNotClaimed) {
			t.Errorf("Extend of %s = %v, want ErrNotClaimed", tt.name, err)
		}
	}
	if d := diff(before, mustList(t, s, "tg")); d != "" {
		t.Errorf("refused Extend changed records (-want +got):\n%s", d)
	}
	for _, k := range []struct{ dest, key string }{{"tg", akey("missing")}, {"masto", akey("sending")}} {
		if _, ok, _ := s.Get(ctx, k.dest, k.key); ok {
			t.Errorf("refused Extend created a record %s %s", k.dest, k.key)
		}
	}
	// The indexes are untouched too: at the original lease end the sending
	// job is due again, and the queued one still is.
	got := claim(t, s, "tg", "w3", t0.Add(time.Hour), time.Minute, 10)
	if d := diff([]string{akey("sending"), akey("queued")}, keysOf(got)); d != "" {
		t.Errorf("claim after refused Extend (-want +got):\n%s", d)
	}
}

func testExtendInvalid(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"))
	d := claim(t, s, "tg", "w", t0, time.Minute, 1)[0]
	for _, tt := range []struct {
		owner string
		lease time.Duration
	}{
		{"", time.Minute},
		{"w", 0},
		{"w", -time.Second},
	} {
		err := s.Extend(ctx, "tg", d.ArticleKey, tt.owner, t0.Add(30*time.Second), tt.lease)
		if err == nil || errors.Is(err, syndicate.ErrNotClaimed) {
			t.Errorf("Extend(owner %q, lease %s) = %v, want a validation error", tt.owner, tt.lease, err)
		}
	}
	if g := get(t, s, "tg", d.ArticleKey); diff(d, g) != "" {
		t.Errorf("rejected Extend changed the record (-want +got):\n%s", diff(d, g))
	}
	if got := claim(t, s, "tg", "w2", t0.Add(time.Minute), time.Minute, 1); len(got) != 1 {
		t.Errorf("rejected Extend kept the job from being claimed at its lease end")
	}
}

func testFinishRetry(t *testing.T, f Factory) {
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"), post("tg", "2"))
	d := claim(t, s, "tg", "w", t0, time.Minute, 1)[0]
	d.Status = syndicate.StatusQueued
	d.NotBefore = t0.Add(5 * time.Minute)
	d.Attempts++
	d.LastError = "502 bad gateway"
	finish(t, s, d)
	g := get(t, s, "tg", d.ArticleKey)
	if g.Status != syndicate.StatusQueued || g.Attempts != 1 || g.LastError != "502 bad gateway" || !g.NotBefore.Equal(d.NotBefore) {
		t.Errorf("after retry: %+v", g)
	}
	if g.Owner != "" || !g.LeaseUntil.IsZero() || !g.FinishedAt.IsZero() || g.Seq != d.Seq {
		t.Errorf("after retry: owner %q lease %v finished %v seq %d; want no owner, no lease, not finished, seq %d", g.Owner, g.LeaseUntil, g.FinishedAt, g.Seq, d.Seq)
	}
	// Held back: job 1 keeps its place at the head, so job 2 waits too.
	if c := claim(t, s, "tg", "w", t0.Add(time.Minute), time.Hour, 10); len(c) != 0 {
		t.Errorf("claim while the head is held back = %v, want nothing", keysOf(c))
	}
	c := claim(t, s, "tg", "w", t0.Add(5*time.Minute), time.Minute, 1)
	if len(c) != 1 || c[0].ArticleKey != akey("1") || c[0].Attempts != 1 {
		t.Errorf("claim after NotBefore: %v", keysOf(c))
	}
}

func testFinishSent(t *testing.T, f Factory) {
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"))
	d := claim(t, s, "tg", "w", t0, time.Minute, 1)[0]
	at := t0.Add(3 * time.Second)
	sent := sendOK(t, s, d, at, "42", "43")
	g := get(t, s, "tg", d.ArticleKey)
	if g.Status != syndicate.StatusSent || !g.SentAt.Equal(at) || !g.FinishedAt.Equal(at) || g.Fingerprint != sent.Fingerprint {
		t.Errorf("sent record: %+v", g)
	}
	if diff([]string{"42", "43"}, g.MessageIDs) != "" || g.Owner != "" || !g.LeaseUntil.IsZero() {
		t.Errorf("sent record: ids %v owner %q lease %v", g.MessageIDs, g.Owner, g.LeaseUntil)
	}
	if c := claim(t, s, "tg", "w", t0.Add(time.Hour), time.Minute, 10); len(c) != 0 {
		t.Errorf("sent job claimed again")
	}
	if err := s.Finish(context.Background(), sent); !errors.Is(err, syndicate.ErrNotClaimed) {
		t.Errorf("second Finish = %v, want ErrNotClaimed", err)
	}
}

func testFinishParked(t *testing.T, f Factory) {
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"))
	d := claim(t, s, "tg", "w", t0, time.Minute, 1)[0]
	d.Status, d.FinishedAt, d.LastError, d.Attempts = syndicate.StatusParked, t0.Add(time.Second), "message too long", 1
	finish(t, s, d)
	g := get(t, s, "tg", d.ArticleKey)
	if g.Status != syndicate.StatusParked || g.LastError != "message too long" || !g.FinishedAt.Equal(d.FinishedAt) || g.Attempts != 1 {
		t.Errorf("parked record: %+v", g)
	}
	if c := claim(t, s, "tg", "w", t0.Add(time.Hour), time.Minute, 10); len(c) != 0 {
		t.Errorf("parked job claimed")
	}
}

func testFinishNotClaimed(t *testing.T, f Factory) {
	s := f.Open(t)
	queued := enqueue(t, s, t0, post("tg", "1"))[0]
	queued.Status, queued.FinishedAt, queued.Owner = syndicate.StatusSent, t0, "w"
	if err := s.Finish(context.Background(), queued); !errors.Is(err, syndicate.ErrNotClaimed) {
		t.Errorf("Finish of a queued job = %v, want ErrNotClaimed", err)
	}
	missing := post("tg", "missing")
	missing.Status, missing.FinishedAt, missing.Owner = syndicate.StatusSent, t0, "w"
	if err := s.Finish(context.Background(), missing); !errors.Is(err, syndicate.ErrNotClaimed) {
		t.Errorf("Finish of a missing job = %v, want ErrNotClaimed", err)
	}
	d := claim(t, s, "tg", "w", t0, time.Minute, 1)[0]
	d.Owner = "someone-else"
	d.Status, d.FinishedAt = syndicate.StatusSent, t0
	if err := s.Finish(context.Background(), d); !errors.Is(err, syndicate.ErrNotClaimed) {
		t.Errorf("Finish by another owner = %v, want ErrNotClaimed", err)
	}
	if g := get(t, s, "tg", akey("1")); g.Status != syndicate.StatusSending || g.Owner != "w" {
		t.Errorf("refused Finish changed the record: %q %q", g.Status, g.Owner)
	}
}

func testFinishInvalid(t *testing.T, f Factory) {
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"))
	d := claim(t, s, "tg", "w", t0, time.Minute, 1)[0]
	for _, bad := range []struct {
		status   syndicate.Status
		finished time.Time
	}{
		{syndicate.StatusSending, time.Time{}},
		{"", time.Time{}},
		{"lost", t0},
		// Finish has no clock: a final state must say when it was reached.
		{syndicate.StatusSent, time.Time{}},
	} {
		d.Status, d.FinishedAt = bad.status, bad.finished
		err := s.Finish(context.Background(), d)
		if err == nil || errors.Is(err, syndicate.ErrNotClaimed) {
			t.Errorf("Finish(status %q, finished %v) = %v, want a validation error", bad.status, bad.finished, err)
		}
	}
	if g := get(t, s, "tg", akey("1")); g.Status != syndicate.StatusSending {
		t.Errorf("rejected Finish changed the record: %q", g.Status)
	}
}

func testGet(t *testing.T, f Factory) {
	s := f.Open(t)
	if _, ok, err := s.Get(context.Background(), "tg", "nothing"); ok || err != nil {
		t.Errorf("Get(missing) = %v, %v; want false, nil", ok, err)
	}
	enqueue(t, s, t0, post("tg", "1"))
	if _, ok, err := s.Get(context.Background(), "masto", akey("1")); ok || err != nil {
		t.Errorf("Get on another destination = %v, %v; want false, nil", ok, err)
	}
	if g := get(t, s, "tg", akey("1")); g.Item.Title != "Title 1" || g.Destination != "tg" || g.ArticleKey != akey("1") {
		t.Errorf("Get = %+v", g)
	}
}

func testList(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	var jobs []syndicate.Delivery
	for i := range 6 {
		jobs = append(jobs, post("tg", fmt.Sprint(i)))
	}
	added := enqueue(t, s, t0, jobs...)
	c := claim(t, s, "tg", "w", t0, time.Minute, 4) // 0 1 2 3 sending
	c[0].Status, c[0].FinishedAt = syndicate.StatusParked, t0
	finish(t, s, c[0])
	// The retry of 1 goes back to queued but keeps its place.
	c[1].Status, c[1].NotBefore = syndicate.StatusQueued, t0.Add(time.Hour)
	finish(t, s, c[1])
	sendOK(t, s, c[3], t0, "m3")
	sendOK(t, s, c[2], t0.Add(-time.Hour), "m2")
	// Now: 0 parked, 1 queued, 2 sent, 3 sent, 4 queued, 5 queued.

	list := func(limit int, states ...syndicate.Status) []string {
		t.Helper()
		got, err := s.List(ctx, "tg", limit, states...)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Seq <= got[i-1].Seq {
				t.Errorf("List not in Seq order: %v", seqsOf(got))
			}
		}
		return keysOf(got)
	}
	k := keysOf(added)
	for _, tt := range []struct {
		name   string
		limit  int
		states []syndicate.Status
		want   []string
	}{
		{"all", 0, nil, k},
		{"all limited", 4, nil, k[:4]},
		{"queued", 0, []syndicate.Status{syndicate.StatusQueued}, []string{k[1], k[4], k[5]}},
		{"queued limited", 2, []syndicate.Status{syndicate.StatusQueued}, []string{k[1], k[4]}},
		{"sent", 0, []syndicate.Status{syndicate.StatusSent}, []string{k[2], k[3]}},
		{"parked or sent", 0, []syndicate.Status{syndicate.StatusParked, syndicate.StatusSent}, []string{k[0], k[2], k[3]}},
		{"sending", 0, []syndicate.Status{syndicate.StatusSending}, []string{}},
		{"unknown", 0, []syndicate.Status{syndicate.StatusUnknown}, []string{}},
	} {
		if d := diff(tt.want, list(tt.limit, tt.states...)); d != "" {
			t.Errorf("List %s (-want +got):\n%s", tt.name, d)
		}
	}
	claim(t, s, "tg", "w", t0.Add(time.Hour), time.Minute, 1) // 1, the head, out of its backoff: sending
	if d := diff([]string{k[1]}, list(0, syndicate.StatusSending)); d != "" {
		t.Errorf("List sending (-want +got):\n%s", d)
	}
	if got, err := s.List(ctx, "none", 0); err != nil || len(got) != 0 {
		t.Errorf("List(unknown destination) = %v, %v", got, err)
	}
}

func testDestinationState(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	got, err := s.LoadDestination(ctx, "tg")
	if err != nil {
		t.Fatalf("LoadDestination: %v", err)
	}
	if d := diff(syndicate.DestinationState{}, got); d != "" {
		t.Errorf("unknown destination is not the zero state (-want +got):\n%s", d)
	}
	st := syndicate.DestinationState{
		PausedReason: "bot was removed from the channel",
		PausedAt:     t0,
		BlockedUntil: t0.Add(30 * time.Second),
		Values:       map[string]string{"migrated_chat_id": "-1001234567890", "note": "ü"},
	}
	if err := s.SaveDestination(ctx, "tg", st); err != nil {
		t.Fatalf("SaveDestination: %v", err)
	}
	got, err = s.LoadDestination(ctx, "tg")
	if err != nil {
		t.Fatalf("LoadDestination: %v", err)
	}
	if d := diff(st, got); d != "" {
		t.Errorf("destination state round trip (-want +got):\n%s", d)
	}
	if err := s.SaveDestination(ctx, "tg", syndicate.DestinationState{}); err != nil {
		t.Fatalf("SaveDestination: %v", err)
	}
	got, _ = s.LoadDestination(ctx, "tg")
	if d := diff(syndicate.DestinationState{}, got); d != "" {
		t.Errorf("SaveDestination did not replace the state (-want +got):\n%s", d)
	}
	if got, _ := s.LoadDestination(ctx, "masto"); got.PausedReason != "" {
		t.Errorf("destinations not independent")
	}
}

func testPruneSeen(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	cut := t0.Add(24 * time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.MarkSeen(ctx, "news", map[string]string{"old": "1", "renewed": "2", "edge": "3"}, t0))
	must(s.MarkSeen(ctx, "other", map[string]string{"old": "1"}, t0))
	must(s.MarkSeen(ctx, "news", map[string]string{"renewed": "2b"}, cut.Add(time.Hour)))
	must(s.MarkSeen(ctx, "news", map[string]string{"edge": "3"}, cut))
	must(s.MarkSeen(ctx, "news", map[string]string{"new": "4"}, cut.Add(time.Hour)))
	must(s.Prune(ctx, cut))
	got, err := s.SeenFingerprints(ctx, "news", []string{"old", "renewed", "edge", "new"})
	must(err)
	if d := diff(map[string]string{"renewed": "2b", "edge": "3", "new": "4"}, got); d != "" {
		t.Errorf("seen after prune (-want +got):\n%s", d)
	}
	got, err = s.SeenFingerprints(ctx, "other", []string{"old"})
	must(err)
	if len(got) != 0 {
		t.Errorf("prune kept an old key of another feed: %v", got)
	}
	// Prune keeps feed state.
	must(s.SaveFeed(ctx, "news", syndicate.FeedState{Primed: true}))
	must(s.Prune(ctx, cut.Add(1000*time.Hour)))
	if st, _ := s.LoadFeed(ctx, "news"); !st.Primed {
		t.Errorf("prune forgot the feed state")
	}
}

func testPruneRecords(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	cut := t0.Add(24 * time.Hour)
	enqueue(t, s, t0, post("tg", "sent-old"), post("tg", "parked-old"), post("tg", "sent-new"), post("tg", "sending"), post("tg", "queued"))
	leaseEnd := t0.Add(100 * time.Hour)
	c := claim(t, s, "tg", "w", t0, leaseEnd.Sub(t0), 4)
	sendOK(t, s, c[0], cut.Add(-time.Nanosecond), "1")
	c[1].Status, c[1].FinishedAt = syndicate.StatusParked, t0
	finish(t, s, c[1])
	sendOK(t, s, c[2], cut, "3")
	// c[3] stays sending; "queued" stays queued; both were queued long before cut.
	if err := s.Prune(ctx, cut); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	for key, want := range map[string]bool{"sent-old": false, "parked-old": false, "sent-new": true, "sending": true, "queued": true} {
		_, ok, err := s.Get(ctx, "tg", akey(key))
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if ok != want {
			t.Errorf("after prune, record %s present = %v, want %v", key, ok, want)
		}
	}
	if got, _ := s.List(ctx, "tg", 0); len(got) != 3 {
		t.Errorf("List after prune has %d records, want 3", len(got))
	}
	// Nothing of a pruned record stays behind: the article can be queued
	// again, and the remaining jobs still claim in order once the sending
	// one's lease ended.
	if added := enqueue(t, s, cut, post("tg", "sent-old")); len(added) != 1 {
		t.Errorf("pruned article cannot be queued again")
	}
	if got := claim(t, s, "tg", "w2", leaseEnd.Add(-time.Millisecond), time.Minute, 10); len(got) != 0 {
		t.Errorf("claim after prune while a job is sending: %v", keysOf(got))
	}
	got := claim(t, s, "tg", "w2", leaseEnd, time.Minute, 10)
	if d := diff([]string{akey("sending"), akey("queued"), akey("sent-old")}, keysOf(got)); d != "" {
		t.Errorf("claim after prune (-want +got):\n%s", d)
	}
	if err := s.Prune(ctx, cut.Add(1000*time.Hour)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if got, _ := s.List(ctx, "tg", 0, syndicate.StatusSending); len(got) != 3 {
		t.Errorf("prune removed sending records: %d left, want 3", len(got))
	}
}

func testConcurrentClaimers(t *testing.T, f Factory) {
	const jobs, workers, dests = 200, 8, 4
	s := f.Open(t)
	var all []syndicate.Delivery
	for i := range jobs {
		all = append(all, post(fmt.Sprintf("d%d", i%dests), fmt.Sprint(i)))
	}
	enqueue(t, s, t0, all...)

	var mu sync.Mutex
	seen := map[string]string{}
	inFlight := map[string]string{} // destination → owner of the batch out
	claimed := map[string][]int64{} // destination → Seqs in claim order
	var dups, overlaps []string
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		owner := fmt.Sprintf("worker-%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A worker stops after a round in which every destination
			// gave it nothing: what is left then is held by a worker that
			// goes on.
			for {
				took := false
				for i := range dests {
					dest := fmt.Sprintf("d%d", (w+i)%dests)
					c, err := s.Claim(context.Background(), dest, owner, t0, time.Hour, 3)
					if err != nil {
						errs <- err
						return
					}
					if len(c) == 0 {
						continue
					}
					took = true
					mu.Lock()
					if prev := inFlight[dest]; prev != "" {
						overlaps = append(overlaps, fmt.Sprintf("%s claimed by %s while %s had a job out", dest, owner, prev))
					}
					inFlight[dest] = owner
					for _, d := range c {
						if prev, ok := seen[d.ArticleKey]; ok {
							dups = append(dups, fmt.Sprintf("%s by %s and %s", d.ArticleKey, prev, owner))
						}
						seen[d.ArticleKey] = owner
						claimed[dest] = append(claimed[dest], d.Seq)
					}
					mu.Unlock()
					for j, d := range c {
						if j == len(c)-1 {
							// Still leased: no one else can claim until
							// the Finish below.
							mu.Lock()
							inFlight[dest] = ""
							mu.Unlock()
						}
						d.Status, d.FinishedAt, d.SentAt = syndicate.StatusSent, t0, t0
						if err := s.Finish(context.Background(), d); err != nil {
							errs <- err
							return
						}
					}
				}
				if !took {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("worker: %v", err)
	}
	if len(dups) > 0 {
		t.Errorf("jobs claimed twice: %v", dups)
	}
	if len(overlaps) > 0 {
		t.Errorf("more than one job of a destination in flight: %v", overlaps)
	}
	if len(seen) != jobs {
		t.Errorf("claimed %d distinct jobs, want %d", len(seen), jobs)
	}
	sent := 0
	for i := range dests {
		dest := fmt.Sprintf("d%d", i)
		got, _ := s.List(context.Background(), dest, 0, syndicate.StatusSent)
		sent += len(got)
		seqs := claimed[dest]
		for j := 1; j < len(seqs); j++ {
			if seqs[j] <= seqs[j-1] {
				t.Errorf("%s not claimed oldest first across workers: %v", dest, seqs)
				break
			}
		}
	}
	if sent != jobs {
		t.Errorf("%d jobs sent, want %d", sent, jobs)
	}
}

// testOneInFlight checks that a destination has at most one job out at a
// time, across workers and restarts, so that posts cannot overtake each
// other on the platform.
func testOneInFlight(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"), post("tg", "2"), post("masto", "m"))
	job1 := claim(t, s, "tg", "w1", t0, time.Minute, 1)
	if d := diff([]string{akey("1")}, keysOf(job1)); d != "" {
		t.Fatalf("first claim (-want +got):\n%s", d)
	}
	now := t0.Add(time.Second)
	for _, owner := range []string{"w2", "w1"} {
		if got := claim(t, s, "tg", owner, now, time.Minute, 10); len(got) != 0 {
			t.Errorf("Claim by %s while job 1 is sending = %v, want nothing", owner, keysOf(got))
		}
	}
	if g := get(t, s, "tg", akey("2")); g.Status != syndicate.StatusQueued || g.Owner != "" {
		t.Errorf("job 2 while held back: status %q owner %q; want queued, no owner", g.Status, g.Owner)
	}
	if got := claim(t, s, "masto", "w2", now, time.Minute, 10); diff([]string{akey("m")}, keysOf(got)) != "" {
		t.Errorf("Claim on another destination = %v, want %s", keysOf(got), akey("m"))
	}
	sendOK(t, s, job1[0], now, "m1")
	job2 := claim(t, s, "tg", "w2", now, time.Minute, 10)
	if d := diff([]string{akey("2")}, keysOf(job2)); d != "" {
		t.Fatalf("claim after job 1 was sent (-want +got):\n%s", d)
	}
	sendOK(t, s, job2[0], now, "m2")

	// An expired lease frees the destination: its job is taken over first.
	enqueue(t, s, now, post("tg", "3"), post("tg", "4"))
	job3 := claim(t, s, "tg", "w1", now, time.Minute, 1)
	if d := diff([]string{akey("3")}, keysOf(job3)); d != "" {
		t.Fatalf("claim of job 3 (-want +got):\n%s", d)
	}
	end := job3[0].LeaseUntil
	if got := claim(t, s, "tg", "w2", end.Add(-time.Millisecond), time.Minute, 1); len(got) != 0 {
		t.Errorf("Claim just before job 3's lease end = %v, want nothing", keysOf(got))
	}
	taken := claim(t, s, "tg", "w2", end, time.Minute, 1)
	if len(taken) != 1 || taken[0].ArticleKey != akey("3") || taken[0].Owner != "w2" {
		t.Fatalf("Claim at job 3's lease end = %v, want job 3 taken over by w2", keysOf(taken))
	}
	old := job3[0]
	old.Status, old.SentAt, old.FinishedAt = syndicate.StatusSent, end, end
	if err := s.Finish(ctx, old); !errors.Is(err, syndicate.ErrNotClaimed) {
		t.Errorf("Finish by w1 after takeover = %v, want ErrNotClaimed", err)
	}
	sendOK(t, s, taken[0], end, "m3")

	// A job in backoff holds back the newer ones behind it: the order is
	// strict, so a retry never lets a newer post overtake.
	job4 := claim(t, s, "tg", "w2", end, time.Minute, 1)
	if d := diff([]string{akey("4")}, keysOf(job4)); d != "" {
		t.Fatalf("claim of job 4 (-want +got):\n%s", d)
	}
	retry := job4[0]
	retry.Status, retry.Attempts, retry.NotBefore = syndicate.StatusQueued, 1, end.Add(time.Hour)
	finish(t, s, retry)
	enqueue(t, s, end, post("tg", "5"))
	if got := claim(t, s, "tg", "w1", end, 2*time.Hour, 10); len(got) != 0 {
		t.Errorf("claim while the older job 4 is in backoff = %v, want nothing", keysOf(got))
	}
	got := claim(t, s, "tg", "w2", retry.NotBefore, time.Minute, 1)
	if len(got) != 1 || got[0].ArticleKey != akey("4") || got[0].Attempts != 1 {
		t.Fatalf("claim when job 4 is out of backoff = %v, want job 4 with its attempt", keysOf(got))
	}
	if more := claim(t, s, "tg", "w1", retry.NotBefore, time.Minute, 10); len(more) != 0 {
		t.Errorf("job 5 claimed while job 4 is sending: %v", keysOf(more))
	}
	sendOK(t, s, got[0], retry.NotBefore, "m4")
	if job5 := claim(t, s, "tg", "w1", retry.NotBefore, time.Minute, 10); diff([]string{akey("5")}, keysOf(job5)) != "" {
		t.Errorf("claim after job 4 was sent = %v, want job 5", keysOf(job5))
	}
}

func requeue(t *testing.T, s syndicate.Store, dest, key string, now time.Time) bool {
	t.Helper()
	ok, err := s.Requeue(context.Background(), dest, key, now)
	if err != nil {
		t.Fatalf("Requeue(%s, %s): %v", dest, key, err)
	}
	return ok
}

func maxSeq(ds []syndicate.Delivery) int64 {
	var m int64
	for _, d := range ds {
		m = max(m, d.Seq)
	}
	return m
}

// requeued is what Requeue at now makes of before, given the Seq it got.
func requeued(before syndicate.Delivery, now time.Time, seq int64) syndicate.Delivery {
	want := before
	want.Status = syndicate.StatusQueued
	want.Seq = seq
	want.Attempts = 0
	want.EnqueuedAt = now
	want.NotBefore, want.LeaseUntil, want.FinishedAt = time.Time{}, time.Time{}, time.Time{}
	want.Owner = ""
	return want
}

func testRequeue(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "parked"), post("tg", "unknown"), post("tg", "sent"), post("tg", "q1"), post("tg", "q2"))
	c := claim(t, s, "tg", "w", t0, time.Hour, 5)
	if len(c) != 5 {
		t.Fatalf("claimed %d jobs, want 5", len(c))
	}
	c[0].Status, c[0].Attempts, c[0].LastError = syndicate.StatusParked, 3, "message too long"
	c[0].NotBefore, c[0].FinishedAt = t0.Add(24*time.Hour), t0.Add(time.Second)
	finish(t, s, c[0])
	c[1].Status, c[1].Attempts, c[1].LastError = syndicate.StatusUnknown, 1, "timeout after the request was written"
	c[1].FinishedAt = t0.Add(2 * time.Second)
	finish(t, s, c[1])
	sendOK(t, s, c[2], t0, "m")
	c[3].Status, c[3].Attempts = syndicate.StatusQueued, 1
	finish(t, s, c[3])
	c[4].Status = syndicate.StatusQueued
	finish(t, s, c[4])

	now := t0.Add(time.Hour)
	for _, k := range []string{"parked", "unknown"} {
		before := get(t, s, "tg", akey(k))
		top := maxSeq(mustList(t, s, "tg"))
		if !requeue(t, s, "tg", akey(k), now) {
			t.Fatalf("Requeue of the %s record = false, want true", k)
		}
		got := get(t, s, "tg", akey(k))
		if got.Seq <= top {
			t.Errorf("requeued %s record has Seq %d, want more than every other (%d)", k, got.Seq, top)
		}
		if d := diff(requeued(before, now, got.Seq), got); d != "" {
			t.Errorf("requeued %s record (-want +got):\n%s", k, d)
		}
		if requeue(t, s, "tg", akey(k), now) {
			t.Errorf("second Requeue of the %s record = true, want false (it is queued)", k)
		}
	}
	queue := []string{akey("q1"), akey("q2"), akey("parked"), akey("unknown")}
	if d := diff(queue, keysOf(mustList(t, s, "tg", syndicate.StatusQueued))); d != "" {
		t.Errorf("queued after requeue (-want +got):\n%s", d)
	}
	// Queued again, the records are no longer final: pruning every final
	// record keeps them.
	if err := s.Prune(ctx, now.Add(1000*time.Hour)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	for _, k := range []string{"parked", "unknown"} {
		if _, ok, err := s.Get(ctx, "tg", akey(k)); err != nil || !ok {
			t.Errorf("Prune removed the requeued %s record (present %v, %v)", k, ok, err)
		}
	}
	if _, ok, _ := s.Get(ctx, "tg", akey("sent")); ok {
		t.Errorf("Prune kept the sent record; the check above proves nothing")
	}
	// They are claimable now, despite the old NotBefore, behind the jobs
	// that were waiting already.
	got := claim(t, s, "tg", "w2", now, time.Minute, 10)
	if d := diff(queue, keysOf(got)); d != "" {
		t.Errorf("claim after requeue (-want +got):\n%s", d)
	}
	for _, d := range got {
		if d.ArticleKey == akey("parked") && (d.Attempts != 0 || d.LastError != "message too long") {
			t.Errorf("claimed requeued record: attempts %d last error %q", d.Attempts, d.LastError)
		}
	}
	// A later outcome counts from its own finish time, not the old one.
	for _, d := range got {
		if d.ArticleKey == akey("parked") {
			sendOK(t, s, d, now.Add(time.Minute), "p1")
		}
	}
	if err := s.Prune(ctx, now); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if g, ok, err := s.Get(ctx, "tg", akey("parked")); err != nil || !ok || g.Status != syndicate.StatusSent {
		t.Errorf("requeued record sent after the cut-off: present %v, status %q, %v; want kept as sent", ok, g.Status, err)
	}
}

func mustList(t *testing.T, s syndicate.Store, dest string, states ...syndicate.Status) []syndicate.Delivery {
	t.Helper()
	got, err := s.List(context.Background(), dest, 0, states...)
	if err != nil {
		t.Fatalf("List(%s, %v): %v", dest, states, err)
	}
	return got
}

func testRequeueEdit(t *testing.T, f Factory) {
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "1"))
	sendOK(t, s, claim(t, s, "tg", "w", t0, time.Minute, 1)[0], t0, "100", "101")
	enqueue(t, s, t0.Add(time.Hour), edit("tg", "1", "New title"))
	d := claim(t, s, "tg", "w", t0.Add(time.Hour), time.Minute, 1)[0]
	d.Status, d.Attempts, d.LastError, d.FinishedAt = syndicate.StatusParked, 5, "message is not modified", t0.Add(time.Hour)
	finish(t, s, d)
	before := get(t, s, "tg", akey("1"))

	now := t0.Add(2 * time.Hour)
	if !requeue(t, s, "tg", akey("1"), now) {
		t.Fatal("Requeue of a parked edit = false")
	}
	got := get(t, s, "tg", akey("1"))
	if d := diff(requeued(before, now, got.Seq), got); d != "" {
		t.Errorf("requeued edit (-want +got):\n%s", d)
	}
	if got.Kind != syndicate.JobEdit || len(got.MessageIDs) != 2 || got.Item.Title != "New title" {
		t.Errorf("requeued edit: kind %q ids %v title %q; want the edit with its receipt", got.Kind, got.MessageIDs, got.Item.Title)
	}
}

func testRequeueRefused(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	enqueue(t, s, t0, post("tg", "sent"), post("tg", "sending"), post("tg", "queued"))
	c := claim(t, s, "tg", "w", t0, time.Hour, 2)
	sendOK(t, s, c[0], t0, "m")
	before := mustList(t, s, "tg")
	for _, tt := range []struct{ dest, key string }{
		{"tg", akey("sent")},
		{"tg", akey("sending")},
		{"tg", akey("queued")},
		{"tg", akey("missing")},
		{"masto", akey("sent")},
	} {
		ok, err := s.Requeue(ctx, tt.dest, tt.key, t0.Add(time.Hour))
		if ok || err != nil {
			t.Errorf("Requeue(%s, %s) = %v, %v; want false, nil", tt.dest, tt.key, ok, err)
		}
	}
	if d := diff(before, mustList(t, s, "tg")); d != "" {
		t.Errorf("refused Requeue changed records (-want +got):\n%s", d)
	}
	if _, ok, _ := s.Get(ctx, "masto", akey("sent")); ok {
		t.Errorf("Requeue on another destination created a record")
	}
	// The indexes are untouched too: the sending job holds the
	// destination until its lease ends, then it and the queued job are
	// claimable, not the sent one; and the sent record is still pruned as
	// final.
	if got := claim(t, s, "tg", "w2", t0.Add(time.Hour-time.Millisecond), time.Hour, 10); len(got) != 0 {
		t.Errorf("claim after refused Requeue while a job is sending = %v, want nothing", keysOf(got))
	}
	if got := claim(t, s, "tg", "w2", t0.Add(time.Hour), time.Hour, 10); diff([]string{akey("sending"), akey("queued")}, keysOf(got)) != "" {
		t.Errorf("claim after refused Requeue = %v, want %s and %s", keysOf(got), akey("sending"), akey("queued"))
	}
	if err := s.Prune(ctx, t0.Add(time.Second)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if _, ok, _ := s.Get(ctx, "tg", akey("sent")); ok {
		t.Errorf("sent record not pruned after a refused Requeue")
	}
}

func lease(t *testing.T, s syndicate.Store, feed, owner string, now time.Time, ttl time.Duration) bool {
	t.Helper()
	ok, err := s.LeaseFeed(context.Background(), feed, owner, now, ttl)
	if err != nil {
		t.Fatalf("LeaseFeed(%s, %s): %v", feed, owner, err)
	}
	return ok
}

func release(t *testing.T, s syndicate.Store, feed, owner string) {
	t.Helper()
	if err := s.ReleaseFeed(context.Background(), feed, owner); err != nil {
		t.Fatalf("ReleaseFeed(%s, %s): %v", feed, owner, err)
	}
}

func testFeedLease(t *testing.T, f Factory) {
	s := f.Open(t)
	steps := []struct {
		name  string
		feed  string
		owner string
		at    time.Duration // after t0
		ttl   time.Duration
		want  bool
	}{
		{"free lease taken", "news", "a", 0, time.Minute, true},
		{"held lease refused", "news", "b", 30 * time.Second, time.Minute, false},
		{"refused just before expiry", "news", "b", time.Minute - time.Millisecond, time.Minute, false},
		{"other feed independent", "sport", "b", 30 * time.Second, time.Minute, true},
		{"odd feed id independent", "a}b{c", "b", 30 * time.Second, time.Minute, true},
		{"holder renews", "news", "a", 50 * time.Second, time.Minute, true},
		{"renewal extended the lease", "news", "b", 90 * time.Second, time.Minute, false},
		{"expired lease taken over", "news", "b", 110 * time.Second, time.Minute, true},
		{"old holder refused", "news", "a", 110 * time.Second, time.Minute, false},
		{"holder renews shorter", "news", "b", 120 * time.Second, time.Second, true},
		{"renewal set now+ttl", "news", "a", 121 * time.Second, time.Minute, true},
		{"other feeds kept their leases", "sport", "a", 80 * time.Second, time.Minute, false},
	}
	for _, st := range steps {
		if got := lease(t, s, st.feed, st.owner, t0.Add(st.at), st.ttl); got != st.want {
			t.Errorf("%s: LeaseFeed(%s, %s, t0+%s, %s) = %v, want %v", st.name, st.feed, st.owner, st.at, st.ttl, got, st.want)
		}
	}
}

func testFeedLeaseRelease(t *testing.T, f Factory) {
	s := f.Open(t)
	release(t, s, "news", "a") // nothing to release
	if !lease(t, s, "news", "a", t0, time.Hour) || !lease(t, s, "sport", "a", t0, time.Hour) {
		t.Fatal("free leases not taken")
	}
	release(t, s, "news", "b")
	if lease(t, s, "news", "b", t0.Add(time.Second), time.Hour) {
		t.Errorf("release by a non-holder freed the lease")
	}
	release(t, s, "news", "a")
	if !lease(t, s, "news", "b", t0.Add(time.Second), time.Hour) {
		t.Errorf("release by the holder did not free the lease")
	}
	if lease(t, s, "sport", "b", t0.Add(time.Second), time.Hour) {
		t.Errorf("releasing one feed freed another")
	}
	// The former holder's late release leaves the new holder's lease.
	release(t, s, "news", "a")
	if lease(t, s, "news", "c", t0.Add(2*time.Second), time.Hour) {
		t.Errorf("release by the former holder freed the new holder's lease")
	}
}

func testFeedLeaseInvalid(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	for _, tt := range []struct {
		owner string
		ttl   time.Duration
	}{
		{"", time.Minute},
		{"a", 0},
		{"a", -time.Second},
	} {
		if ok, err := s.LeaseFeed(ctx, "news", tt.owner, t0, tt.ttl); err == nil || ok {
			t.Errorf("LeaseFeed(owner %q, ttl %s) = %v, %v; want an error", tt.owner, tt.ttl, ok, err)
		}
	}
	if err := s.ReleaseFeed(ctx, "news", ""); err == nil {
		t.Errorf("ReleaseFeed(empty owner): no error")
	}
	// The rejected calls took nothing.
	if !lease(t, s, "news", "b", t0, time.Minute) {
		t.Errorf("a rejected LeaseFeed left a lease behind")
	}
}

func testConcurrentFeedLease(t *testing.T, f Factory) {
	const owners = 8
	s := f.Open(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	won := make([]bool, owners)
	errs := make([]error, owners)
	for i := range owners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			won[i], errs[i] = s.LeaseFeed(context.Background(), "news", fmt.Sprintf("replica-%d", i), t0, time.Minute)
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range owners {
		if errs[i] != nil {
			t.Errorf("replica-%d: %v", i, errs[i])
		}
		if won[i] {
			if winner >= 0 {
				t.Errorf("replica-%d and replica-%d both hold the lease", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no replica got the lease")
	}
	// The store agrees on who won.
	if !lease(t, s, "news", fmt.Sprintf("replica-%d", winner), t0.Add(time.Second), time.Minute) {
		t.Errorf("winner replica-%d cannot renew", winner)
	}
	if lease(t, s, "news", fmt.Sprintf("replica-%d", (winner+1)%owners), t0.Add(time.Second), time.Minute) {
		t.Errorf("a loser got the lease after the race")
	}
}

// testPruneLeases checks that Prune(before) keeps every lease that expires
// at or after before; one that expired earlier is free to every caller
// whose clock is past before, so a store may drop it.
func testPruneLeases(t *testing.T, f Factory) {
	ctx := context.Background()
	s := f.Open(t)
	if !lease(t, s, "news", "a", t0, time.Hour) {
		t.Fatal("free lease not taken")
	}
	if err := s.MarkSeen(ctx, "news", map[string]string{"k": "fp"}, t0); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []time.Time{t0, t0.Add(time.Hour)} {
		if err := s.Prune(ctx, cut); err != nil {
			t.Fatalf("Prune(%v): %v", cut, err)
		}
		if lease(t, s, "news", "b", t0.Add(time.Minute), time.Hour) {
			t.Errorf("after Prune(%v) another owner took a lease held until %v", cut, t0.Add(time.Hour))
		}
	}
	if !lease(t, s, "news", "a", t0.Add(time.Minute), time.Hour) {
		t.Errorf("after Prune the holder cannot renew")
	}
}

func testPing(t *testing.T, f Factory) {
	if err := f.Open(t).Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testDurability(t *testing.T, f Factory) {
	if f.Reopen == nil {
		t.Skip("no Reopen in the factory")
	}
	ctx := context.Background()
	s := f.Open(t)
	feed := syndicate.FeedState{ETag: `"v1"`, NextPoll: t0.Add(time.Minute), Primed: true}
	dest := syndicate.DestinationState{BlockedUntil: t0.Add(time.Minute), Values: map[string]string{"k": "v"}}
	if err := s.SaveFeed(ctx, "news", feed); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSeen(ctx, "news", map[string]string{"a": "fa"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDestination(ctx, "tg", dest); err != nil {
		t.Fatal(err)
	}
	push := fullPush(0)
	if err := s.SavePush(ctx, "news", push); err != nil {
		t.Fatal(err)
	}
	if !lease(t, s, "news", "w", t0, time.Minute) {
		t.Fatal("free feed lease not taken")
	}
	enqueue(t, s, t0, post("tg", "1"), post("tg", "2"), post("tg", "3"))
	c := claim(t, s, "tg", "w", t0, time.Minute, 2)
	sendOK(t, s, c[0], t0, "m1")
	before, err := s.List(ctx, "tg", 0)
	if err != nil {
		t.Fatal(err)
	}

	s = f.Reopen(t, s)
	if got, err := s.LoadFeed(ctx, "news"); err != nil || diff(feed, got) != "" {
		t.Errorf("feed state after reopen: %v (-want +got):\n%s", err, diff(feed, got))
	}
	if got, err := s.SeenFingerprints(ctx, "news", []string{"a"}); err != nil || got["a"] != "fa" {
		t.Errorf("seen after reopen: %v, %v", got, err)
	}
	if got, err := s.LoadDestination(ctx, "tg"); err != nil || diff(dest, got) != "" {
		t.Errorf("destination state after reopen: %v (-want +got):\n%s", err, diff(dest, got))
	}
	if got, err := s.LoadPush(ctx, "news"); err != nil || diff(push, got) != "" {
		t.Errorf("push state after reopen: %v (-want +got):\n%s", err, diff(push, got))
	}
	after, err := s.List(ctx, "tg", 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.LeasesEndWithProcess {
		// Job 2 is still sending by w, with its lease ended.
		for i := range before {
			if before[i].Status == syndicate.StatusSending {
				before[i].LeaseUntil = time.Time{}
			}
		}
	}
	if d := diff(before, after); d != "" {
		t.Errorf("records after reopen (-want +got):\n%s", d)
	}
	if got := lease(t, s, "news", "w2", t0.Add(time.Second), time.Minute); got != f.LeasesEndWithProcess {
		t.Errorf("feed lease taken by another owner after reopen: %v; want %v", got, f.LeasesEndWithProcess)
	}
	if f.LeasesEndWithProcess {
		// The claim ended with the process: job 2 is taken over at once,
		// before its lease would have run out, and w lost it.
		got := claim(t, s, "tg", "w2", t0, time.Minute, 1)
		if d := diff([]string{akey("2")}, keysOf(got)); d != "" {
			t.Fatalf("claim after reopen (-want +got):\n%s", d)
		}
		lost := c[1]
		lost.Status, lost.SentAt, lost.FinishedAt = syndicate.StatusSent, t0, t0
		if err := s.Finish(ctx, lost); !errors.Is(err, syndicate.ErrNotClaimed) {
			t.Errorf("Finish by the ended process's owner = %v, want ErrNotClaimed", err)
		}
		c[1] = got[0]
	}
	// Job 2 is held (by w whose lease survived, or by w2 who took it
	// over), which holds the destination back, and its holder can finish
	// it; then job 3 is due.
	if got := claim(t, s, "tg", "w2", t0, time.Minute, 10); len(got) != 0 {
		t.Errorf("claim after reopen while job 2 is leased: %v", keysOf(got))
	}
	sendOK(t, s, c[1], t0, "m2")
	got := claim(t, s, "tg", "w2", t0, time.Minute, 10)
	if d := diff([]string{akey("3")}, keysOf(got)); d != "" {
		t.Errorf("claim after reopen (-want +got):\n%s", d)
	}
	added := enqueue(t, s, t0, post("tg", "4"))
	if len(added) != 1 || added[0].Seq <= got[0].Seq {
		t.Errorf("Seq after reopen: %v, want more than %d", seqsOf(added), got[0].Seq)
	}
}
