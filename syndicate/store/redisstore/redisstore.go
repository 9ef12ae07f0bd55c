// Package redisstore keeps the syndicate state in Redis, so that several
// replicas can share one queue and the state survives any one of them.
//
// It works with a single node, Sentinel and Cluster through
// redis.UniversalClient. Enqueue, Claim, Extend, Finish and Requeue are
// each one Lua script over the keys of one destination, and LeaseFeed,
// ReleaseFeed, BeginPoll and EndPoll one over a feed's keys, so they are
// atomic; every key a script touches is passed in KEYS and shares one hash
// tag, so all of them live in one Cluster slot. Durability is Redis's:
// configure AOF (appendfsync everysec or always) for the guarantee the
// engine documents.
//
// A poll costs round trips, not commands: BeginPoll is one, EndPoll one
// (two on a Cluster when it registers the feed), and a poll that got new
// content one more, SeenFingerprints, for all of the feed's items at once,
// and one for Enqueue, whatever the number of destinations.
//
// # Key layout
//
// P is Options.Prefix; <feed> and <dest> are ids with '%', '{' and '}'
// percent-escaped, so that an id can never end or open a hash tag.
//
//	P:{f:<feed>}:state  STRING  JSON FeedState
//	P:{f:<feed>}:seen   ZSET    item key, scored by last seen (Unix µs)
//	P:{f:<feed>}:fp     HASH    item key → fingerprint
//	P:{f:<feed>}:lease  HASH    owner → the poll lease's holder, until → its expiry (Unix µs)
//	P:{f:<feed>}:push   STRING  JSON PushState
//	P:{d:<dest>}:jobs   HASH    article key → JSON Delivery without its item
//	P:{d:<dest>}:items  HASH    article key → JSON Item
//	P:{d:<dest>}:order  ZSET    queued and sending article keys, scored by Seq
//	P:{d:<dest>}:due    ZSET    the same keys, scored by when they may be claimed
//	                            (NotBefore when queued, LeaseUntil when sending; Unix µs)
//	P:{d:<dest>}:done   ZSET    final article keys, scored by FinishedAt (Unix µs)
//	P:{d:<dest>}:seq    STRING  the last Seq given out
//	P:{d:<dest>}:state  STRING  JSON DestinationState
//	P:feeds             SET     feed ids with seen keys, for Prune
//	P:dests             SET     destination ids with records, for Prune
//
// The item is kept apart from the record because the scripts decode and
// re-encode records with cjson, whose numbers are doubles: item fields come
// from feeds (an attachment length can be any integer) and pass through the
// scripts as opaque strings. Times compared in scripts are microseconds,
// which doubles hold exactly.
//
// Prune bounds memory: it trims the seen sets and deletes final records
// older than its cut-off. A feed's or destination's state key stays.
//
// A feed lease is judged by the callers' clock, like every time here; its
// key also expires on the server's clock a minute after the lease would,
// so that a lease its holder never released vanishes without Prune.
package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// DefaultPrefix namespaces keys when Options.Prefix is empty.
const DefaultPrefix = "syndicate"

// leaseGrace is how much longer than the lease itself a lease key lives on
// the server, so that a caller's clock running slightly behind the
// server's cannot lose a lease early.
const leaseGrace = time.Minute

// pruneBatch bounds the keys one prune script deletes, so that no script
// blocks the server for long.
const pruneBatch = 500

// Options tune New.
type Options struct {
	// Prefix namespaces every key (default DefaultPrefix); it must not
	// contain '{' or '}'.
	Prefix string
}

// Store is a syndicate.Store in Redis.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ syndicate.Store = (*Store)(nil)

// New returns a store using rdb, which it owns from then on: Close closes it.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redis store: nil client")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("redis store: prefix %q must not contain '{' or '}'", opts.Prefix)
	}
	return &Store{rdb: rdb, prefix: opts.Prefix}, nil
}

// idEscaper makes an id safe inside a hash tag; escaping '%' too keeps the
// mapping one-to-one.
var idEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

func (s *Store) feedKey(feedID, suffix string) string {
	return s.prefix + ":{f:" + idEscaper.Replace(feedID) + "}:" + suffix
}

func (s *Store) destKey(dest, suffix string) string {
	return s.prefix + ":{d:" + idEscaper.Replace(dest) + "}:" + suffix
}

// destKeys are the keys of one destination, in the order the scripts expect.
func (s *Store) destKeys(dest string) []string {
	return []string{
		s.destKey(dest, "jobs"),
		s.destKey(dest, "items"),
		s.destKey(dest, "order"),
		s.destKey(dest, "due"),
		s.destKey(dest, "done"),
		s.destKey(dest, "seq"),
	}
}

func (s *Store) feedsKey() string { return s.prefix + ":feeds" }
func (s *Store) destsKey() string { return s.prefix + ":dests" }

// Close closes the client.
func (s *Store) Close() error {
	if err := s.rdb.Close(); err != nil {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// LoadFeed returns the state of a feed, zero when never saved.
func (s *Store) LoadFeed(ctx context.Context, feedID string) (syndicate.FeedState, error) {
	var st syndicate.FeedState
	if err := s.getJSON(ctx, s.feedKey(feedID, "state"), &st); err != nil {
		return syndicate.FeedState{}, fmt.Errorf("redis load feed %s: %w", feedID, err)
	}
	return st, nil
}

// SaveFeed replaces the state of a feed.
func (s *Store) SaveFeed(ctx context.Context, feedID string, st syndicate.FeedState) error {
	if err := s.setJSON(ctx, s.feedKey(feedID, "state"), st); err != nil {
		return fmt.Errorf("redis save feed %s: %w", feedID, err)
	}
	return nil
}

// LoadDestination returns the state of a destination, zero when never saved.
func (s *Store) LoadDestination(ctx context.Context, destination string) (syndicate.DestinationState, error) {
	var st syndicate.DestinationState
	if err := s.getJSON(ctx, s.destKey(destination, "state"), &st); err != nil {
		return syndicate.DestinationState{}, fmt.Errorf("redis load destination %s: %w", destination, err)
	}
	return st, nil
}

// SaveDestination replaces the state of a destination.
func (s *Store) SaveDestination(ctx context.Context, destination string, st syndicate.DestinationState) error {
	if err := s.setJSON(ctx, s.destKey(destination, "state"), st); err != nil {
		return fmt.Errorf("redis save destination %s: %w", destination, err)
	}
	return nil
}

func (s *Store) getJSON(ctx context.Context, key string, v any) error {
	raw, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func (s *Store) setJSON(ctx context.Context, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, key, raw, 0).Err()
}

// SeenFingerprints returns the fingerprints of those keys seen in the feed.
func (s *Store) SeenFingerprints(ctx context.Context, feedID string, keys []string) (map[string]string, error) {
	out := make(map[string]string)
	if len(keys) == 0 {
		return out, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.feedKey(feedID, "fp"), keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("redis seen fingerprints of feed %s: %w", feedID, err)
	}
	for i, v := range vals {
		if fp, ok := v.(string); ok {
			out[keys[i]] = fp
		}
	}
	return out, nil
}

// MarkSeen records keys of a feed as seen at now with their fingerprints.
func (s *Store) MarkSeen(ctx context.Context, feedID string, seen map[string]string, now time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	// Registered first, so that Prune always finds what is written below.
	if err := s.rdb.SAdd(ctx, s.feedsKey(), feedID).Err(); err != nil {
		return fmt.Errorf("redis mark seen in feed %s: %w", feedID, err)
	}
	score := float64(floorMicros(now))
	members := make([]redis.Z, 0, len(seen))
	fps := make([]any, 0, 2*len(seen))
	for k, fp := range seen {
		members = append(members, redis.Z{Score: score, Member: k})
		fps = append(fps, k, fp)
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, s.feedKey(feedID, "seen"), members...)
		p.HSet(ctx, s.feedKey(feedID, "fp"), fps...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis mark seen in feed %s: %w", feedID, err)
	}
	return nil
}

// enqueueScript adds jobs to one destination. KEYS are destKeys; ARGV holds
// five values per job: kind, article key, record JSON, item JSON, due score.
// It returns, per job, the stored record JSON or "" when the job was skipped.
var enqueueScript = redis.NewScript(`
local jobs, items, order, due, done, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local out = {}
for i = 1, #ARGV, 5 do
  local kind, key, recjson, itemjson, dueat = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  local cur = redis.call('HGET', jobs, key)
  local rec = nil
  if kind == 'post' then
    if not cur then
      rec = cjson.decode(recjson)
    end
  elseif cur then
    local old = cjson.decode(cur)
    if old.status == 'sent' then
      rec = cjson.decode(recjson)
      rec.sent_at = old.sent_at
      rec.message_ids = old.message_ids
      rec.fingerprint = old.fingerprint
      redis.call('ZREM', done, key)
    elseif old.status == 'queued' then
      redis.call('HSET', items, key, itemjson)
    end
  end
  if rec then
    rec.seq = redis.call('INCR', seq)
    local enc = cjson.encode(rec)
    redis.call('HSET', jobs, key, enc)
    redis.call('HSET', items, key, itemjson)
    redis.call('ZADD', order, rec.seq, key)
    redis.call('ZADD', due, dueat, key)
    out[#out+1] = enc
  else
    out[#out+1] = ''
  end
end
return out
`)

// Enqueue adds the jobs, in order, skipping posts of articles already
// recorded and edits of articles not sent. Jobs of one destination are
// added atomically by one script; the scripts of all destinations go in
// one pipeline, after the destinations are registered for Prune.
func (s *Store) Enqueue(ctx context.Context, jobs []syndicate.Delivery, now time.Time) ([]syndicate.Delivery, error) {
	var dests []string
	byDest := map[string][]int{}
	for i, j := range jobs {
		if err := j.ValidateJob(); err != nil {
			return nil, fmt.Errorf("redis enqueue: %w", err)
		}
		if _, ok := byDest[j.Destination]; !ok {
			dests = append(dests, j.Destination)
		}
		byDest[j.Destination] = append(byDest[j.Destination], i)
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	members := make([]any, len(dests))
	calls := make([]*scriptCall, len(dests))
	for n, dest := range dests {
		args, err := enqueueArgs(jobs, byDest[dest], now)
		if err != nil {
			return nil, fmt.Errorf("redis enqueue %s: %w", dest, err)
		}
		members[n] = dest
		calls[n] = &scriptCall{script: enqueueScript, keys: s.destKeys(dest), args: args}
	}
	if err := s.registerAndRun(ctx, s.destsKey(), members, calls); err != nil {
		return nil, fmt.Errorf("redis enqueue: %w", err)
	}
	addedAt := make([]*syndicate.Delivery, len(jobs))
	for n, dest := range dests {
		if err := enqueued(calls[n].cmd, jobs, byDest[dest], addedAt); err != nil {
			return nil, fmt.Errorf("redis enqueue %s: %w", dest, err)
		}
	}
	var added []syndicate.Delivery
	for _, d := range addedAt {
		if d != nil {
			added = append(added, *d)
		}
	}
	return added, nil
}

// enqueueArgs are the ARGV of enqueueScript for the jobs at idx.
func enqueueArgs(jobs []syndicate.Delivery, idx []int, now time.Time) ([]any, error) {
	args := make([]any, 0, 5*len(idx))
	for _, i := range idx {
		d := jobs[i]
		d.Status = syndicate.StatusQueued
		d.EnqueuedAt = now
		d.Seq = 0
		d.Owner, d.LeaseUntil, d.FinishedAt = "", time.Time{}, time.Time{}
		rec, item, err := encodeRecord(d)
		if err != nil {
			return nil, err
		}
		args = append(args, string(d.Kind), d.ArticleKey, rec, item, ceilMicros(d.NotBefore))
	}
	return args, nil
}

// enqueued decodes enqueueScript's answer for the jobs at idx into addedAt.
func enqueued(cmd *redis.Cmd, jobs []syndicate.Delivery, idx []int, addedAt []*syndicate.Delivery) error {
	res, err := cmd.StringSlice()
	if err != nil {
		return err
	}
	if len(res) != len(idx) {
		return fmt.Errorf("script returned %d results for %d jobs", len(res), len(idx))
	}
	for n, i := range idx {
		if res[n] == "" {
			continue
		}
		d, err := decodeRecord(res[n], "")
		if err != nil {
			return err
		}
		d.Item = jobs[i].Item
		addedAt[i] = &d
	}
	return nil
}

// scriptCall is one script run by registerAndRun; cmd holds its answer.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
}

// registerAndRun adds members to the registry set at setKey (nothing when
// members is empty) and then runs the calls, in one pipeline: the server
// runs a connection's commands in order, so the members are registered
// before the scripts write what Prune must find, and the whole costs one
// round trip. A Cluster client sends a pipeline to its nodes concurrently,
// which would lose that order, so there the registration is a round trip
// of its own, first. A script the server lacks (first use, restart,
// SCRIPT FLUSH) did not run, and is run again with EVAL, which loads it.
func (s *Store) registerAndRun(ctx context.Context, setKey string, members []any, calls []*scriptCall) error {
	if _, cluster := s.rdb.(*redis.ClusterClient); cluster && len(members) > 0 {
		if err := s.rdb.SAdd(ctx, setKey, members...).Err(); err != nil {
			return fmt.Errorf("register in %s: %w", setKey, err)
		}
		members = nil
	}
	var sadd *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if len(members) > 0 {
			sadd = p.SAdd(ctx, setKey, members...)
		}
		for _, c := range calls {
			c.cmd = c.script.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	if sadd != nil && sadd.Err() != nil {
		return fmt.Errorf("register in %s: %w", setKey, sadd.Err())
	}
	for _, c := range calls {
		if isNoScript(c.cmd.Err()) {
			c.cmd = c.script.Eval(ctx, s.rdb, c.keys, c.args...)
		}
		if c.cmd.Err() != nil {
			return c.cmd.Err()
		}
	}
	// The pipeline's error is its first failing command's: one the server
	// lacked a script for was run again above.
	if err != nil && !isNoScript(err) {
		return err
	}
	return nil
}

// isNoScript reports the server's answer to EVALSHA of a script it lacks.
func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}

// claimScript leases due jobs, oldest first, and none while a job of the
// destination is sending under a live lease (a not-due entry whose record
// is sending). KEYS are destKeys; ARGV: now, owner, lease-until score,
// lease-until text, n. It returns record and item JSON, alternating.
var claimScript = redis.NewScript(`
local jobs, items, order, due = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, owner, leasescore, leasetext, n = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local out = {}
-- Strict order: take from the head of the queue while it is due; a head
-- that is not (in flight under a live lease, or held back by not_before)
-- keeps the whole destination waiting.
for _, key in ipairs(redis.call('ZRANGE', order, 0, n - 1)) do
  local at = tonumber(redis.call('ZSCORE', due, key) or '0')
  if at > now then break end
  local rec = cjson.decode(redis.call('HGET', jobs, key))
  rec.status = 'sending'
  rec.owner = owner
  rec.lease_until = leasetext
  local enc = cjson.encode(rec)
  redis.call('HSET', jobs, key, enc)
  redis.call('ZADD', due, leasescore, key)
  out[#out+1] = enc
  out[#out+1] = redis.call('HGET', items, key)
end
return out
`)

// Claim leases up to n due jobs of the destination, oldest first, and none
// while a job of the destination is sending under a live lease.
func (s *Store) Claim(ctx context.Context, destination, owner string, now time.Time, lease time.Duration, n int) ([]syndicate.Delivery, error) {
	if owner == "" {
		return nil, fmt.Errorf("redis claim %s: empty owner", destination)
	}
	if n <= 0 {
		return nil, nil
	}
	leaseUntil := now.Add(lease)
	leaseText, err := leaseUntil.MarshalText()
	if err != nil {
		return nil, fmt.Errorf("redis claim %s: %w", destination, err)
	}
	res, err := claimScript.Run(ctx, s.rdb, s.destKeys(destination),
		floorMicros(now), owner, ceilMicros(leaseUntil), string(leaseText), n).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis claim %s: %w", destination, err)
	}
	return decodePairs(res, fmt.Sprintf("redis claim %s", destination))
}

// extendScript moves the lease of a job if owner holds it. KEYS are
// destKeys; ARGV: article key, owner, lease-until score, lease-until text.
// It returns 1, or 0 when the job is not claimed by owner.
var extendScript = redis.NewScript(`
local jobs, due = KEYS[1], KEYS[4]
local key, owner, leasescore, leasetext = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = redis.call('HGET', jobs, key)
if not cur then return 0 end
local rec = cjson.decode(cur)
if rec.status ~= 'sending' or rec.owner ~= owner then return 0 end
rec.lease_until = leasetext
redis.call('HSET', jobs, key, cjson.encode(rec))
redis.call('ZADD', due, leasescore, key)
return 1
`)

// Extend moves the lease of a job that owner holds to now+lease, in the
// record and in the due index that Claim reads.
func (s *Store) Extend(ctx context.Context, destination, articleKey, owner string, now time.Time, lease time.Duration) error {
	if err := syndicate.ValidateLease(owner, lease); err != nil {
		return fmt.Errorf("redis extend %s %s: %w", destination, articleKey, err)
	}
	leaseUntil := now.Add(lease)
	leaseText, err := leaseUntil.MarshalText()
	if err != nil {
		return fmt.Errorf("redis extend %s %s: %w", destination, articleKey, err)
	}
	ok, err := extendScript.Run(ctx, s.rdb, s.destKeys(destination),
		articleKey, owner, ceilMicros(leaseUntil), string(leaseText)).Int()
	if err != nil {
		return fmt.Errorf("redis extend %s %s: %w", destination, articleKey, err)
	}
	if ok != 1 {
		return fmt.Errorf("redis extend %s %s: %w", destination, articleKey, syndicate.ErrNotClaimed)
	}
	return nil
}

// finishScript stores the outcome of a job if owner still holds it. KEYS
// are destKeys; ARGV: article key, owner, record JSON, item JSON, status,
// due score (queued) or finish score (final). It returns 1, or 0 when the
// job is not claimed by owner.
var finishScript = redis.NewScript(`
local jobs, items, order, due, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local key, owner, recjson, itemjson, status, score = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local cur = redis.call('HGET', jobs, key)
if not cur then return 0 end
local old = cjson.decode(cur)
if old.status ~= 'sending' or old.owner ~= owner then return 0 end
local rec = cjson.decode(recjson)
rec.seq = old.seq
rec.enqueued_at = old.enqueued_at
redis.call('HSET', jobs, key, cjson.encode(rec))
redis.call('HSET', items, key, itemjson)
if status == 'queued' then
  redis.call('ZADD', due, score, key)
else
  redis.call('ZREM', order, key)
  redis.call('ZREM', due, key)
  redis.call('ZADD', done, score, key)
end
return 1
`)

// Finish stores the outcome of a job that d.Owner holds.
func (s *Store) Finish(ctx context.Context, d syndicate.Delivery) error {
	if err := d.ValidateOutcome(); err != nil {
		return fmt.Errorf("redis finish %s %s: %w", d.Destination, d.ArticleKey, err)
	}
	next := d
	next.Owner, next.LeaseUntil = "", time.Time{}
	score := ceilMicros(next.NotBefore)
	if next.Status == syndicate.StatusQueued {
		next.FinishedAt = time.Time{}
	} else {
		score = floorMicros(next.FinishedAt)
	}
	rec, item, err := encodeRecord(next)
	if err != nil {
		return fmt.Errorf("redis finish %s %s: %w", d.Destination, d.ArticleKey, err)
	}
	ok, err := finishScript.Run(ctx, s.rdb, s.destKeys(d.Destination),
		d.ArticleKey, d.Owner, rec, item, string(next.Status), score).Int()
	if err != nil {
		return fmt.Errorf("redis finish %s %s: %w", d.Destination, d.ArticleKey, err)
	}
	if ok != 1 {
		return fmt.Errorf("redis finish %s %s: %w", d.Destination, d.ArticleKey, syndicate.ErrNotClaimed)
	}
	return nil
}

// releaseClaimsScript ends the leases of the jobs owner holds on one
// destination. Only entries of the due index above the earliest score can
// be claimed (queued jobs without a retry time sit at it), so it decodes
// only those. KEYS are destKeys; ARGV: owner, the earliest score. It
// returns how many claims it released.
var releaseClaimsScript = redis.NewScript(`
local jobs, due = KEYS[1], KEYS[4]
local owner, earliest = ARGV[1], ARGV[2]
local n = 0
for _, key in ipairs(redis.call('ZRANGEBYSCORE', due, '(' .. earliest, '+inf')) do
  local cur = redis.call('HGET', jobs, key)
  if cur then
    local rec = cjson.decode(cur)
    if rec.status == 'sending' and rec.owner == owner then
      rec.lease_until = nil
      redis.call('HSET', jobs, key, cjson.encode(rec))
      redis.call('ZADD', due, earliest, key)
      n = n + 1
    end
  end
end
return n
`)

// ReleaseClaims ends the leases of the jobs that owner holds, on every
// destination with records; a feed's poll lease needs no release, since
// its owner may take it again at any time.
func (s *Store) ReleaseClaims(ctx context.Context, owner string) (int, error) {
	if owner == "" {
		return 0, errors.New("redis release claims: empty owner")
	}
	dests, err := s.rdb.SMembers(ctx, s.destsKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("redis release claims of %s: %w", owner, err)
	}
	total := 0
	for _, d := range dests {
		n, err := releaseClaimsScript.Run(ctx, s.rdb, s.destKeys(d), owner, minScore).Int()
		if err != nil {
			return total, fmt.Errorf("redis release claims of %s on %s: %w", owner, d, err)
		}
		total += n
	}
	return total, nil
}

// requeueScript puts a parked or unknown record back at the end of the
// queue. KEYS are destKeys; ARGV: article key, enqueued-at text, due score.
// It returns 1, or 0 when the record is missing or in another state.
var requeueScript = redis.NewScript(`
local jobs, items, order, due, done, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local key, enqueued, duescore = ARGV[1], ARGV[2], ARGV[3]
local cur = redis.call('HGET', jobs, key)
if not cur then return 0 end
local rec = cjson.decode(cur)
if rec.status ~= 'parked' and rec.status ~= 'unknown' then return 0 end
rec.status = 'queued'
rec.attempts = nil
rec.not_before = nil
rec.owner = nil
rec.lease_until = nil
rec.finished_at = nil
rec.enqueued_at = enqueued
rec.seq = redis.call('INCR', seq)
redis.call('HSET', jobs, key, cjson.encode(rec))
redis.call('ZREM', done, key)
redis.call('ZADD', order, rec.seq, key)
redis.call('ZADD', due, duescore, key)
return 1
`)

// Requeue puts a parked or unknown record back at the end of the queue,
// due now, with its attempts reset; its last error and receipt stay as
// history.
func (s *Store) Requeue(ctx context.Context, destination, articleKey string, now time.Time) (bool, error) {
	enqueued, err := now.MarshalText()
	if err != nil {
		return false, fmt.Errorf("redis requeue %s %s: %w", destination, articleKey, err)
	}
	ok, err := requeueScript.Run(ctx, s.rdb, s.destKeys(destination),
		articleKey, string(enqueued), minScore).Int()
	if err != nil {
		return false, fmt.Errorf("redis requeue %s %s: %w", destination, articleKey, err)
	}
	return ok == 1, nil
}

// takeLeaseLua defines takelease(key, owner, now, until, ttl), which takes
// a feed's lease when it is free, expired or owner's and reports whether
// owner now holds it; until and now are scores (Unix µs), ttl is the key's
// life on the server (ms). LeaseFeed and BeginPoll share it.
const takeLeaseLua = `
local function takelease(key, owner, now, untilscore, ttl)
  local cur = redis.call('HMGET', key, 'owner', 'until')
  if cur[1] and cur[1] ~= owner and tonumber(cur[2]) > tonumber(now) then return false end
  redis.call('HSET', key, 'owner', owner, 'until', untilscore)
  redis.call('PEXPIRE', key, ttl)
  return true
end
`

// releaseLeaseLua defines releaselease(key, owner), which deletes a feed's
// lease if owner holds it. ReleaseFeed and EndPoll share it.
const releaseLeaseLua = `
local function releaselease(key, owner)
  if redis.call('HGET', key, 'owner') == owner then
    redis.call('DEL', key)
    return true
  end
  return false
end
`

// leaseScript takes a feed's lease. KEYS: the lease key; ARGV: owner, now
// score, until score, key TTL (ms). It returns 1 when owner holds the
// lease, else 0.
var leaseScript = redis.NewScript(takeLeaseLua + `
if takelease(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) then return 1 end
return 0
`)

// releaseScript deletes a feed's lease if ARGV[1] holds it. KEYS: the
// lease key. It returns 1 when it deleted the lease.
var releaseScript = redis.NewScript(releaseLeaseLua + `
if releaselease(KEYS[1], ARGV[1]) then return 1 end
return 0
`)

// LeaseFeed takes the poll lease of a feed until now+ttl when it is free,
// expired or already owner's.
func (s *Store) LeaseFeed(ctx context.Context, feedID, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if err := syndicate.ValidateLease(owner, ttl); err != nil {
		return false, fmt.Errorf("redis lease feed %s: %w", feedID, err)
	}
	ok, err := leaseScript.Run(ctx, s.rdb, []string{s.feedKey(feedID, "lease")}, leaseArgs(owner, now, ttl)...).Int()
	if err != nil {
		return false, fmt.Errorf("redis lease feed %s: %w", feedID, err)
	}
	return ok == 1, nil
}

// leaseArgs are the ARGV of takelease: owner, now and until as scores, and
// the key's TTL, which outlives the lease by leaseGrace.
func leaseArgs(owner string, now time.Time, ttl time.Duration) []any {
	keyTTL := (ttl + leaseGrace + time.Millisecond - 1).Milliseconds()
	return []any{owner, floorMicros(now), ceilMicros(now.Add(ttl)), keyTTL}
}

// ReleaseFeed deletes the poll lease of a feed if owner holds it.
func (s *Store) ReleaseFeed(ctx context.Context, feedID, owner string) error {
	if owner == "" {
		return fmt.Errorf("redis release feed %s: empty owner", feedID)
	}
	if err := releaseScript.Run(ctx, s.rdb, []string{s.feedKey(feedID, "lease")}, owner).Err(); err != nil {
		return fmt.Errorf("redis release feed %s: %w", feedID, err)
	}
	return nil
}

// Get returns the record of an article on a destination.
func (s *Store) Get(ctx context.Context, destination, articleKey string) (syndicate.Delivery, bool, error) {
	var rec, item *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		rec = p.HGet(ctx, s.destKey(destination, "jobs"), articleKey)
		item = p.HGet(ctx, s.destKey(destination, "items"), articleKey)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return syndicate.Delivery{}, false, fmt.Errorf("redis get %s %s: %w", destination, articleKey, err)
	}
	if errors.Is(rec.Err(), redis.Nil) {
		return syndicate.Delivery{}, false, nil
	}
	d, err := decodeRecord(rec.Val(), item.Val())
	if err != nil {
		return syndicate.Delivery{}, false, fmt.Errorf("redis get %s %s: %w", destination, articleKey, err)
	}
	return d, true, nil
}

// listScript returns record and item JSON, alternating, of the queued and
// sending records (ARGV[1] == "active") or of all records.
var listScript = redis.NewScript(`
local jobs, items, order = KEYS[1], KEYS[2], KEYS[3]
local keys
if ARGV[1] == 'active' then
  keys = redis.call('ZRANGE', order, 0, -1)
else
  keys = redis.call('HKEYS', jobs)
end
local out = {}
for _, key in ipairs(keys) do
  out[#out+1] = redis.call('HGET', jobs, key)
  out[#out+1] = redis.call('HGET', items, key)
end
return out
`)

// List returns the records of a destination in the given states, by Seq.
func (s *Store) List(ctx context.Context, destination string, limit int, states ...syndicate.Status) ([]syndicate.Delivery, error) {
	want := make(map[syndicate.Status]bool, len(states))
	scope := "active"
	for _, st := range states {
		want[st] = true
		if st.Final() {
			scope = "all"
		}
	}
	if len(states) == 0 {
		scope = "all"
	}
	res, err := listScript.Run(ctx, s.rdb, s.destKeys(destination), scope).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis list %s: %w", destination, err)
	}
	all, err := decodePairs(res, fmt.Sprintf("redis list %s", destination))
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, d := range all {
		if len(want) == 0 || want[d.Status] {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b syndicate.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// pruneSeenScript deletes up to ARGV[2] keys of a feed last seen before
// ARGV[1]. KEYS: seen, fp. It returns how many it deleted.
var pruneSeenScript = redis.NewScript(`
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #old > 0 then
  redis.call('ZREM', KEYS[1], unpack(old))
  redis.call('HDEL', KEYS[2], unpack(old))
end
return #old
`)

// pruneDoneScript deletes up to ARGV[2] final records of a destination
// finished before ARGV[1]. KEYS: jobs, items, done. It returns how many it
// deleted.
var pruneDoneScript = redis.NewScript(`
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #old > 0 then
  redis.call('ZREM', KEYS[3], unpack(old))
  redis.call('HDEL', KEYS[1], unpack(old))
  redis.call('HDEL', KEYS[2], unpack(old))
end
return #old
`)

// Prune deletes seen keys last seen before before and final records
// finished before before (to the microsecond).
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	cut := floorMicros(before)
	feeds, err := s.rdb.SMembers(ctx, s.feedsKey()).Result()
	if err != nil {
		return fmt.Errorf("redis prune: %w", err)
	}
	for _, f := range feeds {
		keys := []string{s.feedKey(f, "seen"), s.feedKey(f, "fp")}
		if err := pruneLoop(ctx, s.rdb, pruneSeenScript, keys, cut); err != nil {
			return fmt.Errorf("redis prune feed %s: %w", f, err)
		}
	}
	dests, err := s.rdb.SMembers(ctx, s.destsKey()).Result()
	if err != nil {
		return fmt.Errorf("redis prune: %w", err)
	}
	for _, d := range dests {
		keys := []string{s.destKey(d, "jobs"), s.destKey(d, "items"), s.destKey(d, "done")}
		if err := pruneLoop(ctx, s.rdb, pruneDoneScript, keys, cut); err != nil {
			return fmt.Errorf("redis prune destination %s: %w", d, err)
		}
	}
	return nil
}

func pruneLoop(ctx context.Context, rdb redis.UniversalClient, script *redis.Script, keys []string, cut int64) error {
	for {
		n, err := script.Run(ctx, rdb, keys, cut, pruneBatch).Int()
		if err != nil {
			return err
		}
		if n < pruneBatch {
			return nil
		}
	}
}

// encodeRecord splits d into the record the scripts may rewrite and the
// item they pass through untouched.
func encodeRecord(d syndicate.Delivery) (record, item string, err error) {
	it, err := json.Marshal(d.Item)
	if err != nil {
		return "", "", fmt.Errorf("encode item %s: %w", d.ArticleKey, err)
	}
	d.Item = syndicate.Item{}
	rec, err := json.Marshal(d)
	if err != nil {
		return "", "", fmt.Errorf("encode record %s: %w", d.ArticleKey, err)
	}
	return string(rec), string(it), nil
}

func decodeRecord(record, item string) (syndicate.Delivery, error) {
	var d syndicate.Delivery
	if err := json.Unmarshal([]byte(record), &d); err != nil {
		return d, fmt.Errorf("decode record: %w", err)
	}
	d.Item = syndicate.Item{}
	if item != "" {
		if err := json.Unmarshal([]byte(item), &d.Item); err != nil {
			return d, fmt.Errorf("decode item %s: %w", d.ArticleKey, err)
		}
	}
	return d, nil
}

func decodePairs(res []string, op string) ([]syndicate.Delivery, error) {
	if len(res)%2 != 0 {
		return nil, fmt.Errorf("%s: script returned %d values, want pairs", op, len(res))
	}
	out := make([]syndicate.Delivery, 0, len(res)/2)
	for i := 0; i < len(res); i += 2 {
		d, err := decodeRecord(res[i], res[i+1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// minScore stands for the zero time: before every instant, and exact as a
// double.
const minScore = -(1<<53 - 1)

// floorMicros and ceilMicros turn times into scores; rounding a due time up
// and the clock down means a job is never claimed early.
func floorMicros(t time.Time) int64 {
	if t.IsZero() {
		return minScore
	}
	us := t.UnixMicro()
	if time.UnixMicro(us).After(t) {
		us--
	}
	return us
}

func ceilMicros(t time.Time) int64 {
	if t.IsZero() {
		return minScore
	}
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}

// beginPollScript takes a feed's lease and, when taken, reads its state.
// KEYS: lease, state; ARGV as leaseScript. It returns {1, state JSON or ""}
// when owner holds the lease, else {0}.
var beginPollScript = redis.NewScript(takeLeaseLua + `
if not takelease(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]) then return {0} end
return {1, redis.call('GET', KEYS[2]) or ''}
`)

// BeginPoll takes the poll lease of a feed and loads its state in one
// script, so a poll begins with one round trip.
func (s *Store) BeginPoll(ctx context.Context, feedID, owner string, now time.Time, ttl time.Duration) (syndicate.FeedState, bool, error) {
	if err := syndicate.ValidateLease(owner, ttl); err != nil {
		return syndicate.FeedState{}, false, fmt.Errorf("redis begin poll %s: %w", feedID, err)
	}
	keys := []string{s.feedKey(feedID, "lease"), s.feedKey(feedID, "state")}
	res, err := beginPollScript.Run(ctx, s.rdb, keys, leaseArgs(owner, now, ttl)...).Slice()
	if err != nil {
		return syndicate.FeedState{}, false, fmt.Errorf("redis begin poll %s: %w", feedID, err)
	}
	if len(res) == 0 || res[0] != int64(1) {
		return syndicate.FeedState{}, false, nil
	}
	var st syndicate.FeedState
	if len(res) != 2 {
		return st, false, fmt.Errorf("redis begin poll %s: script returned %d values, want 2", feedID, len(res))
	}
	raw, _ := res[1].(string)
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return syndicate.FeedState{}, false, fmt.Errorf("redis begin poll %s: decode state: %w", feedID, err)
		}
	}
	return st, true, nil
}

// seenChunk bounds the arguments one ZADD or HSET in endPollScript takes,
// well under what Lua's unpack accepts.
const seenChunk = 500

// endPollScript records seen keys, saves a feed's state and releases the
// lease if ARGV[1] holds it. KEYS: seen, fp, state, lease; ARGV: owner,
// state JSON, seen score, then item key and fingerprint pairs. It returns
// 1 when it released the lease.
var endPollScript = redis.NewScript(releaseLeaseLua + `
local seen, fp, state, lease = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local owner, statejson, score = ARGV[1], ARGV[2], ARGV[3]
local z, h = {}, {}
local function flush()
  if #z > 0 then
    redis.call('ZADD', seen, unpack(z))
    redis.call('HSET', fp, unpack(h))
    z, h = {}, {}
  end
end
for i = 4, #ARGV, 2 do
  z[#z+1] = score
  z[#z+1] = ARGV[i]
  h[#h+1] = ARGV[i]
  h[#h+1] = ARGV[i+1]
  if #z >= ` + fmt.Sprint(2*seenChunk) + ` then flush() end
end
flush()
redis.call('SET', state, statejson)
if releaselease(lease, owner) then return 1 end
return 0
`)

// EndPoll records seen items, saves the feed's state and releases the
// lease in one script, in one round trip with the feed's registration for
// Prune when there are seen items (see registerAndRun).
func (s *Store) EndPoll(ctx context.Context, feedID, owner string, st syndicate.FeedState, seen map[string]string, now time.Time) error {
	if owner == "" {
		return fmt.Errorf("redis end poll %s: empty owner", feedID)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("redis end poll %s: encode state: %w", feedID, err)
	}
	call := &scriptCall{
		script: endPollScript,
		keys:   []string{s.feedKey(feedID, "seen"), s.feedKey(feedID, "fp"), s.feedKey(feedID, "state"), s.feedKey(feedID, "lease")},
		args:   make([]any, 0, 3+2*len(seen)),
	}
	call.args = append(call.args, owner, string(raw), floorMicros(now))
	for k, fp := range seen {
		call.args = append(call.args, k, fp)
	}
	var register []any
	if len(seen) > 0 {
		register = []any{feedID}
	}
	if err := s.registerAndRun(ctx, s.feedsKey(), register, []*scriptCall{call}); err != nil {
		return fmt.Errorf("redis end poll %s: %w", feedID, err)
	}
	return nil
}

// LoadPush returns a feed's push subscription, zero when never saved.
func (s *Store) LoadPush(ctx context.Context, feedID string) (syndicate.PushState, error) {
	var st syndicate.PushState
	if err := s.getJSON(ctx, s.feedKey(feedID, "push"), &st); err != nil {
		return syndicate.PushState{}, fmt.Errorf("redis load push %s: %w", feedID, err)
	}
	return st, nil
}

// SavePush replaces a feed's push subscription.
func (s *Store) SavePush(ctx context.Context, feedID string, st syndicate.PushState) error {
	if err := s.setJSON(ctx, s.feedKey(feedID, "push"), st); err != nil {
		return fmt.Errorf("redis save push %s: %w", feedID, err)
	}
	return nil
}
