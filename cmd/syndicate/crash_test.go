package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/syndicate"
	"github.com/syndicate-bot/syndicate/syndicate/store/boltstore"
)

// TestKilledMidSendThenOnce kills a worker on the embedded store with
// SIGKILL while the server holds its post unanswered (created, as a crash
// after the server acted), then runs --once at once: the file lock proves
// the worker gone, so its claim is released and the post delivered
// without waiting for the lease, and Mastodon's Idempotency-Key turns the
// resend into the status already made.
func TestKilledMidSendThenOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program as a process: skipped under -short")
	}
	bin := syndicateBinary(t)
	site, _, md := platforms(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, fmt.Sprintf(`store:
  embedded:
    path: %s
network:
  media:
    allow_private: true
feeds:
  - id: en
    url: %s
    language: en
mastodon:
  accounts:
    - id: md-en
      server: %s
      access_token: ${MASTODON_TOKEN}
routes:
  - feeds: [en]
    to: [md-en]
    backfill: 2
worker:
  start_spread: 0s
`, db, site.FeedURL("en"), md.URL()))
	md.Fail("POST /api/v1/statuses", mastodonfake.Fault{HangAfterCreate: true})

	logPath := filepath.Join(dir, "worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = []string{"MASTODON_TOKEN=" + platformVars["MASTODON_TOKEN"], "HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var exit error
	go func() {
		exit = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("worker log:\n%s", tail(logPath, 40))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for len(md.Statuses()) == 0 {
		select {
		case <-done:
			t.Fatalf("worker exited before posting: %v", exit)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker never posted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done

	// The claim was left live: sending, with most of its lease to run.
	claimed := sendingJobs(t, db)
	if len(claimed) != 1 || !claimed[0].LeaseUntil.After(time.Now().Add(time.Minute)) {
		t.Fatalf("after the kill the store holds %+v; want one job sending under a live lease", claimed)
	}

	r := runCmd(t, context.Background(), platformVars, "run", "--config", cfg, "--once", "--wait", "0")
	if r.code != 0 {
		t.Fatalf("run --once = %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "waiting") {
		t.Errorf("run --once left deliveries waiting (for the dead worker's lease?):\n%s", r.stdout)
	}
	statuses := md.Statuses()
	if len(statuses) != 2 {
		t.Fatalf("statuses = %d, want the 2 backfilled articles once each", len(statuses))
	}
	if statuses[0].Text == statuses[1].Text {
		t.Errorf("the same article was posted twice:\n%s", statuses[0].Text)
	}
	if left := sendingJobs(t, db); len(left) != 0 {
		t.Errorf("jobs still sending after --once: %+v", left)
	}
}

// sendingJobs opens the embedded store read-only and lists its jobs being sent.
func sendingJobs(t *testing.T, db string) []syndicate.Delivery {
	t.Helper()
	st, err := boltstore.Open(db, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jobs, err := st.List(context.Background(), "md-en", 0, syndicate.StatusSending)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}
