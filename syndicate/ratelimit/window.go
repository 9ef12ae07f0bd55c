package ratelimit

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// windowScript keeps a key's sliding-window log: it admits a call while
// fewer than N admissions lie in the closed window of W that ends now, and
// takes now from the server, so that the callers' clocks never matter.
// Redis replicates a script by its effects (always since 7.0, by default
// since 5.0), which is what lets TIME come before a write.
// KEYS[1] the log; ARGV[1] N; ARGV[2] W (µs); ARGV[3] a member unique to
// this call; ARGV[4] the log's lifetime (ms). It returns 0 when the call
// is admitted, else the µs until an admission leaves the window.
// string.format writes the cut-off because Lua's own number to string
// conversion keeps 14 digits, too few for microseconds since 1970.
var windowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - w))
local count = redis.call('ZCARD', KEYS[1])
if count < n then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], count - n, count - n, 'WITHSCORES')
return tonumber(first[2]) + w - now + 1
`)

// takeWindow takes slots of at most events in any window of per from the
// key's log; events or per ≤ 0 means no limit.
func (l *Limiter) takeWindow(key string, events int, per time.Duration) takeFunc {
	return func(ctx context.Context) (time.Duration, error) {
		if events <= 0 || per <= 0 {
			return 0, nil
		}
		window := max(per.Microseconds(), 1)
		// A lifetime of a window, rounded up, plus a millisecond: by then
		// the latest admission has left the window.
		ttl := (per + time.Millisecond - 1).Milliseconds() + 1
		wait, err := windowScript.Run(ctx, l.rdb, []string{l.logKey(key)}, events, window, rand.Text(), ttl).Int64()
		if err != nil {
			return 0, fmt.Errorf("rate limit %s: take a slot: %w", key, err)
		}
		if wait <= 0 {
			return 0, nil
		}
		return max(time.Duration(wait)*time.Microsecond, minRetry), nil
	}
}
