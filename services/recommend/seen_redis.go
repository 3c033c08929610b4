package recommend

import (
	"context"
	"errors"
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
//	rec:p3:{viewer}  LIST the pages returned, oldest first, each "at:id,id,..." (at: Unix ms)
//	rec:m3:{viewer}  HASH v: the version, one more per page recorded; b: the version before
//	                 the list's oldest page (the list holds the pages of versions b+1..v);
//	                 n: the ids in the list, at most maxSeen
//
// A page whose candidates left out what was returned up to the current version (its ranking
// read that version, and took every page since) is appended as it is: no id is looked up. A
// Take naming an older version, since another instance served the viewer meanwhile, checks
// its candidates against the pages after it still held, the list's last v - max(since, b).
// More than maxCheckedPages of them and it is behind: the caller ranks again, a read of the
// list instead of a check of many pages in Redis, whose CPU every instance shares.
//
// The version before kept a SET of every id beside the list and looked each candidate up in
// it: about 75 µs of Redis CPU a page for a deep scroller, most of it the set's lookups,
// additions and removals in tables of 5 000 members. Its keys (rec:s2:, rec:p2:) are not
// read, and expire by their TTL: after an upgrade a viewer may be shown a video once more, as
// after their seen window.
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

// maxCheckedPages bounds the pages a Take checks its candidates against.
const maxCheckedPages = 32

var _ SeenStore = (*RedisSeen)(nil)

// NewRedisSeen returns the store on r keeping at most maxSeen videos per viewer, each for window.
func NewRedisSeen(r *cache.Redis, maxSeen int, window time.Duration) *RedisSeen {
	s := &RedisSeen{r: r, maxSeen: maxSeen, window: window}
	s.takes = batch.New(maxPipelinedTakes, func(ctx context.Context, calls []cache.ScriptCall) ([]*redis.Cmd, []error) {
		return cache.RunPipelined(ctx, r.Client(), calls), make([]error, len(calls)) // each command carries its own error
	})
	return s
}

// keys are the viewer's list of pages and its meta hash.
func (s *RedisSeen) keys(viewer int64) []string {
	return []string{s.r.IDKey(viewer, "rec:p3:"), s.r.IDKey(viewer, "rec:m3:")}
}

// How a Take went, in the take script's reply.
const (
	takeAppended = 0 // the candidates were current: the page is their first limit
	takeChecked  = 1 // checked against others' pages: the page is the reply's picks
	takeBehind   = 2 // nothing taken
)

// takeScript records a page, atomically, so that two instances serving one viewer never hand
// out the same video. KEYS: the pages, the meta hash. ARGV: since, now, cutoff, max seen, TTL
// ms, the page (the first limit candidates, comma-separated), limit, the spare candidates
// (comma-separated, may be empty), max checked pages. Returns {version, how, picks
// (takeChecked), others' ids}.
//
// Then it forgets the pages older than the cutoff and the oldest ids past max seen (cutting
// the oldest page in two). A missing hash starts the record over at the server's clock in µs,
// past any version read before, so that a version read before the record expired never names
// the new one; a list lost alone is noticed as RPUSH makes it anew.
var takeScript = redis.NewScript(`
local pages, meta = KEYS[1], KEYS[2]
local now, cutoff, maxSeen = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local page, limit, spares = ARGV[6], tonumber(ARGV[7]), ARGV[8]
local function atOf(entry) return tonumber(string.sub(entry, 1, string.find(entry, ':', 1, true) - 1)) end
local function idsIn(entry) local _, commas = string.gsub(entry, ',', ','); return commas + 1 end
local m = redis.call('HMGET', meta, 'v', 'b', 'n')
local version, base, held = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
if not version then
  redis.call('DEL', pages)
  local t = redis.call('TIME')
  local start = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', meta, 'v', start, 'b', start)
  version, base, held = tonumber(start), tonumber(start), 0
end
local since = math.max(tonumber(ARGV[1]), base)
local how, others, count = 0, '', limit
if since ~= version then
  local behind = version - since
  if behind < 0 or behind > tonumber(ARGV[9]) then return {version, 2, '', ''} end
  local lists, seen = {}, {}
  for _, entry in ipairs(redis.call('LRANGE', pages, -behind, -1)) do
    if atOf(entry) >= cutoff then
      local list = string.sub(entry, string.find(entry, ':', 1, true) + 1)
      lists[#lists + 1] = list
      for id in string.gmatch(list, '[^,]+') do seen[id] = true end
    end
  end
  others = table.concat(lists, ',')
  local all, picked = page, {}
  if spares ~= '' then all = page .. ',' .. spares end
  for id in string.gmatch(all, '[^,]+') do
    if #picked == limit then break end
    if not seen[id] then picked[#picked + 1] = id; seen[id] = true end
  end
  if #picked == 0 then return {version, 1, '', others} end
  page, count, how = table.concat(picked, ','), #picked, 1
end
if redis.call('RPUSH', pages, now .. ':' .. page) == 1 then held, base = 0, version end
held = held + count
local head = redis.call('LINDEX', pages, 0)
while head and atOf(head) < cutoff do
  redis.call('LPOP', pages)
  held, base = held - idsIn(head), base + 1
  head = redis.call('LINDEX', pages, 0)
end
local over = held - maxSeen
while over > 0 do
  head = redis.call('LPOP', pages)
  if not head then break end
  local n = idsIn(head)
  if n > over then
    local colon = string.find(head, ':', 1, true)
    local cut = colon
    for _ = 1, over do cut = string.find(head, ',', cut + 1, true) end
    redis.call('LPUSH', pages, string.sub(head, 1, colon) .. string.sub(head, cut + 1))
    n = over
  else
    base = base + 1
  end
  held, over = held - n, over - n
end
redis.call('HSET', meta, 'n', held, 'b', base)
version = redis.call('HINCRBY', meta, 'v', 1)
redis.call('PEXPIRE', pages, ARGV[5])
redis.call('PEXPIRE', meta, ARGV[5])
if how == 0 then page = '' end
return {version, how, page, others}
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

// appendIDs appends ids to buf, comma-separated.
func appendIDs(buf []byte, ids []int64) []byte {
	for i, id := range ids {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, id, 10)
	}
	return buf
}

// Take records the page in one round trip, shared with the Takes of other pages under way.
func (s *RedisSeen) Take(ctx context.Context, viewer int64, since seenVersion, candidates []int64, limit int, now, cutoff int64) (taken, error) {
	if len(candidates) == 0 || limit <= 0 {
		return taken{version: since}, nil
	}
	candidates = distinct(candidates)
	n := min(limit, len(candidates))
	ids := appendIDs(make([]byte, 0, 16*len(candidates)), candidates[:n])
	page := len(ids)
	ids = appendIDs(ids, candidates[n:])
	cmd, err := s.takes.Do(ctx, cache.ScriptCall{Script: takeScript, Keys: s.keys(viewer), Args: []any{
		int64(since), now, cutoff, s.maxSeen, s.window.Milliseconds(), ids[:page], n, ids[page:], maxCheckedPages}})
	var reply []any
	if err == nil {
		reply, err = cmd.Slice()
	}
	if err != nil {
		return taken{}, fmt.Errorf("take unseen videos: %w", err)
	}
	t, err := parseTake(reply, candidates[:n])
	if err != nil {
		return taken{}, fmt.Errorf("take unseen videos: %w", err)
	}
	return t, nil
}

// parseTake reads the take script's reply to a Take of page.
func parseTake(reply []any, page []int64) (taken, error) {
	if len(reply) != 4 {
		return taken{}, fmt.Errorf("bad reply %v", reply)
	}
	version, _ := reply[0].(int64)
	how, _ := reply[1].(int64)
	picks, _ := reply[2].(string)
	others, _ := reply[3].(string)
	if version <= 0 {
		return taken{}, fmt.Errorf("bad reply %v", reply)
	}
	t := taken{version: seenVersion(version)}
	switch how {
	case takeAppended:
		t.ids = slices.Clone(page)
	case takeChecked:
		t.ids = make([]int64, 0, len(page))
		if err := splitIDs(picks, func(id int64) { t.ids = append(t.ids, id) }); err != nil {
			return taken{}, err
		}
	case takeBehind:
		t.behind = true
	default:
		return taken{}, fmt.Errorf("bad reply %v", reply)
	}
	if err := splitIDs(others, func(id int64) { t.others = append(t.others, id) }); err != nil {
		return taken{}, err
	}
	return t, nil
}

// Seen reads the viewer's pages and version, one MULTI of two commands, and calls rank with
// the ids of those returned since cutoff.
func (s *RedisSeen) Seen(ctx context.Context, viewer, cutoff int64, rank func(seen *idSet)) (seenVersion, error) {
	keys := s.keys(viewer)
	var pages *redis.StringSliceCmd
	var version *redis.StringCmd
	_, err := s.r.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		pages = p.LRange(ctx, keys[0], 0, -1)
		version = p.HGet(ctx, keys[1], "v")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) { // a missing version is nil: nothing recorded
		return 0, fmt.Errorf("read seen videos: %w", err)
	}
	var set idSet
	if version.Err() != nil {
		// No version: nothing recorded. A list without one lost it (evicted): the next Take
		// deletes the list and starts over.
		rank(&set)
		return 0, nil
	}
	v, err := version.Int64()
	if err != nil {
		return 0, fmt.Errorf("read seen videos: %w", err)
	}
	for _, page := range pages.Val() {
		at, ids, err := parsePage(page)
		if err == nil && at >= cutoff {
			err = splitIDs(ids, func(id int64) { set.Add(id) })
		}
		if err != nil {
			return 0, fmt.Errorf("read seen videos: %w", err)
		}
	}
	rank(&set)
	return seenVersion(v), nil
}

// Reset deletes the viewer's pages and version: the next Take starts the record over.
func (s *RedisSeen) Reset(ctx context.Context, viewer int64) error {
	if err := s.r.Client().Del(ctx, s.keys(viewer)...).Err(); err != nil {
		return fmt.Errorf("reset seen videos: %w", err)
	}
	return nil
}
