package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/bots/telegram/telegramfake"
	"github.com/syndicate-bot/syndicate/cmd/syndicate/internal/workertest"
)

// TestCrashReplicas kills replicas with SIGKILL at random moments of a
// burst and restarts them: every article must still reach every
// destination, Mastodon never doubled (its Idempotency-Key closes the
// window) and Telegram doubled at most once per kill and chat (the window
// between Telegram accepting a post and the store recording it).
func TestCrashReplicas(t *testing.T) {
	const (
		items   = 200
		kills   = 10
		workers = 3
	)
	r := newRig(t, rigOptions{items: items, perMinute: 300, perSecond: 20})
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("kill schedule seed %d", seed)

	start := time.Now()
	var ws []*workertest.Worker
	for i := range workers {
		// A short lease so that the jobs of a killed worker are taken over
		// within the test; the heartbeat renews it every second.
		ws = append(ws, r.addWorker(fmt.Sprintf("w%d", i+1), "3s"))
	}
	r.waitFor("the first post", 60*time.Second, func() bool { return len(r.tg.Calls()) > 0 })

	// A killed worker comes back under the same id, as a fixed worker.id
	// (systemd, a StatefulSet, a restarted container) does: the stricter
	// case, since leases are keyed by owner name: the new process takes
	// the dead one's claims back at start and sends them again, under the
	// same window as a takeover after the lease.
	orphaned := map[string]bool{}
	for k := range kills {
		time.Sleep(500*time.Millisecond + time.Duration(rng.Int64N(int64(1500*time.Millisecond))))
		r.checkWorkers()
		w := ws[rng.IntN(len(ws))]
		sent := len(r.tg.Messages(chatA)) + len(r.tg.Messages(chatB))
		w.Kill()
		held := 0
		for _, c := range r.claimsOf(w.ID) {
			if !orphaned[c] {
				orphaned[c] = true
				held++
			}
		}
		t.Logf("kill %d: %s after %s, %d Telegram posts out, %d claims left to its lease", k+1, w.ID, time.Since(start).Round(time.Millisecond), sent, held)
		r.start(w)
	}
	tl := r.waitDrained(180 * time.Second)
	drain := time.Since(start)

	dupA, dupB, dupMd := tl.Duplicates(destA), tl.Duplicates(destB), tl.Duplicates(destMd)
	tg429, md429 := r.telegram429s(), r.md.CountStatus(http.StatusTooManyRequests)
	t.Logf("items %d (Mastodon %d), workers %d, kills %d leaving %d claims; duplicates %s %d, %s %d, %s %d; drained in %s; 429s: Telegram %d, Mastodon %d",
		items, len(r.expected(destMd)), workers, kills, len(orphaned), destA, dupA, destB, dupB, destMd, dupMd, drain.Round(time.Millisecond), tg429, md429)

	r.checkOldestFirst(tl)
	for _, d := range rigDests {
		if m := tl.Missing(d, r.expected(d)); len(m) > 0 {
			t.Errorf("%s: %d articles lost: %v", d, len(m), workertest.Head(m, 20))
		}
		if u := tl.Unexpected(d, r.expected(d)); len(u) > 0 {
			t.Errorf("%s: %d articles posted that its route does not carry: %v", d, len(u), workertest.Head(u, 20))
		}
		if n := tl.Strays[d]; n > 0 {
			t.Errorf("%s: %d posts that do not link exactly one article", d, n)
		}
	}
	if dupMd > 0 {
		t.Errorf("Mastodon has %d duplicate statuses; the Idempotency-Key should prevent every one", dupMd)
	}
	// A replica delivers one job per destination at a time, so a kill can
	// catch at most one post per chat between Telegram and the store.
	for _, d := range []string{destA, destB} {
		if n := tl.Duplicates(d); n > kills {
			t.Errorf("%s: %d duplicates after %d kills; at most one per kill is possible", d, n, kills)
		}
	}
	if tg429 > 0 || md429 > 0 {
		t.Errorf("the replicas together exceeded the platforms' limits: %d Telegram and %d Mastodon answers 429", tg429, md429)
	}
}

// TestRestartRedis stops the shared Redis (persisted with an fsync per
// write) in the middle of a burst and starts it again 10 seconds later:
// the workers must ride out the outage and finish with nothing lost and
// nothing doubled.
func TestRestartRedis(t *testing.T) {
	const items = 120
	r := newRig(t, rigOptions{items: items, perMinute: 300, perSecond: 20,
		redisArgs: []string{"--appendonly", "yes", "--appendfsync", "always"}})
	start := time.Now()
	// The default lease (2m) outlasts the outage: a worker whose post went
	// out while Redis was down keeps trying to record it while its lease
	// holds, and nobody else may take the job over meanwhile, so the post
	// is neither lost nor sent twice.
	ws := []*workertest.Worker{r.addWorker("w1", ""), r.addWorker("w2", "")}

	third := 2 * items / 3
	r.waitFor("a third of the Telegram posts", 60*time.Second, func() bool {
		return len(r.tg.Messages(chatA))+len(r.tg.Messages(chatB)) >= third
	})
	if err := r.redis.Terminate(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	t.Logf("redis stopped after %s with %d Telegram posts and %d statuses out", down.Sub(start).Round(time.Millisecond),
		len(r.tg.Messages(chatA))+len(r.tg.Messages(chatB)), len(r.md.Statuses()))
	time.Sleep(10 * time.Second)
	for _, w := range ws {
		if !w.Running() {
			t.Fatalf("worker %s exited while Redis was down", w.ID)
		}
	}
	if err := r.redis.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("redis back after %s", time.Since(down).Round(time.Millisecond))

	tl := r.waitDrained(180 * time.Second)
	t.Logf("items %d: drained in %s; posts %s %d, %s %d, %s %d; 429s: Telegram %d, Mastodon %d", items,
		time.Since(start).Round(time.Millisecond), destA, tl.Total(destA), destB, tl.Total(destB), destMd, tl.Total(destMd),
		r.telegram429s(), r.md.CountStatus(http.StatusTooManyRequests))
	r.checkExactlyOnce(tl)
	for _, w := range ws {
		if !w.Running() {
			t.Errorf("worker %s is not running after the outage", w.ID)
		}
	}
	failedSteps, record := r.logLines("the store may be down"), r.logLines("recording a delivery failed")
	t.Logf("the workers logged %d failed steps and %d failed recordings of a post during the outage", failedSteps, record)
	if failedSteps+record == 0 {
		t.Error("no worker logged the outage; the test did not exercise it")
	}
}

// TestScaleOutKeepsLimits posts the same burst with one replica and with
// three: each article exactly once, and together the replicas never send
// faster than the chat and bot limits allow.
func TestScaleOutKeepsLimits(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("replicas=%d", n), func(t *testing.T) {
			// One run at a time: the limits are judged where the calls
			// arrive, 31 ms of margin on the bot's second, and two runs side
			// by side on a loaded machine delay calls past it.
			const (
				// 120 posts: at 3 calls a second the bot's cap binds (two chats
				// could take 4), and the burst drains in about 40s.
				items     = 60
				perMinute = 120
				perSecond = 3
			)
			r := newRig(t, rigOptions{items: items, perMinute: perMinute, perSecond: perSecond})
			start := time.Now()
			for i := range n {
				r.addWorker(fmt.Sprintf("w%d", i+1), "")
			}
			tl := r.waitDrained(180 * time.Second)
			drain := time.Since(start)
			r.checkExactlyOnce(tl)

			bot, toA := r.sendTimes(chatA)
			_, toB := r.sendTimes(chatB)
			botMax, botAt := maxInWindow(bot, time.Second)
			maxA, atA := maxInWindow(toA, time.Minute)
			maxB, atB := maxInWindow(toB, time.Minute)
			tg429, md429 := r.telegram429s(), r.md.CountStatus(http.StatusTooManyRequests)
			t.Logf("%d replica(s), %d items (%d posts): drained in %s (%.2f Telegram posts/s); most calls of the bot in a second %d (limit %d), to a chat in a minute %d and %d (limit %d); 429s: Telegram %d, Mastodon %d",
				n, items, 2*items+len(r.expected(destMd)), drain.Round(time.Millisecond), float64(2*items)/drain.Seconds(), botMax, perSecond, maxA, maxB, perMinute, tg429, md429)
			// The replicas share the limits: unshared, three would make 9
			// calls a second. The stand-in judges arrival times; a call
			// stays counted until its answer comes back, so however long a
			// busy machine holds a call between admission and arrival, no
			// window of the stand-in's sees more than the limit. The pace
			// itself, quiet, is bench deliver's.
			if botMax > perSecond {
				t.Errorf("the bot made %d calls in the second up to %s; the limit is %d", botMax, botAt.Format("15:04:05.000"), perSecond)
			}
			if maxA > perMinute || maxB > perMinute {
				t.Errorf("a chat got %d (until %s) and %d (until %s) calls in a minute; the limit is %d",
					maxA, atA.Format("15:04:05.000"), maxB, atB.Format("15:04:05.000"), perMinute)
			}
			if tg429 > 0 || md429 > 0 {
				t.Errorf("the platforms answered 429: Telegram %d, Mastodon %d", tg429, md429)
			}
		})
	}
}

// Test429HoldsBackOnlyItsDestination injects a 429 with a retry time on one
// Telegram chat and on the Mastodon account while two replicas deliver:
// the refused destination gets nothing from any replica until the retry
// time, the others keep receiving, and everything arrives exactly once.
func Test429HoldsBackOnlyItsDestination(t *testing.T) {
	const (
		items      = 60
		retryAfter = 5 * time.Second
		mdWindow   = 10 * time.Second
	)
	// A short Mastodon window, since a 429 there lasts until the window's
	// reset (X-RateLimit-Reset); the budgets stay far below its limits.
	r := newRig(t, rigOptions{items: items, perMinute: 300, perSecond: 20,
		mastodonLimits: mastodonfake.RateLimits{Requests: 300, RequestsWindow: mdWindow, Statuses: 300, StatusesWindow: mdWindow}})
	r.md.Fail("POST /api/v1/statuses", mastodonfake.Fault{Status: http.StatusTooManyRequests})

	// The second replica starts once the first met the Mastodon 429, so
	// it can only know of the wait through the shared store.
	r.addWorker("w1", "")
	var mdRefused mastodonfake.Request
	r.waitFor("the Mastodon 429", 60*time.Second, func() bool {
		for _, q := range r.md.Requests() {
			if q.Status == http.StatusTooManyRequests {
				mdRefused = q
				return true
			}
		}
		return false
	})
	r.addWorker("w2", "")

	r.waitFor("posts on both chats", 60*time.Second, func() bool {
		return len(r.tg.Messages(chatA)) >= 5 && len(r.tg.Messages(chatB)) >= 5
	})
	injected := telegramfake.TooManyRequests(int(retryAfter / time.Second))
	r.tg.FailChat(chatA, "sendMessage", 1, injected)
	var tgRefused telegramfake.Call
	r.waitFor("the Telegram 429 on chat A", 60*time.Second, func() bool {
		for _, c := range r.tg.Calls() {
			if c.Code == http.StatusTooManyRequests && c.Description == injected.Description && c.Params["chat_id"] == chatA {
				tgRefused = c
				return true
			}
		}
		return false
	})

	tl := r.waitDrained(180 * time.Second)
	r.checkExactlyOnce(tl)

	// Telegram: nothing to chat A from any replica while it waits; chat B
	// goes on.
	tgUntil := tgRefused.At.Add(retryAfter)
	var toA, toB int
	for _, c := range r.tg.Calls() {
		if !c.At.After(tgRefused.At) || !c.At.Before(tgUntil) {
			continue
		}
		switch c.Params["chat_id"] {
		case chatA:
			toA++
			t.Errorf("chat A got a %s call (answered %d) %s into its %s wait", c.Method, c.Code, c.At.Sub(tgRefused.At).Round(time.Millisecond), retryAfter)
		case chatB:
			if c.Code == http.StatusOK {
				toB++
			}
		}
	}
	if toB == 0 {
		t.Errorf("chat B received nothing during chat A's %s wait: a 429 on one chat must not hold back the bot's other chats", retryAfter)
	}

	// Mastodon: the account waits until the reset of its window; the
	// Telegram chats go on meanwhile.
	mdUntil := mastodonReset(r.md.Requests(), mdRefused.At, mdWindow)
	var statuses, tgDuring int
	for _, q := range r.md.Requests() {
		if q.Endpoint == "POST /api/v1/statuses" && q.At.After(mdRefused.At) && q.At.Before(mdUntil) {
			statuses++
			t.Errorf("a status was posted (answered %d) %s into the account's %s wait", q.Status, q.At.Sub(mdRefused.At).Round(time.Millisecond), mdUntil.Sub(mdRefused.At).Round(time.Millisecond))
		}
	}
	for _, c := range r.tg.Calls() {
		if c.Code == http.StatusOK && c.At.After(mdRefused.At) && c.At.Before(mdUntil) {
			tgDuring++
		}
	}
	if tgDuring == 0 {
		t.Error("Telegram received nothing while the Mastodon account waited")
	}

	tg429, md429 := r.telegram429s(), r.md.CountStatus(http.StatusTooManyRequests)
	t.Logf("items %d: chat B got %d posts during chat A's %s wait (chat A %d calls); Telegram got %d posts during Mastodon's %s wait (statuses %d); 429s: Telegram %d, Mastodon %d (1 injected on each)",
		items, toB, retryAfter, toA, tgDuring, mdUntil.Sub(mdRefused.At).Round(time.Millisecond), statuses, tg429, md429)
	if tg429 != 1 || md429 != 1 {
		t.Errorf("429s beyond the injected ones: Telegram %d, Mastodon %d", tg429-1, md429-1)
	}
}

// mastodonReset is when the fake's window for the account resets after a
// 429 at refused: the oldest request still counted plus the window, as the
// X-RateLimit-Reset header said.
func mastodonReset(reqs []mastodonfake.Request, refused time.Time, window time.Duration) time.Time {
	reset := refused.Add(window)
	for _, q := range reqs {
		counted := q.Authorization != "" && !strings.Contains(q.Path, "/instance") && q.Status != http.StatusTooManyRequests
		if counted && q.At.After(refused.Add(-window)) && !q.At.After(refused) && q.At.Add(window).Before(reset) {
			reset = q.At.Add(window)
		}
	}
	// The header has microsecond precision.
	return reset.Add(-time.Millisecond)
}
