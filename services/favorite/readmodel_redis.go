package favorite

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/batch"
	"github.com/douyin-backend/douyin/internal/cache"
)

// RedisReadModel is the ReadModel on Redis. Keys, under the deployment's prefix:
//
//	fav:u:{user}   SET of the liked video ids, plus cache.SetLoaded once loaded from SQL
//	fav:v:{video}  STRING the video's favorite_count
//	fav:sp:{user}  STRING the cache pair "favorite_count:total_favorited" (likes given, likes
//	               received), one MGET for a page's authors (fav:s:{user}, the hash of earlier
//	               versions, is no longer read; it expires)
//	fav:seq        STRING the last seq handed out, in microseconds
//	fav:q:{user}   HASH video id → seq (µs) of the user's last step that changed its membership;
//	               "a:" video id → the seq of the newest step applied to the pair, changed or not;
//	               "c:" video id → the newest committed seq (µs) settled for the pair
//	fav:pv:{video} HASH user id → the pair's pending delta (set state minus SQL state, ±1)
//	fav:pf:{user}  HASH video id → the same delta, by liker
//	fav:pt:{user}  HASH "liker:video" → the same delta, by author
//	fav:ev:{video}, fav:es:{user} STRING epochs: how many Settles moved the video's count, the
//	               user's counters; a fill is cached only if the epoch did not move since the
//	               read before its SQL read
//	fav:cv:{video}, fav:cs:{user} STRING changes being committed that touch the video, the user
//	               (Committing); no fill is cached while it is above zero
type RedisReadModel struct {
	r          *cache.Redis
	setTTL     time.Duration
	counterTTL time.Duration
	// steps shares one pipelined round trip among the Reserve and Apply calls of concurrent
	// likes: each script still runs atomically, in the order the calls queued.
	steps *batch.Batcher[cache.ScriptCall, *redis.Cmd]
}

var _ ReadModel = (*RedisReadModel)(nil)

// maxPipelinedSteps bounds the Reserve and Apply scripts of one round trip.
const maxPipelinedSteps = 128

// NewRedisReadModel returns the read model on r. Liked sets live setTTL and counters
// counterTTL (both with jitter); an action renews its user's set.
func NewRedisReadModel(r *cache.Redis, setTTL, counterTTL time.Duration) *RedisReadModel {
	m := &RedisReadModel{r: r, setTTL: setTTL, counterTTL: counterTTL}
	m.steps = batch.New(maxPipelinedSteps, func(ctx context.Context, calls []cache.ScriptCall) ([]*redis.Cmd, []error) {
		return cache.RunPipelined(ctx, r.Client(), calls), make([]error, len(calls)) // each command carries its own error
	})
	return m
}

func (m *RedisReadModel) key(kind string, id int64) string {
	return m.r.IDKey(id, "fav:", kind, ":")
}

func (m *RedisReadModel) likedKey(userID int64) string  { return m.key("u", userID) }
func (m *RedisReadModel) countKey(videoID int64) string { return m.key("v", videoID) }
func (m *RedisReadModel) statsKey(userID int64) string  { return m.key("sp", userID) }
func (m *RedisReadModel) stepsKey(userID int64) string  { return m.key("q", userID) }

// pendingKeys are the pending-delta hashes of c: by video, by liker, by author.
func (m *RedisReadModel) pendingKeys(c Change) []string {
	return []string{m.key("pv", c.VideoID), m.key("pf", c.UserID), m.key("pt", c.AuthorID)}
}

// pendingFields are the fields of c's pair in the hashes of pendingKeys, in that order.
func pendingFields(c Change) []any {
	return []any{c.UserID, c.VideoID, strconv.FormatInt(c.UserID, 10) + ":" + strconv.FormatInt(c.VideoID, 10)}
}

// setPendingLua sets the pair's pending delta to n in the three hashes (KEYS[i0..i0+2], fields
// ARGV[a0..a0+2]), dropping the field at zero; a hash written is kept ttl ms.
const setPendingLua = `
local function setPending(i0, a0, n, ttl)
  for j = 0, 2 do
    if n == 0 then
      redis.call('HDEL', KEYS[i0 + j], ARGV[a0 + j])
    else
      redis.call('HSET', KEYS[i0 + j], ARGV[a0 + j], n)
      redis.call('PEXPIRE', KEYS[i0 + j], ttl)
    end
  end
end
`

// reserveScript hands out a step's seq: the server's clock in microseconds, pushed past the
// last one handed out, so it strictly increases even if the clock steps back (it is exact in
// Lua's doubles up to 2^53 µs, year 2255). KEYS: liked set, seq. ARGV: the loaded sentinel.
// Returns -1, handing out nothing, when the set is not loaded.
var reserveScript = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end
local t = redis.call('TIME')
local seq = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if seq <= last then seq = last + 1 end
redis.call('SET', KEYS[2], string.format('%.0f', seq))
return seq
`)

// Reserve runs reserveScript. The seq it returns is in nanoseconds, the unit of the seqs the
// service hands out itself, so both kinds order against each other in SQL.
func (m *RedisReadModel) Reserve(ctx context.Context, userID int64) (int64, error) {
	cmd, _ := m.steps.Do(ctx, cache.ScriptCall{Script: reserveScript, Keys: []string{m.likedKey(userID), m.r.Key("fav:seq")}, Args: []any{cache.SetLoaded}})
	seq, err := cmd.Int64()
	if err != nil {
		return 0, fmt.Errorf("reserve a like seq for user %d in redis: %w", userID, err)
	}
	if seq < 0 {
		return 0, ErrNotLoaded
	}
	return seq * 1000, nil
}

// applyScript is the one atomic step of a like (ARGV[2] = 1) or unlike (0) reserved at seq.
//
// KEYS: liked set, video count, user stats, author stats, the user's steps, then the pending
// hashes (by video, liker, author). ARGV: video id, 1|0, the loaded sentinel, set ttl ms, the
// seq (µs), then the pair's fields in the pending hashes. Returns -1 when the set is not
// loaded, 1 when the set changed, else 0: unchanged, or stale (the pair took a newer step or
// settled a newer commit: SQL ends at that one's state, which the set shows already or will
// once it settles). Only counters that exist move: a missing one is loaded from SQL (plus the
// pending deltas) on its next read, and creating it from a delta would make it a wrong
// absolute value.
var applyScript = redis.NewScript(setPendingLua + cache.PairLua + `
if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 0 then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local seq = tonumber(ARGV[5])
for _, v in ipairs(redis.call('HMGET', KEYS[5], ARGV[1], 'a:' .. ARGV[1], 'c:' .. ARGV[1])) do
  if v and seq <= tonumber(v) then return 0 end
end
redis.call('HSET', KEYS[5], 'a:' .. ARGV[1], ARGV[5])
redis.call('PEXPIRE', KEYS[5], ARGV[4])
local changed
if ARGV[2] == '1' then
  changed = redis.call('SADD', KEYS[1], ARGV[1])
else
  changed = redis.call('SREM', KEYS[1], ARGV[1])
end
if changed == 0 then return 0 end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[5])
local d = 1
if ARGV[2] ~= '1' then d = -1 end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('INCRBY', KEYS[2], d) end
movePair(KEYS[3], 1, d)
movePair(KEYS[4], 2, d)
local pending = tonumber(redis.call('HGET', KEYS[6], ARGV[6]) or '0') + d
setPending(6, 6, pending, ARGV[4])
return 1
`)

// Apply runs applyScript.
func (m *RedisReadModel) Apply(ctx context.Context, c Change, seq int64) (Applied, error) {
	liked := "0"
	if c.Liked {
		liked = "1"
	}
	keys := append([]string{m.likedKey(c.UserID), m.countKey(c.VideoID), m.statsKey(c.UserID), m.statsKey(c.AuthorID),
		m.stepsKey(c.UserID)}, m.pendingKeys(c)...)
	args := append([]any{c.VideoID, liked, cache.SetLoaded, cache.TTL(m.setTTL).Milliseconds(), seq / 1000}, pendingFields(c)...)
	cmd, _ := m.steps.Do(ctx, cache.ScriptCall{Script: applyScript, Keys: keys, Args: args})
	res, err := cmd.Int64()
	if err != nil {
		return Applied{}, fmt.Errorf("apply like of user %d on video %d to redis: %w", c.UserID, c.VideoID, err)
	}
	if res < 0 {
		return Applied{}, ErrNotLoaded
	}
	return Applied{Changed: res == 1}, nil
}

// FillLiked creates the user's set unless it exists.
func (m *RedisReadModel) FillLiked(ctx context.Context, userID int64, videoIDs []int64) error {
	if err := cache.FillSet(ctx, m.r.Client(), m.likedKey(userID), videoIDs, cache.TTL(m.setTTL)).Err(); err != nil {
		return fmt.Errorf("fill liked set of user %d: %w", userID, err)
	}
	return nil
}

// Liked reads the user's set (SMEMBERS; the loaded sentinel is not a video) and steps
// (HGETALL) in one pipeline.
func (m *RedisReadModel) Liked(ctx context.Context, userID int64) (LikedSet, bool, error) {
	pipe := m.r.Client().Pipeline()
	membersCmd := pipe.SMembers(ctx, m.likedKey(userID))
	stepsCmd := pipe.HGetAll(ctx, m.stepsKey(userID))
	if _, err := pipe.Exec(ctx); err != nil {
		return LikedSet{}, false, fmt.Errorf("read liked set of user %d from redis: %w", userID, err)
	}
	loaded := false
	members := membersCmd.Val()
	set := LikedSet{Videos: make([]int64, 0, len(members))}
	for _, member := range members {
		if member == cache.SetLoaded {
			loaded = true
			continue
		}
		id, err := strconv.ParseInt(member, 10, 64)
		if err != nil {
			return LikedSet{}, false, fmt.Errorf("liked set of user %d holds %q, not a video id", userID, member)
		}
		set.Videos = append(set.Videos, id)
	}
	if !loaded {
		return LikedSet{}, false, nil
	}
	for field, value := range stepsCmd.Val() {
		id, err1 := strconv.ParseInt(field, 10, 64)
		if err1 != nil {
			continue // a "c:" field: the settled seq of a pair
		}
		seq, err2 := strconv.ParseInt(value, 10, 64)
		if err2 != nil {
			return LikedSet{}, false, fmt.Errorf("steps of user %d hold %q: %q", userID, field, value)
		}
		if set.LastStep == nil {
			set.LastStep = map[int64]int64{}
		}
		set.LastStep[id] = seq
	}
	return set, true, nil
}

// VideoFavorites reads the counts with one MGET, their epochs with another, the viewer's likes
// with one SMISMEMBER (its first member is the loaded sentinel) and the users' counters as
// UserStats does, all in one pipeline.
func (m *RedisReadModel) VideoFavorites(ctx context.Context, viewerID int64, videoIDs, userIDs []int64) (CachedVideoFavorites, error) {
	keys := make([]string, 2*len(videoIDs))
	for i, id := range videoIDs {
		keys[i] = m.countKey(id)
		keys[len(videoIDs)+i] = m.key("ev", id)
	}
	pipe := m.r.Client().Pipeline()
	var countsCmd, epochsCmd *redis.SliceCmd
	if len(videoIDs) > 0 {
		countsCmd = pipe.MGet(ctx, keys[:len(videoIDs)]...)
		epochsCmd = pipe.MGet(ctx, keys[len(videoIDs):]...)
	}
	var likedCmd *redis.BoolSliceCmd
	if viewerID > 0 && len(videoIDs) > 0 {
		likedCmd = cache.MembersOfLoaded(ctx, pipe, m.likedKey(viewerID), videoIDs)
	}
	users := m.queueUserStats(ctx, pipe, userIDs)
	if _, err := pipe.Exec(ctx); err != nil {
		return CachedVideoFavorites{}, fmt.Errorf("read video favorites from redis: %w", err)
	}
	out := CachedVideoFavorites{Counts: make(map[int64]int64, len(videoIDs)), Users: users()}
	if countsCmd == nil {
		return out, nil
	}
	epochs := epochsCmd.Val()
	for i, v := range countsCmd.Val() {
		if n, ok := cache.ParseCounter(v); ok {
			out.Counts[videoIDs[i]] = n
			continue
		}
		noteMissing(&out.MissingCounts, &out.Epochs, videoIDs[i], epochs[i])
	}
	if likedCmd != nil {
		if flags, loaded := cache.LoadedMembers(likedCmd, len(videoIDs)); loaded {
			out.LikedLoaded = true
			out.Liked = make(map[int64]bool, len(videoIDs))
			for i, id := range videoIDs {
				if flags[i] {
					out.Liked[id] = true
				}
			}
		}
	}
	return out, nil
}

// noteMissing adds id, whose counter is not cached, to missing, and its epoch (an MGET reply)
// to epochs unless it is absent or zero, for the fill that follows.
func noteMissing(missing *[]int64, epochs *map[int64]int64, id int64, epoch any) {
	*missing = append(*missing, id)
	if e, ok := cache.ParseCounter(epoch); ok && e != 0 {
		if *epochs == nil {
			*epochs = map[int64]int64{}
		}
		(*epochs)[id] = e
	}
}

// LikedAmong is VideoFavorites' SMISMEMBER alone.
func (m *RedisReadModel) LikedAmong(ctx context.Context, viewerID int64, videoIDs []int64, liked []bool) (bool, error) {
	cmd := cache.MembersOfLoaded(ctx, m.r.Client(), m.likedKey(viewerID), videoIDs)
	if err := cmd.Err(); err != nil {
		return false, fmt.Errorf("read liked flags of user %d from redis: %w", viewerID, err)
	}
	flags, loaded := cache.LoadedMembers(cmd, len(videoIDs))
	copy(liked, flags)
	return loaded, nil
}

// sumHashLua defines sumHash(key): the sum of a hash's values.
const sumHashLua = `
local function sumHash(key)
  local n = 0
  for _, v in ipairs(redis.call('HVALS', key)) do n = n + tonumber(v) end
  return n
end
`

// fillCountsScript caches each count as read from SQL plus the video's pending deltas, unless
// a count is cached (it was loaded earlier and moved by every step since, so it is newer than
// this SQL read), and returns {1, cached value} per video; {0, 0} when the video's epoch moved
// since the read (a commit settled: the SQL read may miss it) or a commit is under way
// (Committing). KEYS: count, pending hash, epoch, committing mark, for each video. ARGV: ttl
// ms, then the SQL count and the epoch read, per video.
var fillCountsScript = redis.NewScript(sumHashLua + `
local out = {}
for i = 1, #KEYS, 4 do
  local a = (i - 1) / 4 * 2 + 2
  if tonumber(redis.call('GET', KEYS[i + 2]) or '0') ~= tonumber(ARGV[a + 1]) or tonumber(redis.call('GET', KEYS[i + 3]) or '0') > 0 then
    out[#out + 1] = 0
    out[#out + 1] = 0
  else
    local n = tonumber(ARGV[a]) + sumHash(KEYS[i + 1])
    if not redis.call('SET', KEYS[i], n, 'NX', 'PX', ARGV[1]) then
      n = tonumber(redis.call('GET', KEYS[i]))
    end
    out[#out + 1] = 1
    out[#out + 1] = n
  end
end
return out
`)

// FillVideoCounts runs fillCountsScript.
func (m *RedisReadModel) FillVideoCounts(ctx context.Context, counts, epochs map[int64]int64) (map[int64]int64, error) {
	if len(counts) == 0 {
		return map[int64]int64{}, nil
	}
	ids := make([]int64, 0, len(counts))
	keys := make([]string, 0, 4*len(counts))
	args := make([]any, 0, 2*len(counts)+1)
	args = append(args, cache.TTL(m.counterTTL).Milliseconds())
	for id, n := range counts {
		ids = append(ids, id)
		keys = append(keys, m.countKey(id), m.key("pv", id), m.key("ev", id), m.key("cv", id))
		args = append(args, n, epochs[id])
	}
	vals, err := fillCountsScript.Run(ctx, m.r.Client(), keys, args...).Int64Slice()
	if err != nil || len(vals) != 2*len(ids) {
		return nil, fmt.Errorf("fill video favorite counts: %w (%d values for %d videos)", err, len(vals), len(ids))
	}
	out := make(map[int64]int64, len(ids))
	for i, id := range ids {
		if vals[2*i] == 1 {
			out[id] = vals[2*i+1]
		}
	}
	return out, nil
}

// UserStats reads the users' pairs with one MGET, and the epochs with another, in one
// pipeline.
func (m *RedisReadModel) UserStats(ctx context.Context, userIDs []int64) (CachedUserStats, error) {
	pipe := m.r.Client().Pipeline()
	users := m.queueUserStats(ctx, pipe, userIDs)
	if _, err := pipe.Exec(ctx); err != nil {
		return CachedUserStats{}, fmt.Errorf("read favorite stats from redis: %w", err)
	}
	return users(), nil
}

// queueUserStats queues UserStats' commands on pipe: one MGET of the users' pairs and one of
// their epochs. The returned read gives their answer once pipe has run without an error.
func (m *RedisReadModel) queueUserStats(ctx context.Context, pipe redis.Pipeliner, userIDs []int64) (read func() CachedUserStats) {
	if len(userIDs) == 0 {
		return func() CachedUserStats { return CachedUserStats{} }
	}
	keys := make([]string, 2*len(userIDs))
	for i, id := range userIDs {
		keys[i] = m.statsKey(id)
		keys[len(userIDs)+i] = m.key("es", id)
	}
	statsCmd := pipe.MGet(ctx, keys[:len(userIDs)]...)
	epochsCmd := pipe.MGet(ctx, keys[len(userIDs):]...)
	return func() CachedUserStats {
		out := CachedUserStats{Found: make(map[int64]UserCount, len(userIDs))}
		epochs := epochsCmd.Val()
		for i, v := range statsCmd.Val() {
			id := userIDs[i]
			if given, received, ok := cache.ParsePair(v); ok {
				out.Found[id] = UserCount{UserID: id, FavoriteCount: given, TotalFavorited: received}
				continue
			}
			noteMissing(&out.Missing, &out.Epochs, id, epochs[i])
		}
		return out
	}
}

// fillStatsScript creates each user's pair from SQL's counters plus the user's pending deltas
// (as liker, as author), unless the pair exists, and returns {1, favorite_count,
// total_favorited} per user as cached; {0, 0, 0} when the user's epoch moved since the read
// or a commit is under way. KEYS: stats, pending by liker, pending by author, epoch,
// committing mark, for each user. ARGV: ttl ms, then favorite_count, total_favorited and the
// epoch read, per user.
var fillStatsScript = redis.NewScript(sumHashLua + cache.PairLua + `
local out = {}
for i = 1, #KEYS, 5 do
  local a = (i - 1) / 5 * 3 + 2
  if tonumber(redis.call('GET', KEYS[i + 3]) or '0') ~= tonumber(ARGV[a + 2]) or tonumber(redis.call('GET', KEYS[i + 4]) or '0') > 0 then
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = 0
  else
    local v = redis.call('GET', KEYS[i])
    if not v then
      v = formatPair(tonumber(ARGV[a]) + sumHash(KEYS[i + 1]), tonumber(ARGV[a + 1]) + sumHash(KEYS[i + 2]))
      redis.call('SET', KEYS[i], v, 'PX', ARGV[1])
    end
    local given, received = parsePair(v)
    out[#out + 1] = 1
    out[#out + 1] = given
    out[#out + 1] = received
  end
end
return out
`)

// FillUserStats runs fillStatsScript.
func (m *RedisReadModel) FillUserStats(ctx context.Context, stats map[int64]UserCount, epochs map[int64]int64) (map[int64]UserCount, error) {
	if len(stats) == 0 {
		return map[int64]UserCount{}, nil
	}
	ids := make([]int64, 0, len(stats))
	keys := make([]string, 0, 5*len(stats))
	args := make([]any, 0, 3*len(stats)+1)
	args = append(args, cache.TTL(m.counterTTL).Milliseconds())
	for id, c := range stats {
		ids = append(ids, id)
		keys = append(keys, m.statsKey(id), m.key("pf", id), m.key("pt", id), m.key("es", id), m.key("cs", id))
		args = append(args, c.FavoriteCount, c.TotalFavorited, epochs[id])
	}
	vals, err := fillStatsScript.Run(ctx, m.r.Client(), keys, args...).Int64Slice()
	if err != nil || len(vals) != 3*len(ids) {
		return nil, fmt.Errorf("fill favorite stats: %w (%d values for %d users)", err, len(vals), len(ids))
	}
	out := make(map[int64]UserCount, len(ids))
	for i, id := range ids {
		if vals[3*i] == 1 {
			out[id] = UserCount{UserID: id, FavoriteCount: vals[3*i+1], TotalFavorited: vals[3*i+2]}
		}
	}
	return out, nil
}

// settleScript: KEYS liked set, video count, liker stats, author stats, the liker's steps,
// then the pending hashes (by video, liker, author), then the epochs (video, liker, author),
// then the committing marks (video, liker, author); ARGV video id, the committed state 1|0,
// loaded sentinel, the committed seq (µs), flipped 1|0, ttl ms, then the pair's fields in the
// pending hashes.
//
// A commit reports the pair's SQL state and the seq it has reached. If that is older than
// what an earlier Settle of the pair saw (two batches settling out of order), the pending
// delta stays. Otherwise the set's membership takes the committed state when SQL has every
// step the set took (no step, changed or not, newer than the committed seq), recording the
// committed seq as the pair's last step when that changed the set (a consumer faster than the
// request settles before the request's own step, which is then stale), and the pair's pending delta
// becomes what it is by definition, set state minus SQL state: so a redelivered event, or a
// Settle lost to a crash, is made good by the pair's next Settle. The counters are dropped
// when SQL or the delta moved, so their next read loads SQL plus the pending deltas; their
// epochs move with them, so a fill whose SQL read came before this commit is not cached.
// Last, the change's Committing mark ends.
var settleScript = redis.NewScript(setPendingLua + countDownLua + `
local settledField = 'c:' .. ARGV[1]
local settled = tonumber(redis.call('HGET', KEYS[5], settledField) or '0')
local committedSeq = tonumber(ARGV[4])
local moved = ARGV[5] == '1'
if committedSeq >= settled then
  redis.call('HSET', KEYS[5], settledField, ARGV[4])
  redis.call('PEXPIRE', KEYS[5], ARGV[6])
  local old = tonumber(redis.call('HGET', KEYS[6], ARGV[7]) or '0')
  local new = old
  local steps = redis.call('HMGET', KEYS[5], ARGV[1], 'a:' .. ARGV[1])
  local last = math.max(tonumber(steps[1] or '0'), tonumber(steps[2] or '0'))
  if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 1 then
    if committedSeq >= last then
      local changed
      if ARGV[2] == '1' then changed = redis.call('SADD', KEYS[1], ARGV[1]) else changed = redis.call('SREM', KEYS[1], ARGV[1]) end
      -- The commit's step is the pair's newest: it orders the list like a step applied first.
      if changed == 1 then redis.call('HSET', KEYS[5], ARGV[1], ARGV[4]) end
    end
    new = redis.call('SISMEMBER', KEYS[1], ARGV[1]) - tonumber(ARGV[2])
  elseif committedSeq >= last then
    new = 0
  end
  if new ~= old then
    setPending(6, 7, new, ARGV[6])
    moved = true
  end
end
if moved then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  for j = 9, 11 do
    redis.call('INCR', KEYS[j])
    redis.call('PEXPIRE', KEYS[j], ARGV[6])
  end
end
for j = 12, 14 do countDown(KEYS[j]) end
return 1
`)

// countDownLua defines countDown(key): one less of a counter, deleted at zero (never below).
const countDownLua = `
local function countDown(key)
  if tonumber(redis.call('GET', key) or '0') <= 1 then redis.call('DEL', key) else redis.call('DECR', key) end
end
`

// committingTTL bounds a Committing mark that no Settle or Release ends (the consumer died
// mid-commit, or its Settle failed): the fills it holds back resume after it, and until then
// readers get SQL's counters, which lack the likes still queued. A batch commits and settles
// in milliseconds; one slower than this is unprotected, as before the marks.
const committingTTL = 2 * time.Second

// committingScript adds one to each mark of KEYS (repeats count), living ARGV[1] ms.
var committingScript = redis.NewScript(`
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('PEXPIRE', key, ARGV[1])
end
return 1
`)

// releaseScript takes one off each mark of KEYS.
var releaseScript = redis.NewScript(countDownLua + `
for _, key in ipairs(KEYS) do countDown(key) end
return 1
`)

// committingKeys are the marks of changes: video, liker, author each.
func (m *RedisReadModel) committingKeys(changes []Change) []string {
	keys := make([]string, 0, 3*len(changes))
	for _, c := range changes {
		keys = append(keys, m.key("cv", c.VideoID), m.key("cs", c.UserID), m.key("cs", c.AuthorID))
	}
	return keys
}

// Committing runs committingScript.
func (m *RedisReadModel) Committing(ctx context.Context, changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	if err := committingScript.Run(ctx, m.r.Client(), m.committingKeys(changes), committingTTL.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("mark %d likes as committing in redis: %w", len(changes), err)
	}
	return nil
}

// Release runs releaseScript.
func (m *RedisReadModel) Release(ctx context.Context, changes []Change) error {
	if len(changes) == 0 {
		return nil
	}
	if err := releaseScript.Run(ctx, m.r.Client(), m.committingKeys(changes)).Err(); err != nil {
		return fmt.Errorf("release %d committing likes in redis: %w", len(changes), err)
	}
	return nil
}

// Settle runs settleScript.
func (m *RedisReadModel) Settle(ctx context.Context, c Change, committed Committed) error {
	keys, args := m.settleArgs(c, committed)
	if err := settleScript.Run(ctx, m.r.Client(), keys, args...).Err(); err != nil {
		return fmt.Errorf("settle like of user %d on video %d in redis: %w", c.UserID, c.VideoID, err)
	}
	return nil
}

// SettleMany runs Settle for each settlement, in order, in one pipelined round trip (see
// cache.RunPipelined); an error is reported per settlement.
func (m *RedisReadModel) SettleMany(ctx context.Context, settlements []Settlement) []error {
	calls := make([]cache.ScriptCall, len(settlements))
	for i, st := range settlements {
		keys, args := m.settleArgs(st.Change, st.Committed)
		calls[i] = cache.ScriptCall{Script: settleScript, Keys: keys, Args: args}
	}
	errs := make([]error, len(settlements))
	for i, cmd := range cache.RunPipelined(ctx, m.r.Client(), calls) {
		if err := cmd.Err(); err != nil {
			c := settlements[i].Change
			errs[i] = fmt.Errorf("settle like of user %d on video %d in redis: %w", c.UserID, c.VideoID, err)
		}
	}
	return errs
}

// settleArgs are settleScript's keys and arguments for c's committed state.
func (m *RedisReadModel) settleArgs(c Change, committed Committed) ([]string, []any) {
	liked, flipped := "0", "0"
	if committed.Liked {
		liked = "1"
	}
	if committed.Flipped {
		flipped = "1"
	}
	keys := append([]string{m.likedKey(c.UserID), m.countKey(c.VideoID), m.statsKey(c.UserID), m.statsKey(c.AuthorID),
		m.stepsKey(c.UserID)}, m.pendingKeys(c)...)
	keys = append(keys, m.key("ev", c.VideoID), m.key("es", c.UserID), m.key("es", c.AuthorID))
	keys = append(keys, m.committingKeys([]Change{c})...)
	args := append([]any{c.VideoID, liked, cache.SetLoaded, committed.Seq / 1000, flipped, cache.TTL(m.setTTL).Milliseconds()}, pendingFields(c)...)
	return keys, args
}

// Forget deletes the user's set, the counters c touches, and the pair's pending delta and
// steps.
func (m *RedisReadModel) Forget(ctx context.Context, c Change) error {
	keys := m.pendingKeys(c)
	fields := pendingFields(c)
	_, err := m.r.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, m.likedKey(c.UserID), m.countKey(c.VideoID), m.statsKey(c.UserID), m.statsKey(c.AuthorID))
		for i, k := range keys {
			p.HDel(ctx, k, fmt.Sprint(fields[i]))
		}
		video := strconv.FormatInt(c.VideoID, 10)
		p.HDel(ctx, m.stepsKey(c.UserID), video, "a:"+video, "c:"+video)
		return nil
	})
	if err != nil {
		return fmt.Errorf("drop favorite keys of user %d, video %d: %w", c.UserID, c.VideoID, err)
	}
	return nil
}
