// Package ratelimit paces calls to the platforms with limits kept in Redis,
// so that several replicas together stay within one platform limit and a
// refusal seen by one of them holds back all of them.
//
// # Guarantee
//
// Two algorithms keep "at most Events in any window of Per", both as one
// script on one Redis clock, so that the bound holds across replicas; it
// does not survive changing a key's limit while calls are under way, nor a
// failover that loses the latest write or moves to a server whose clock
// runs ahead.
//
// Wait paces with a GCRA (generic cell rate
// algorithm, a token bucket kept as one timestamp), which spreads calls
// evenly, as chats suit. A Limit of Events per Per with Burst has burst
// B = min(max(Burst, 1), Events) and emission interval
// T = 1.01·Per / (Events − B + 1). GCRA admits n calls whose admission
// times span s only if n ≤ B + s/T, so a window shorter than 1.01·Per holds
// fewer than B + (Events − B + 1) = Events + 1 admissions: at most Events
// in any window of Per (closed or not), with 1% of Per to spare for the
// time between an admission and the call reaching the platform. B calls
// may go at once; after that the pace is one per T, so a burst close to
// Events makes the pace crawl.
//
// The Telegram and Mastodon adapters keep an exact sliding-window log
// instead, since both platforms count their limits in windows, a burst of
// articles should go at once when the window has room, and the steady pace
// is then the whole limit (less the margin telegram.Rate.Window adds to
// the window): the key's admission times (by the
// Redis server's clock, in µs) are kept, and a call is admitted only while
// fewer than N of them lie in the closed window of Per that ends now. So
// up to N calls go at once and no closed window of Per ever holds more
// than N; a refused call learns when the admission that blocks it leaves
// the window. Mastodon's margin against the platform is in N (the default
// budgets keep 5% of its limits for other clients), Telegram's in time
// (the window is 3% longer than Telegram's). Taking
// the time inside a writing script needs Redis 5 or later.
//
// A Block (after a 429) holds every Wait on its key, in every replica,
// until the given time; a later Block can extend it, never shorten it.
// Block times are wall-clock instants from the callers' clocks, which
// replicas are expected to keep in sync. A block is read before the bucket
// or log is touched, in a separate command, so a call that passed the
// check just before a Block still goes, like the calls other replicas
// already had in flight. Blocks hold both kinds of limit alike.
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
// of a limited key share one hash tag and so one Cluster slot. Every key
// expires by itself; the bucket's lies outside P because redis_rate puts
// its own prefix first.
//
//	P:{l:<key>}:blocked          STRING  blocked until (Unix ms); expires a minute after that
//	rate:P:{l:<key>}:gcra        STRING  GCRA theoretical arrival time, kept by redis_rate
//	                                     (which adds "rate:"); expires once the burst is whole again
//	P:{l:<key>}:log              ZSET    sliding-window log: one random member per admission,
//	                                     scored by its time (Unix µs, server clock); expires a
//	                                     window after the latest admission
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
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

// Limit allows at most Events calls in any window of length Per, of which
// up to Burst may go at once; Events or Per ≤ 0 means no limit (blocks
// still hold).
type Limit struct {
	Events int
	Per    time.Duration
	Burst  int
}

// unlimited reports a limit that only blocks can hold back.
func (l Limit) unlimited() bool { return l.Events <= 0 || l.Per <= 0 }

// gcra maps the window limit onto GCRA so that no window of Per ever holds
// more than Events admissions (see the package doc for the bound).
func (l Limit) gcra() redis_rate.Limit {
	burst := min(max(l.Burst, 1), l.Events)
	return redis_rate.Limit{Rate: l.Events - burst + 1, Burst: burst, Period: l.Per + l.Per/100}
}

// Limiter keeps shared limits and blocks in Redis; it is safe for
// concurrent use.
type Limiter struct {
	rdb          redis.UniversalClient
	gcra         *redis_rate.Limiter
	prefix       string
	now          func() time.Time
	sleep        func(ctx context.Context, d time.Duration) error
	blockTimeout time.Duration
	log          *slog.Logger
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
		rdb: rdb, gcra: redis_rate.NewLimiter(rdb), prefix: o.Prefix,
		now: o.Now, sleep: o.Sleep, blockTimeout: o.BlockTimeout, log: o.Logger,
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

// gcraKey is the key handed to redis_rate, which stores it under "rate:".
func (l *Limiter) gcraKey(key string) string { return l.tagged(key) + ":gcra" }

// logKey holds the key's sliding-window log.
func (l *Limiter) logKey(key string) string { return l.tagged(key) + ":log" }

// Wait returns once one more call under key is allowed by limit and no
// block holds it, or with an error when ctx ends, when its deadline comes
// before the call could go (at once, without sleeping), or when Redis
// fails.
func (l *Limiter) Wait(ctx context.Context, key string, limit Limit) error {
	return l.wait(ctx, key, l.takeGCRA(key, limit), l.beforeDeadline(ctx, key))
}

// beforeDeadline gives up a wait that would pass ctx's deadline, at once.
func (l *Limiter) beforeDeadline(ctx context.Context, key string) func(time.Duration) error {
	return func(d time.Duration) error {
		if dl, ok := ctx.Deadline(); ok && l.now().Add(d).After(dl) {
			return fmt.Errorf("rate limit %s: a wait of %s would pass the deadline: %w", key, d, context.DeadlineExceeded)
		}
		return nil
	}
}

// takeFunc takes a slot of one limited key and returns 0, or returns how
// long until one may be free.
type takeFunc func(ctx context.Context) (time.Duration, error)

// wait loops until no block holds key and take took a slot; giveUp, asked
// before every sleep, ends the wait with its error instead.
func (l *Limiter) wait(ctx context.Context, key string, take takeFunc, giveUp func(time.Duration) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("rate limit %s: %w", key, err)
		}
		d, err := l.take(ctx, key, take)
		if err != nil {
			return err
		}
		if d <= 0 {
			return nil
		}
		if err := giveUp(d); err != nil {
			return err
		}
		if err := l.sleep(ctx, d); err != nil {
			return fmt.Errorf("rate limit %s: %w", key, err)
		}
	}
}

// take checks the block first, so that a blocked key spends nothing, and
// then takes a slot.
func (l *Limiter) take(ctx context.Context, key string, take takeFunc) (time.Duration, error) {
	until, err := l.blockedUntil(ctx, key)
	if err != nil {
		return 0, err
	}
	if d := until.Sub(l.now()); d > 0 {
		return d, nil
	}
	return take(ctx)
}

// takeGCRA takes slots of limit from the key's GCRA bucket.
func (l *Limiter) takeGCRA(key string, limit Limit) takeFunc {
	return func(ctx context.Context) (time.Duration, error) {
		if limit.unlimited() {
			return 0, nil
		}
		res, err := l.gcra.Allow(ctx, l.gcraKey(key), limit.gcra())
		if err != nil {
			return 0, fmt.Errorf("rate limit %s: take a slot: %w", key, err)
		}
		if res.Allowed > 0 {
			return 0, nil
		}
		return max(res.RetryAfter, minRetry), nil
	}
}

// blockedUntil reads the key's block; the zero time means none.
func (l *Limiter) blockedUntil(ctx context.Context, key string) (time.Time, error) {
	v, err := l.rdb.Get(ctx, l.blockedKey(key)).Result()
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
