// Package ratelimit paces calls to the platforms with limits kept in Redis,
// so that several replicas together stay within one platform limit and a
// refusal seen by one of them holds back all of them.
//
// # Guarantee
//
// The limits are sliding-window logs (package window), kept in Redis and
// judged by one script on the Redis server's clock, so that the bound
// holds across replicas: a call is admitted only while fewer than N
// admissions of its key lie in the closed window of Per that ends now, so
// up to N calls go at once and no closed window of Per ever holds more
// than N; a refused call learns when the admission that blocks it leaves
// the window. The windows are the platforms' lengthened by their margin
// (window.Platform), which covers the time from admission to arrival at
// the platform where it differs between calls, the replicas' round trips
// to Redis included; a call that Start admitted is settled when its answer
// comes back (window.Claim.Settle, one more script on the server's clock),
// so that a call held longer than the margin does not let the next one in
// early. The bound does not survive changing a key's limit
// while calls are under way, nor a failover that loses the latest write
// or moves to a server whose clock runs behind. Taking the time inside a
// writing script needs Redis 5 or later.
//
// A call counted under several keys (a Telegram post under its chat and
// its bot, a Mastodon status under its statuses and requests) takes them
// in turn, one script each, and gives back what it took when a later key
// refuses it: so a call is never left counted under some keys and refused
// by another, and what it held for those few round trips only makes
// another caller wait a little longer. Each key is taken in the first
// round trip after the previous one, so the call is counted under its
// first key at most a few round trips before the last, well within the
// margin.
//
// Within one process, callers refused by one key wait for it in turn: only
// the first asks Redis again when the key frees, so that a slot freeing
// does not wake every waiting caller of every replica at once.
//
// A Block (after a 429) holds every Wait on its key, in every replica,
// until the given time; a later Block can extend it, never shorten it.
// Block times are wall-clock instants from the callers' clocks, which
// replicas are expected to keep in sync. Blocks are read before any log is
// touched, in separate commands, so a call that passed the check just
// before a Block still goes, like the calls other replicas already had in
// flight.
//
// When Redis fails, Wait returns the error at once (no retries of its own
// beyond the client's) and Block logs it: callers treat the former as a
// temporary failure, and a lost block only means the platform refuses
// again.
//
// # Key layout
//
// P is Options.Prefix; <key> is the limited key with '%', '{' and '}'
// percent-escaped, so that it can never end or open a hash tag. All keys
// of a limited key share one hash tag and so one Cluster slot, and every
// key expires by itself.
//
//	P:{l:<key>}:blocked          STRING  blocked until (Unix ms); expires a minute after that
//	P:{l:<key>}:log              ZSET    sliding-window log: one random member per admission,
//	                                     scored by its time (Unix µs, server clock): its
//	                                     admission, or where it settled; expires a window
//	                                     after the latest admission or settling
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate/window"
)

// DefaultPrefix namespaces keys when Options.Prefix is empty.
const DefaultPrefix = "syndicate"

// blockGrace keeps a block key this long past its time, so that a server
// clock running ahead of the callers' cannot drop a block early.
const blockGrace = time.Minute

// minRetry floors the pause after a refusal, so that a rounding-small
// retry time can never turn the loop into a spin.
const minRetry = time.Millisecond

// Options tune New.
type Options struct {
	// Prefix namespaces every key (default DefaultPrefix); it must not
	// contain '{' or '}'.
	Prefix string
	// Now is the clock blocks are set and judged by (default time.Now).
	Now func() time.Time
	// Sleep waits for d or until ctx is done (default a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// BlockTimeout bounds storing a block, which has no context of its
	// own (default 5s).
	BlockTimeout time.Duration
	// Logger reports blocks that could not be stored (default discard).
	Logger *slog.Logger
}

// Limiter keeps shared limits and blocks in Redis; it is safe for
// concurrent use.
type Limiter struct {
	rdb          redis.UniversalClient
	prefix       string
	now          func() time.Time
	sleep        func(ctx context.Context, d time.Duration) error
	blockTimeout time.Duration
	log          *slog.Logger

	// turns line up this process's callers refused by one key.
	turnsMu sync.Mutex
	turns   map[string]*turn
}

// New returns a limiter on rdb, which stays the caller's to close (the
// store usually shares it).
func New(rdb redis.UniversalClient, o Options) (*Limiter, error) {
	if rdb == nil {
		return nil, errors.New("rate limiter: nil redis client")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, fmt.Errorf("rate limiter: prefix %q must not contain '{' or '}'", o.Prefix)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.BlockTimeout <= 0 {
		o.BlockTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Limiter{
		rdb: rdb, prefix: o.Prefix, now: o.Now, sleep: o.Sleep, blockTimeout: o.BlockTimeout, log: o.Logger,
		turns: map[string]*turn{},
	}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keyEscaper makes a key safe inside a hash tag; escaping '%' too keeps the
// mapping one-to-one.
var keyEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

// tagged is the common part of a limited key's Redis keys.
func (l *Limiter) tagged(key string) string {
	return l.prefix + ":{l:" + keyEscaper.Replace(key) + "}"
}

func (l *Limiter) blockedKey(key string) string { return l.tagged(key) + ":blocked" }

// logKey holds the key's sliding-window log.
func (l *Limiter) logKey(key string) string { return l.tagged(key) + ":log" }

// Wait returns once one call may go under every claim, counted under all
// of them at once, with no block holding any of their keys; or with an
// error when ctx ends, when its deadline comes before the call could go
// (at once, without sleeping), or when Redis fails.
func (l *Limiter) Wait(ctx context.Context, claims ...window.Claim) error {
	_, err := l.Start(ctx, claims...)
	return err
}

// Start is Wait for a call whose answer the caller waits for: done, called
// once the answer came back or the call failed, settles the call's slots
// (see StartOr).
func (l *Limiter) Start(ctx context.Context, claims ...window.Claim) (done func(), err error) {
	return l.StartOr(ctx, claims, func(key string, d time.Duration) error {
		if dl, ok := ctx.Deadline(); ok && l.now().Add(d).After(dl) {
			return fmt.Errorf("rate limit %s: a wait of %s would pass the deadline: %w", key, d, context.DeadlineExceeded)
		}
		return nil
	})
}

// WaitOr loops until no block holds the claims' keys and every claim took
// a slot; giveUp, asked before every sleep with the key that refused and
// how long it asks to wait, ends the wait with its error instead (a
// platform that would rather hand the job back than wait long). A caller refused by a key waits for
// its turn on that key in this process, and keeps it until the key lets
// it through or another key refuses it.
func (l *Limiter) WaitOr(ctx context.Context, claims []window.Claim, giveUp func(key string, d time.Duration) error) error {
	_, err := l.StartOr(ctx, claims, giveUp)
	return err
}

// StartOr is WaitOr for a call whose answer the caller waits for: done,
// called once the answer came back or the call failed, moves each of the
// call's slots to where it settles (window.Claim.Settle, on the server's
// clock), so that a call slow to reach the platform does not let the next
// one in early. A slot that cannot be moved is logged: it stays where it
// was admitted, as a call counted by Wait does. done may be called more
// than once.
func (l *Limiter) StartOr(ctx context.Context, claims []window.Claim, giveUp func(key string, d time.Duration) error) (done func(), err error) {
	var held *turn
	defer func() { held.leave() }()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rate limit %s: %w", claimKeys(claims), err)
		}
		d, key, taken, err := l.take(ctx, claims)
		if err != nil {
			return nil, err
		}
		if d <= 0 {
			return sync.OnceFunc(func() { l.settle(taken) }), nil
		}
		if err := giveUp(key, d); err != nil {
			return nil, err
		}
		if t := l.turn(key); t != held {
			held.leave()
			held = nil
			if err := t.enter(ctx); err != nil {
				return nil, fmt.Errorf("rate limit %s: %w", key, err)
			}
			held = t
			// Whoever had the turn may have let the key through meanwhile:
			// ask again before sleeping.
			continue
		}
		if err := l.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("rate limit %s: %w", key, err)
		}
	}
}

func claimKeys(claims []window.Claim) string {
	keys := make([]string, len(claims))
	for i, c := range claims {
		keys[i] = c.Key
	}
	return strings.Join(keys, ", ")
}

// turn lets one caller of this process at a time wait for a key.
type turn struct{ ch chan struct{} }

// turn returns the key's turn, made on first use.
func (l *Limiter) turn(key string) *turn {
	l.turnsMu.Lock()
	defer l.turnsMu.Unlock()
	t, ok := l.turns[key]
	if !ok {
		t = &turn{ch: make(chan struct{}, 1)}
		l.turns[key] = t
	}
	return t
}

func (t *turn) enter(ctx context.Context) error {
	select {
	case t.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leave ends the turn; a nil turn is none.
func (t *turn) leave() {
	if t != nil {
		<-t.ch
	}
}

// take checks the blocks of every key first, so that a blocked key spends
// nothing, then takes a slot of each claim in turn, giving back what it
// took when one refuses. It returns 0, or how long until the call may be
// asked for again and the key that holds it back.
func (l *Limiter) take(ctx context.Context, claims []window.Claim) (time.Duration, string, []admitted, error) {
	var wait time.Duration
	var by string
	gets := make([]*redis.StringCmd, len(claims))
	// One round trip for all blocks; a missing block is no failure.
	_, _ = l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range claims {
			gets[i] = p.Get(ctx, l.blockedKey(c.Key))
		}
		return nil
	})
	for i, c := range claims {
		until, err := blockedUntil(c.Key, gets[i])
		if err != nil {
			return 0, "", nil, err
		}
		if d := until.Sub(l.now()); d > wait {
			wait, by = d, c.Key
		}
	}
	if wait > 0 {
		return wait, by, nil, nil
	}
	var taken []admitted
	for _, c := range claims {
		d, member, err := l.takeWindow(ctx, c)
		if err == nil && d <= 0 {
			if member != "" {
				taken = append(taken, admitted{key: c.Key, member: member, claim: c})
			}
			continue
		}
		l.giveBack(taken)
		return d, c.Key, nil, err
	}
	return 0, "", taken, nil
}

// blockedUntil reads the key's block from its GET; the zero time means
// none.
func blockedUntil(key string, get *redis.StringCmd) (time.Time, error) {
	v, err := get.Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("rate limit %s: read block: %w", key, err)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("rate limit %s: block %q is not a time: %w", key, v, err)
	}
	return time.UnixMilli(ms), nil
}

// blockScript stores a block unless one at least as long is stored: a
// late, shorter 429 must not release calls another replica holds back.
// KEYS[1] the block key; ARGV[1] until (Unix ms); ARGV[2] its lifetime (ms).
var blockScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tonumber(ARGV[1]) <= cur then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// Block holds every call under key back, in every replica, until the given
// time; an earlier time than a stored block changes nothing. Block has no
// way to report a failure, so it logs one: the platform will refuse again.
func (l *Limiter) Block(key string, until time.Time) {
	if err := l.block(key, until); err != nil {
		l.log.Warn("rate limit block not stored", "key", key, "until", until, "error", err)
	}
}

func (l *Limiter) block(key string, until time.Time) error {
	now := l.now()
	if !until.After(now) {
		return nil
	}
	// Round up, so that the stored block never ends before the given one.
	ms := until.UnixMilli()
	if until.After(time.UnixMilli(ms)) {
		ms++
	}
	// A lifetime rather than an expiry instant: the server's clock need not
	// agree with the callers'.
	ttl := (until.Sub(now) + blockGrace).Milliseconds()
	ctx, cancel := context.WithTimeout(context.Background(), l.blockTimeout)
	defer cancel()
	if err := blockScript.Run(ctx, l.rdb, []string{l.blockedKey(key)}, ms, ttl).Err(); err != nil {
		return fmt.Errorf("rate limit %s: store block: %w", key, err)
	}
	return nil
}
