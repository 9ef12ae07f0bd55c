package boltstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// TestNotModifiedPollsShareOneLateCommit: a poll that saw nothing new
// costs no commit of its own: its state is visible at once, written with
// the others' within flushDelay, and on Close; a state written directly
// meanwhile is never overwritten by the older one waiting.
func TestNotModifiedPollsShareOneLateCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := txid(t, s)
	for i, feed := range []string{"a", "b", "c"} {
		st, ok, err := s.BeginPoll(ctx, feed, "w", t0, time.Minute)
		if err != nil || !ok {
			t.Fatalf("BeginPoll(%s) = %v, %v", feed, ok, err)
		}
		st.NextPoll = t0.Add(time.Duration(i+1) * time.Minute)
		if err := s.EndPoll(ctx, feed, "w", st, nil, t0); err != nil {
			t.Fatal(err)
		}
	}
	if n := txid(t, s) - before; n != 0 {
		t.Errorf("three polls without news took %d commits at once; want 0", n)
	}
	if st, err := s.LoadFeed(ctx, "b"); err != nil || !st.NextPoll.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("LoadFeed(b) before the flush = %+v, %v; want the polled state", st, err)
	}
	// A direct write after a waiting state wins.
	if err := s.SaveFeed(ctx, "c", syndicate.FeedState{ETag: `"direct"`}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for txid(t, s)-before < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := txid(t, s) - before; n != 2 {
		t.Errorf("%d commits after the flush; want 2 (the direct write and one for the polls)", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for feed, want := range map[string]syndicate.FeedState{
		"a": {NextPoll: t0.Add(time.Minute)}, "b": {NextPoll: t0.Add(2 * time.Minute)}, "c": {ETag: `"direct"`},
	} {
		if st, err := s.LoadFeed(ctx, feed); err != nil || st.ETag != want.ETag || !st.NextPoll.Equal(want.NextPoll) {
			t.Errorf("after reopen %s = %+v, %v; want %+v", feed, st, err, want)
		}
	}

	// Waiting states are written on Close too.
	st, _, err := s.BeginPoll(ctx, "a", "w", t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	st.ETag = `"closing"`
	if err := s.EndPoll(ctx, "a", "w", st, nil, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.LoadFeed(ctx, "a"); err != nil || st.ETag != `"closing"` {
		t.Errorf("after Close and reopen a = %+v, %v; want the state of the last poll", st, err)
	}
	s.Close()
}
