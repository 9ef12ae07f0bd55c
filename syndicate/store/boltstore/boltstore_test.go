package boltstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
	"github.com/syndicate-bot/syndicate/syndicate/store/storetest"
)

func open(t testing.TB, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		LeasesEndWithProcess: true,
		Open: func(t *testing.T) syndicate.Store {
			return open(t, filepath.Join(t.TempDir(), "state.db"))
		},
		Reopen: func(t *testing.T, old syndicate.Store) syndicate.Store {
			path := old.(*boltstore.Store).Path()
			if err := old.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return open(t, path)
		},
	})
}

func TestOpenCreatesPrivateDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	open(t, filepath.Join(dir, "state.db"))
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("directory mode %v, want no group or other access", perm)
	}
	fi, err = os.Stat(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("file mode %v, want no group or other access", perm)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	open(t, path)
	s, err := boltstore.Open(path, boltstore.Options{Timeout: 50 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("second Open on a locked file succeeded")
	}
	if !strings.Contains(err.Error(), "locked by another process") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not say the file is locked", err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := boltstore.Open(filepath.Join(dir, "missing.db"), boltstore.Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only Open of a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !os.IsNotExist(err) {
		t.Fatalf("read-only Open created the file: %v", err)
	}
	path := filepath.Join(dir, "state.db")
	rw := open(t, path)
	ctx := context.Background()
	if err := rw.SaveFeed(ctx, "en", syndicate.FeedState{ETag: `"v1"`, Primed: true}); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	ro, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st, err := ro.LoadFeed(ctx, "en")
	if err != nil || st.ETag != `"v1"` {
		t.Fatalf("LoadFeed = %+v, %v", st, err)
	}
	if err := ro.SaveFeed(ctx, "en", syndicate.FeedState{}); err == nil {
		t.Error("a write to a read-only store succeeded")
	}
}

func TestOpenBadPath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := boltstore.Open(filepath.Join(file, "state.db"), boltstore.Options{}); err == nil {
		t.Error("Open under a regular file succeeded")
	}
}

func TestClosedStore(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping on a closed store succeeded")
	}
	if _, err := s.LoadFeed(context.Background(), "f"); err == nil {
		t.Error("LoadFeed on a closed store succeeded")
	}
}

// TestCanceledContext checks that a call made with a done context fails
// with the context's error and writes nothing, batched writes included.
func TestCanceledContext(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	job := syndicate.Delivery{Destination: "tg", ArticleKey: "a", Kind: syndicate.JobPost}
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"SaveFeed", func() error { return s.SaveFeed(ctx, "f", syndicate.FeedState{ETag: "x"}) }},
		{"MarkSeen", func() error { return s.MarkSeen(ctx, "f", map[string]string{"k": "fp"}, now) }},
		{"LeaseFeed", func() error { _, err := s.LeaseFeed(ctx, "f", "other", now, time.Hour); return err }},
		{"ReleaseFeed", func() error { return s.ReleaseFeed(ctx, "f", "w") }},
		{"BeginPoll", func() error { _, _, err := s.BeginPoll(ctx, "f", "other", now, time.Hour); return err }},
		{"EndPoll", func() error {
			return s.EndPoll(ctx, "f", "w", syndicate.FeedState{ETag: "x"}, map[string]string{"k": "fp"}, now)
		}},
		{"Enqueue", func() error { _, err := s.Enqueue(ctx, []syndicate.Delivery{job}, now); return err }},
		{"Claim", func() error { _, err := s.Claim(ctx, "tg", "w", now, time.Minute, 1); return err }},
		{"Prune", func() error { return s.Prune(ctx, now) }},
	} {
		if err := c.call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want context.Canceled", c.name, err)
		}
	}
	bg := context.Background()
	if st, err := s.LoadFeed(bg, "f"); err != nil || st.ETag != "" {
		t.Errorf("LoadFeed = %+v, %v; want nothing saved", st, err)
	}
	if got, err := s.SeenFingerprints(bg, "f", []string{"k"}); err != nil || len(got) != 0 {
		t.Errorf("SeenFingerprints = %v, %v; want nothing seen", got, err)
	}
	if ok, err := s.LeaseFeed(bg, "f", "w", now, time.Minute); err != nil || !ok {
		t.Errorf("LeaseFeed = %v, %v; want the lease free", ok, err)
	}
	if got, err := s.List(bg, "tg", 0); err != nil || len(got) != 0 {
		t.Errorf("List = %v, %v; want nothing queued", got, err)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "state.db"))
	storetest.BenchmarkRoundTrip(b, s)
}

func BenchmarkPoll(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "state.db"))
	storetest.BenchmarkPoll(b, s)
}
