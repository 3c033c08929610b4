package recommend

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/batch"
	"github.com/douyin-backend/douyin/internal/cache"
)

// RedisSeen is the SeenStore shared by every recommend instance. One key per viewer, under
// the deployment's prefix:
//
//	rec:s:{viewer}  ZSET video id → when it was returned (Unix ms); at most maxSeen members,
//	                expiring a seen window after the last page
type RedisSeen struct {
	r       *cache.Redis
	maxSeen int
	window  time.Duration
	// takes shares one pipelined round trip among the Takes of concurrent pages: each script
	// still runs atomically.
	takes *batch.Batcher[cache.ScriptCall, *redis.Cmd]
}

// maxPipelinedTakes bounds the Takes of one round trip.
const maxPipelinedTakes = 64

var _ SeenStore = (*RedisSeen)(nil)

// NewRedisSeen returns the store on r keeping at most maxSeen videos per viewer, each for window.
func NewRedisSeen(r *cache.Redis, maxSeen int, window time.Duration) *RedisSeen {
	s := &RedisSeen{r: r, maxSeen: maxSeen, window: window}
	s.takes = batch.New(maxPipelinedTakes, func(ctx context.Context, calls []cache.ScriptCall) ([]*redis.Cmd, []error) {
		return cache.RunPipelined(ctx, r.Client(), calls), make([]error, len(calls)) // each command carries its own error
	})
	return s
}

func (s *RedisSeen) key(viewer int64) string {
	return s.r.IDKey(viewer, "rec:s:")
}

// The scripts pass ids as one comma-separated string each way: a page's 60 candidates as
// separate arguments, and its picks or a whole seen set as separate replies, cost an
// allocation each on this side.

// takeScript expires what is older than the cutoff, then picks and records the first limit
// unseen candidates, atomically, so two instances serving one viewer never hand out the same
// video. KEYS: the set. ARGV: limit, now, cutoff, max seen, TTL ms, the candidates (at most
// a few hundred: they are unpacked onto Lua's stack). Returns the picks. One ZMSCORE and one
// ZADD for the page, not one command per candidate: Redis spent about 1 µs a command.
var takeScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local limit = tonumber(ARGV[1])
local candidates = {}
for id in string.gmatch(ARGV[6], '[^,]+') do candidates[#candidates + 1] = id end
local seen = redis.call('ZMSCORE', KEYS[1], unpack(candidates))
local out, add, picked = {}, {}, {}
for i, id in ipairs(candidates) do
  if #out >= limit then break end
  if not seen[i] and not picked[id] then
    picked[id] = true
    out[#out + 1] = id
    add[#add + 1] = ARGV[2]
    add[#add + 1] = id
  end
end
if #out > 0 then
  redis.call('ZADD', KEYS[1], unpack(add))
  local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
  if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1) end
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return table.concat(out, ',')
`)

// seenScript returns the ids of the set since the cutoff (ARGV[1]), not their times.
var seenScript = redis.NewScript(`
return table.concat(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf'), ',')
`)

// joinIDs is ids as the scripts take them.
func joinIDs(ids []int64) string {
	b := make([]byte, 0, 8*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}

// splitIDs calls each with every id of a script's reply, in order; an id that is not
// positive is an error.
func splitIDs(reply string, each func(int64)) error {
	if reply == "" {
		return nil
	}
	for field := range strings.SplitSeq(reply, ",") {
		id, err := strconv.ParseInt(field, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("bad id %q", field)
		}
		each(id)
	}
	return nil
}

// Take picks and records the first limit unseen candidates in one round trip, shared with
// the Takes of other pages under way.
func (s *RedisSeen) Take(ctx context.Context, viewer int64, candidates []int64, limit int, now, cutoff int64) ([]int64, error) {
	if len(candidates) == 0 || limit <= 0 {
		return nil, nil
	}
	args := []any{limit, now, cutoff, s.maxSeen, s.window.Milliseconds(), joinIDs(candidates)}
	cmd, err := s.takes.Do(ctx, cache.ScriptCall{Script: takeScript, Keys: []string{s.key(viewer)}, Args: args})
	var picked string
	if err == nil {
		picked, err = cmd.Text()
	}
	if err != nil {
		return nil, fmt.Errorf("take unseen videos: %w", err)
	}
	out := make([]int64, 0, limit)
	if err := splitIDs(picked, func(id int64) { out = append(out, id) }); err != nil {
		return nil, fmt.Errorf("take unseen videos: %w", err)
	}
	return out, nil
}

// Seen reads the ids of the viewer's set since cutoff and calls rank with them.
func (s *RedisSeen) Seen(ctx context.Context, viewer, cutoff int64, rank func(seen *idSet)) error {
	members, err := seenScript.Run(ctx, s.r.Client(), []string{s.key(viewer)}, cutoff).Text()
	if err != nil {
		return fmt.Errorf("read seen videos: %w", err)
	}
	var set idSet
	if err := splitIDs(members, func(id int64) { set.Add(id) }); err != nil {
		return fmt.Errorf("read seen videos: %w", err)
	}
	rank(&set)
	return nil
}

// Reset deletes the viewer's set.
func (s *RedisSeen) Reset(ctx context.Context, viewer int64) error {
	if err := s.r.Client().Del(ctx, s.key(viewer)).Err(); err != nil {
		return fmt.Errorf("reset seen videos: %w", err)
	}
	return nil
}
