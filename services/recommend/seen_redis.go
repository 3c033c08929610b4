package recommend

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/batch"
	"github.com/douyin-backend/douyin/internal/cache"
)

// RedisSeen is the SeenStore shared by every recommend instance. Two keys per viewer, under
// the deployment's prefix, both expiring a seen window after the last page:
//
//	rec:s2:{viewer}  SET the video ids returned: at most maxSeen
//	rec:p2:{viewer}  LIST the pages returned, oldest first, each "at:id,id,..." (at: Unix ms)
//
// Every id in the set is in exactly one page of the list: the window and the bound forget ids
// from the head of the list and the set together (the bound may cut the oldest page in two).
// A hash table set, unlike a sorted set, keeps no order: adding a page is no skiplist insert
// per id, and a ranking reads the list's ~170 pages, not 5 000 members.
//
// The version before kept one ZSET, rec:s:{viewer}; it is not read, and expires by its TTL, so
// after an upgrade a viewer may be shown a video once more, as after their seen window.
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

// keys are the viewer's set and list of pages.
func (s *RedisSeen) keys(viewer int64) []string {
	return []string{s.r.IDKey(viewer, "rec:s2:"), s.r.IDKey(viewer, "rec:p2:")}
}

// takeScript forgets the pages older than the cutoff, then picks and records the first limit
// unseen candidates as one page, and forgets the oldest ids past max seen, atomically, so two
// instances serving one viewer never hand out the same video. KEYS: the set, the pages. ARGV:
// limit, now, cutoff, max seen, TTL ms, the candidates, distinct (at most a few hundred: they
// are unpacked onto Lua's stack). Returns the picks, comma-separated.
//
// The candidates come as separate arguments (the ids of the pages forgotten are split here):
// Lua splitting 60 ids cost Redis about 9 µs, receiving them apart 1.5, for about 2 µs more
// on this side writing them; Redis's CPU is the one shared by every instance. SMISMEMBER
// checks as many candidates as picks are still wanted, so a page none of whose first limit
// candidates was seen (the usual one: its ranking left out what was seen) checks no spares.
var takeScript = redis.NewScript(`
local set, pages = KEYS[1], KEYS[2]
-- forget takes the first n ids (all if n is nil) of page, just popped from the head of the
-- list, out of the set, and puts the rest of the page back.
local function forget(page, n)
  local colon = string.find(page, ':', 1, true)
  local ids = {}
  for id in string.gmatch(string.sub(page, colon + 1), '[^,]+') do ids[#ids + 1] = id end
  if n and n < #ids then
    redis.call('SREM', set, unpack(ids, 1, n))
    redis.call('LPUSH', pages, string.sub(page, 1, colon) .. table.concat(ids, ',', n + 1))
    return n
  end
  redis.call('SREM', set, unpack(ids))
  return #ids
end
local cutoff = tonumber(ARGV[3])
local head = redis.call('LINDEX', pages, 0)
-- No pages but a set: the list alone was evicted. Start the viewer over.
if not head then redis.call('DEL', set) end
while head and tonumber(string.sub(head, 1, string.find(head, ':', 1, true) - 1)) < cutoff do
  forget(redis.call('LPOP', pages))
  head = redis.call('LINDEX', pages, 0)
end
local limit, last = tonumber(ARGV[1]), #ARGV
local out, from = {}, 6
while #out < limit and from <= last do
  local to = math.min(from + limit - #out - 1, last)
  local seen = redis.call('SMISMEMBER', set, unpack(ARGV, from, to))
  for i = 1, #seen do
    if seen[i] == 0 then out[#out + 1] = ARGV[from + i - 1] end
  end
  from = to + 1
end
if #out == 0 then return '' end
local picked = table.concat(out, ',')
redis.call('SADD', set, unpack(out))
redis.call('RPUSH', pages, ARGV[2] .. ':' .. picked)
local over = redis.call('SCARD', set) - tonumber(ARGV[4])
while over > 0 do
  head = redis.call('LPOP', pages)
  if not head then break end -- never while every id of the set is in a page: a guard
  over = over - forget(head, over)
end
redis.call('PEXPIRE', set, ARGV[5])
redis.call('PEXPIRE', pages, ARGV[5])
return picked
`)

// distinct is ids without repeats, the first of each kept: ids itself when it has none (a
// ranking's candidates never have). A page's candidates are a few dozen, so each is looked for
// among those before it: no table to build or allocate.
func distinct(ids []int64) []int64 {
	for i := 1; i < len(ids); i++ {
		if !slices.Contains(ids[:i], ids[i]) {
			continue
		}
		out := slices.Clone(ids[:i])
		for _, id := range ids[i+1:] {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		return out
	}
	return ids
}

// splitIDs calls each with every id of a comma-separated list, in order; an id that is not
// positive is an error.
func splitIDs(list string, each func(int64)) error {
	if list == "" {
		return nil
	}
	for field := range strings.SplitSeq(list, ",") {
		id, err := strconv.ParseInt(field, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("bad id %q", field)
		}
		each(id)
	}
	return nil
}

// parsePage is a page of the list: when it was returned and its ids, comma-separated.
func parsePage(page string) (int64, string, error) {
	at, ids, ok := strings.Cut(page, ":")
	when, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || ids == "" {
		return 0, "", fmt.Errorf("bad page %q", page)
	}
	return when, ids, nil
}

// Take picks and records the first limit unseen candidates in one round trip, shared with
// the Takes of other pages under way.
func (s *RedisSeen) Take(ctx context.Context, viewer int64, candidates []int64, limit int, now, cutoff int64) ([]int64, error) {
	if len(candidates) == 0 || limit <= 0 {
		return nil, nil
	}
	candidates = distinct(candidates)
	args := make([]any, 0, 5+len(candidates))
	args = append(args, limit, now, cutoff, s.maxSeen, s.window.Milliseconds())
	for i := range candidates {
		// A pointer fits in the interface, where an int64 would be allocated apart; the client
		// reads it before Take returns.
		args = append(args, &candidates[i])
	}
	cmd, err := s.takes.Do(ctx, cache.ScriptCall{Script: takeScript, Keys: s.keys(viewer), Args: args})
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

// Seen reads the viewer's pages, one command and no script, and calls rank with the ids of
// those returned since cutoff.
func (s *RedisSeen) Seen(ctx context.Context, viewer, cutoff int64, rank func(seen *idSet)) error {
	pages, err := s.r.Client().LRange(ctx, s.keys(viewer)[1], 0, -1).Result()
	if err != nil {
		return fmt.Errorf("read seen videos: %w", err)
	}
	var set idSet
	for _, page := range pages {
		at, ids, err := parsePage(page)
		if err == nil && at >= cutoff {
			err = splitIDs(ids, func(id int64) { set.Add(id) })
		}
		if err != nil {
			return fmt.Errorf("read seen videos: %w", err)
		}
	}
	rank(&set)
	return nil
}

// Reset deletes the viewer's set and pages.
func (s *RedisSeen) Reset(ctx context.Context, viewer int64) error {
	if err := s.r.Client().Del(ctx, s.keys(viewer)...).Err(); err != nil {
		return fmt.Errorf("reset seen videos: %w", err)
	}
	return nil
}
