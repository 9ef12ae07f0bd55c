package ratelimit

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate/window"
)

// windowScript keeps a key's sliding-window log: it admits a call while,
// for every limit, fewer than N admissions lie in the closed window of W
// that ends now, and takes now from the server, so that the callers'
// clocks never matter. Redis replicates a script by its effects (always
// since 7.0, by default since 5.0), which is what lets TIME come before a
// write.
// KEYS[1] the log; ARGV[1] a member unique to this call; ARGV[2] the
// log's lifetime (ms); then a pair per limit: N, W (µs). It returns 0 when
// the call is admitted, else the µs until enough admissions have left the
// windows. string.format writes the cut-off because Lua's own number to
// string conversion keeps 14 digits, too few for microseconds since 1970.
var windowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local longest = 0
for i = 3, #ARGV, 2 do
  longest = math.max(longest, tonumber(ARGV[i + 1]))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - longest))
local count = redis.call('ZCARD', KEYS[1])
local wait = 0
for i = 3, #ARGV, 2 do
  local n = tonumber(ARGV[i])
  if count >= n then
    local first = redis.call('ZRANGE', KEYS[1], count - n, count - n, 'WITHSCORES')
    wait = math.max(wait, tonumber(first[2]) + tonumber(ARGV[i + 1]) - now + 1)
  end
end
if wait > 0 then
  return wait
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
`)

// admitted is a slot a call took, which it gives back when another key
// refuses the call.
type admitted struct {
	key, member string
	claim       window.Claim
}

// takeWindow takes a slot of the claim's limits from the key's log and
// returns 0 and the slot's member, or how long until one may be free. A
// claim without limits takes nothing.
func (l *Limiter) takeWindow(ctx context.Context, c window.Claim) (time.Duration, string, error) {
	args := []any{rand.Text(), lifetime(c)}
	for _, lim := range c.Limits {
		if lim.N <= 0 || lim.Per <= 0 {
			continue
		}
		args = append(args, lim.N, max(lim.Per.Microseconds(), 1))
	}
	if len(args) == 2 {
		return 0, "", nil
	}
	wait, err := windowScript.Run(ctx, l.rdb, []string{l.logKey(c.Key)}, args...).Int64()
	if err != nil {
		return 0, "", fmt.Errorf("rate limit %s: take a slot: %w", c.Key, err)
	}
	if wait > 0 {
		return max(time.Duration(wait)*time.Microsecond, minRetry), "", nil
	}
	return 0, args[0].(string), nil
}

// giveBack removes the slots a refused call took. A slot that cannot be
// given back only leaves its key a call short for a window, so a failure
// is logged, not returned.
func (l *Limiter) giveBack(taken []admitted) {
	l.eachSlot(taken, "rate limit slot not given back", func(ctx context.Context, a admitted) error {
		return l.rdb.ZRem(ctx, l.logKey(a.key), a.member).Err()
	})
}

// eachSlot runs fn on each slot within the block timeout and logs its
// failures with msg.
func (l *Limiter) eachSlot(taken []admitted, msg string, fn func(ctx context.Context, a admitted) error) {
	if len(taken) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.blockTimeout)
	defer cancel()
	for _, a := range taken {
		if err := fn(ctx, a); err != nil {
			l.log.Warn(msg, "key", a.key, "error", err)
		}
	}
}

// settleScript moves a slot to where its call settles (window.Claim.Settle)
// once the answer came back: to the server's now less the claim's margin
// when that is later than its admission. It keeps the log alive for a
// window after that, as an admission would.
// KEYS[1] the log; ARGV[1] the slot's member; ARGV[2] the margin (µs);
// ARGV[3] the log's lifetime (ms).
var settleScript = redis.NewScript(`
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not at then
  return 0
end
local t = redis.call('TIME')
local to = tonumber(t[1]) * 1000000 + tonumber(t[2]) - tonumber(ARGV[2])
if to <= tonumber(at) then
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', string.format('%d', to), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// settle moves the slots a finished call took (see settleScript). A slot
// that cannot be moved stays where it was admitted, as with the margin
// alone, so a failure is logged, not returned.
func (l *Limiter) settle(taken []admitted) {
	l.eachSlot(taken, "rate limit slot not settled", func(ctx context.Context, a admitted) error {
		margin, ok := a.claim.Margin()
		if !ok {
			return nil
		}
		return settleScript.Run(ctx, l.rdb, []string{l.logKey(a.key)}, a.member, margin.Microseconds(), lifetime(a.claim)).Err()
	})
}

// lifetime is how long a claim's log lives after an admission or a
// settling, in ms: the longest window, rounded up, plus a millisecond; by
// then the latest admission has left every window.
func lifetime(c window.Claim) int64 {
	var longest time.Duration
	for _, lim := range c.Limits {
		if lim.N > 0 && lim.Per > 0 {
			longest = max(longest, lim.Per)
		}
	}
	return (longest + time.Millisecond - 1).Milliseconds() + 1
}
