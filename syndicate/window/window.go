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
package window

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Limit allows at most N calls in any closed window of length Per; N or
// Per ≤ 0 means no limit.
type Limit struct {
	N   int
	Per time.Duration
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
	return Limit{N: n, Per: per + Margin(per)}
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
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
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
		l.logs[c.Key] = append(l.logs[c.Key], now)
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
