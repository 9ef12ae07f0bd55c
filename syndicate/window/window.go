// Package window is the rule every rate limiter of the bots keeps, at
// most N calls in any window of Per at the platform, kept as
// sliding-window logs: the in-process limiters keep the logs here, and
// syndicate/ratelimit keeps the same logs in Redis for several replicas.
//
// A log holds the admission times of one key. A call is admitted only
// when, for each limit it is asked under, fewer than N admissions lie in
// the closed window of Per that ends now; so no closed window of Per ever
// holds more than N admissions, and N calls can go at once when the
// window is empty. A call is asked for under every key it counts against
// (a Telegram post under its chat and its bot) and is counted under all
// of them at once or under none: a call held back by one key never uses
// up a slot of another.
//
// The platform counts arrivals, not admissions. Platform lengthens the
// platform's window by Margin, so that two calls admitted one limiter
// window apart still arrive more than the platform's window apart unless
// the later one travels faster than the earlier by more than the margin.
// A busy machine can hold a call longer than that, so a caller that waits
// for the answer reports it (Logs.Done), and the call's admission moves to
// the answer less the margin when that is later (Claim.Settle): the next
// call is then let in a full platform window after the finished one
// arrived, whatever held it. Only a call whose answer takes longer than a
// whole window is not covered: it may leave the log before it arrives.
package window

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Limit allows at most N calls in any closed window of length Per; N or
// Per ≤ 0 means no limit. Margin is how much of Per was added to a
// platform's window (see Platform), 0 for a limit of our own.
type Limit struct {
	N      int
	Per    time.Duration
	Margin time.Duration
}

func (l Limit) none() bool { return l.N <= 0 || l.Per <= 0 }

// marginShare is the part of a window its margin takes (1/40, 2.5%).
const marginShare = 40

// Margin is how much longer a limiter's window is than the platform's, to
// cover the time from admission to arrival at the platform where it
// differs from call to call (connections, retransmissions, a busy
// machine, the next replica's round trip to Redis). Only the difference
// matters, as a transit time common to all calls shifts every arrival
// alike. It is 2.5% of the window: 25 ms on Telegram's second of 30 calls
// per bot, several times the spread of a request's time on one network,
// 1.5 s on a chat's minute and 7.5 s on Mastodon's five minutes; it costs
// 2.4% of each limit, leaving 97.6% of it to use.
func Margin(per time.Duration) time.Duration { return per / marginShare }

// Platform is the limit a limiter keeps for a platform that refuses more
// than n calls in any window of per: the window lengthened by Margin.
func Platform(n int, per time.Duration) Limit {
	return Limit{N: n, Per: per + Margin(per), Margin: Margin(per)}
}

// Margin is the smallest margin of the claim's platform limits, and false
// when it has none: limits of our own (spreading a burst) are not the
// platform's to refuse, so they do not settle calls.
func (c Claim) Margin() (time.Duration, bool) {
	m, ok := time.Duration(0), false
	for _, lim := range c.Limits {
		if !lim.none() && lim.Margin > 0 && (!ok || lim.Margin < m) {
			m, ok = lim.Margin, true
		}
	}
	return m, ok
}

// Settle is where a finished call's admission moves in the log of a
// claim: the margin covers the spread of the time from admission to
// arrival only while that time is short, and on a busy machine it is not.
// The platform counted the call no later than its answer came back, at
// done, so its admission moves to done less the claim's smallest margin
// when that is later. Then the next call a full window lets in is
// admitted no earlier than done plus the platform's window, after the
// finished call arrived whatever its delay; a call answered within the
// margin keeps its admission and costs nothing. A claim with no platform
// limit never moves; its limits of our own see a moved call later, which
// only spreads calls a little more.
func (c Claim) Settle(admitted, done time.Time) time.Time {
	m, ok := c.Margin()
	if !ok {
		return admitted
	}
	if at := done.Add(-m); at.After(admitted) {
		return at
	}
	return admitted
}

// Claim asks for one call under Key within each of Limits.
type Claim struct {
	Key    string
	Limits []Limit
}

// Logs keeps the logs and blocks of many keys in memory; it is safe for
// concurrent use.
type Logs struct {
	now     func() time.Time
	mu      sync.Mutex
	logs    map[string][]time.Time
	blocked map[string]time.Time
}

// NewLogs returns empty logs that read the time from now (nil: the system
// clock). The time is read under the lock, so that admissions enter each
// log in the order of their times.
func NewLogs(now func() time.Time) *Logs {
	if now == nil {
		now = time.Now
	}
	return &Logs{now: now, logs: map[string][]time.Time{}, blocked: map[string]time.Time{}}
}

// Take counts one call now under every claim and returns 0, or counts
// nothing and returns how long until it may be asked for again and the
// key that holds it back longest: a block on a key, or a limit whose
// window holds N admissions. Claims under one key count one call each.
// It fails only when claims under one key ask for more calls than one of
// its limits allows in a window, which no wait can grant.
func (l *Logs) Take(claims ...Claim) (time.Duration, string, error) {
	_, wait, by, err := l.TakeAt(claims...)
	return wait, by, err
}

// TakeAt is Take that also returns the time of the admission, for Done.
func (l *Logs) TakeAt(claims ...Claim) (time.Time, time.Duration, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	wait, by, err := l.take(now, claims)
	return now, wait, by, err
}

// Done moves the admission at admitted of a call under every claim to
// where it settles now that its answer came back (Claim.Settle). Calls
// admitted at the same time are alike in a log, so which of them moves
// does not matter; an admission already gone is left alone.
func (l *Logs) Done(claims []Claim, admitted time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, c := range claims {
		to := c.Settle(admitted, now)
		if !to.After(admitted) {
			continue
		}
		log := l.logs[c.Key]
		i, found := slices.BinarySearchFunc(log, admitted, func(t, at time.Time) int { return t.Compare(at) })
		if !found {
			continue
		}
		log = slices.Delete(log, i, i+1)
		j, _ := slices.BinarySearchFunc(log, to, func(t, at time.Time) int { return t.Compare(at) })
		l.logs[c.Key] = slices.Insert(log, j, to)
	}
}

func (l *Logs) take(now time.Time, claims []Claim) (time.Duration, string, error) {
	var wait time.Duration
	var by string
	hold := func(d time.Duration, key string) {
		if d > wait {
			wait, by = d, key
		}
	}
	for _, c := range claims {
		if until, ok := l.blocked[c.Key]; ok {
			if until.After(now) {
				hold(until.Sub(now), c.Key)
			} else {
				delete(l.blocked, c.Key)
			}
		}
	}
	if wait > 0 {
		return wait, by, nil
	}
	// pending counts the claims already granted to this call under a key.
	pending := map[string]int{}
	for _, c := range claims {
		log := l.trim(c.Key, now, c.Limits)
		p := pending[c.Key]
		for _, lim := range c.Limits {
			if lim.none() {
				continue
			}
			if p >= lim.N {
				return 0, "", fmt.Errorf("rate limit %s: %d calls at once, more than its limit of %d per %s", c.Key, p+1, lim.N, lim.Per)
			}
			hold(refusal(log, p, now, lim), c.Key)
		}
		pending[c.Key] = p + 1
	}
	if wait > 0 {
		return wait, by, nil
	}
	for _, c := range claims {
		// A settled admission may lie after now: keep the log in order.
		log := l.logs[c.Key]
		j, _ := slices.BinarySearchFunc(log, now, func(t, at time.Time) int {
			if t.After(at) {
				return 1
			}
			return -1
		})
		l.logs[c.Key] = slices.Insert(log, j, now)
	}
	return 0, "", nil
}

// trim drops the admissions of key that no limit of the claim counts any
// more and returns the rest, oldest first.
func (l *Logs) trim(key string, now time.Time, limits []Limit) []time.Time {
	var longest time.Duration
	for _, lim := range limits {
		if !lim.none() {
			longest = max(longest, lim.Per)
		}
	}
	log := l.logs[key]
	// The window is closed: an admission exactly longest ago still counts.
	i, _ := slices.BinarySearchFunc(log, now.Add(-longest), func(t, cut time.Time) int { return t.Compare(cut) })
	log = log[i:]
	if len(log) == 0 {
		delete(l.logs, key)
		return nil
	}
	l.logs[key] = log
	return log
}

// refusal is 0 when fewer than lim.N of the sorted log and p calls at now
// lie in the closed window of lim.Per ending at now, else the time until
// enough of the log has left it. The caller makes sure p < lim.N, so the
// log holds the admission that must leave.
func refusal(log []time.Time, p int, now time.Time, lim Limit) time.Duration {
	k := len(log) - (lim.N - p)
	if k < 0 || log[k].Before(now.Add(-lim.Per)) {
		return 0
	}
	// The k-th admission leaves the closed window just after it is Per old.
	return log[k].Add(lim.Per).Sub(now) + time.Nanosecond
}

// Block holds every call under key back until the given time; an earlier
// time than a block already held changes nothing.
func (l *Logs) Block(key string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.blocked[key]) {
		l.blocked[key] = until
	}
}
