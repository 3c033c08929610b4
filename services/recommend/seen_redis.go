package recommend

import (
	"context"
	"fmt"
	"strconv"
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

// takeScript expires what is older than the cutoff, then picks and records the first limit
// unseen candidates, atomically, so two instances serving one viewer never hand out the same
// video. KEYS: the set. ARGV: limit, now, cutoff, max seen, TTL ms, candidates....
var takeScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local limit = tonumber(ARGV[1])
local out = {}
for i = 6, #ARGV do
  if #out >= limit then break end
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
    out[#out + 1] = ARGV[i]
  end
end
if #out > 0 then
  local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
  if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1) end
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return out
`)

// Take picks and records the first limit unseen candidates in one round trip, shared with
// the Takes of other pages under way.
func (s *RedisSeen) Take(ctx context.Context, viewer int64, candidates []int64, limit int, now, cutoff int64) ([]int64, error) {
	if len(candidates) == 0 || limit <= 0 {
		return nil, nil
	}
	args := make([]any, 0, 5+len(candidates))
	args = append(args, limit, now, cutoff, s.maxSeen, s.window.Milliseconds())
	for _, id := range candidates {
		args = append(args, id)
	}
	cmd, err := s.takes.Do(ctx, cache.ScriptCall{Script: takeScript, Keys: []string{s.key(viewer)}, Args: args})
	var picked []string
	if err == nil {
		picked, err = cmd.StringSlice()
	}
	if err != nil {
		return nil, fmt.Errorf("take unseen videos: %w", err)
	}
	out := make([]int64, len(picked))
	for i, p := range picked {
		if out[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return nil, fmt.Errorf("take unseen videos: bad id %q", p)
		}
	}
	return out, nil
}

// Seen reads the ids of the viewer's set since cutoff (not their times: half the reply) and
// calls rank with them.
func (s *RedisSeen) Seen(ctx context.Context, viewer, cutoff int64, rank func(seen *idSet)) error {
	members, err := s.r.Client().ZRangeByScore(ctx, s.key(viewer), &redis.ZRangeBy{
		Min: strconv.FormatInt(cutoff, 10), Max: "+inf",
	}).Result()
	if err != nil {
		return fmt.Errorf("read seen videos: %w", err)
	}
	var set idSet
	for _, member := range members {
		id, err := strconv.ParseInt(member, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("read seen videos: bad id %q", member)
		}
		set.Add(id)
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
