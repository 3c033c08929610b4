package favorite

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
)

// Fields of the per-user counter hash.
const (
	fieldFavoriteCount  = "favorite_count"
	fieldTotalFavorited = "total_favorited"
)

// RedisReadModel is the ReadModel on Redis. Keys, under the deployment's prefix:
//
//	fav:u:{user}  SET of the liked video ids, plus cache.SetLoaded once loaded from SQL
//	fav:v:{video} STRING the video's favorite_count
//	fav:s:{user}  HASH favorite_count (likes given), total_favorited (likes received)
//	fav:seq       STRING the last seq handed out, in microseconds
//	fav:pv:{video} STRING the video's likes applied here but not yet committed to SQL (a delta)
//	fav:pu:{user} HASH the same deltas of favorite_count and total_favorited
//	fav:q:{user}  HASH video id → seq (microseconds) of the user's last step that changed its membership
type RedisReadModel struct {
	r          *cache.Redis
	setTTL     time.Duration
	counterTTL time.Duration
}

var _ ReadModel = (*RedisReadModel)(nil)

// NewRedisReadModel returns the read model on r. Liked sets live setTTL and counters
// counterTTL (both with jitter); an action renews its user's set.
func NewRedisReadModel(r *cache.Redis, setTTL, counterTTL time.Duration) *RedisReadModel {
	return &RedisReadModel{r: r, setTTL: setTTL, counterTTL: counterTTL}
}

func (m *RedisReadModel) likedKey(userID int64) string {
	return m.r.Key("fav:u:" + strconv.FormatInt(userID, 10))
}

func (m *RedisReadModel) countKey(videoID int64) string {
	return m.r.Key("fav:v:" + strconv.FormatInt(videoID, 10))
}

func (m *RedisReadModel) statsKey(userID int64) string {
	return m.r.Key("fav:s:" + strconv.FormatInt(userID, 10))
}

func (m *RedisReadModel) pendingCountKey(videoID int64) string {
	return m.r.Key("fav:pv:" + strconv.FormatInt(videoID, 10))
}

func (m *RedisReadModel) pendingStatsKey(userID int64) string {
	return m.r.Key("fav:pu:" + strconv.FormatInt(userID, 10))
}

func (m *RedisReadModel) lastStepKey(userID int64) string {
	return m.r.Key("fav:q:" + strconv.FormatInt(userID, 10))
}

// applyScript is the one atomic step of a like (ARGV[2] = 1) or unlike (0).
//
// KEYS: liked set, video count, user stats, author stats, seq, then the pending deltas of the
// video, the user and the author, and the user's last steps. ARGV: video id, 1|0, the loaded sentinel, set ttl ms. Returns {-1, 0} when the set is not loaded, else {changed, seq}:
// an unchanged step gets a seq too, because its event is still published.
// Only counters that exist move: a missing one is loaded from SQL on its next read, and
// creating it from a delta would make it a wrong absolute value. The seq is the server's
// clock in microseconds, pushed past the last one handed out, so it strictly increases even
// if the clock steps back (it is exact in Lua's doubles up to 2^53 µs, year 2255).
var applyScript = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 0 then return {-1, 0} end
local changed
if ARGV[2] == '1' then
  changed = redis.call('SADD', KEYS[1], ARGV[1])
else
  changed = redis.call('SREM', KEYS[1], ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local t = redis.call('TIME')
local seq = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[5]) or '0')
if seq <= last then seq = last + 1 end
redis.call('SET', KEYS[5], string.format('%.0f', seq))
if changed == 0 then return {0, seq} end
redis.call('HSET', KEYS[9], ARGV[1], string.format('%.0f', seq))
redis.call('PEXPIRE', KEYS[9], ARGV[4])
local d = 1
if ARGV[2] ~= '1' then d = -1 end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('INCRBY', KEYS[2], d) end
if redis.call('HEXISTS', KEYS[3], 'favorite_count') == 1 then redis.call('HINCRBY', KEYS[3], 'favorite_count', d) end
if redis.call('HEXISTS', KEYS[4], 'total_favorited') == 1 then redis.call('HINCRBY', KEYS[4], 'total_favorited', d) end
redis.call('INCRBY', KEYS[6], d)
redis.call('PEXPIRE', KEYS[6], ARGV[4])
redis.call('HINCRBY', KEYS[7], 'favorite_count', d)
redis.call('PEXPIRE', KEYS[7], ARGV[4])
redis.call('HINCRBY', KEYS[8], 'total_favorited', d)
redis.call('PEXPIRE', KEYS[8], ARGV[4])
return {1, seq}
`)

// Apply runs applyScript. The seq it returns is in nanoseconds, the unit of the seqs the
// service hands out itself, so both kinds order against each other in SQL.
func (m *RedisReadModel) Apply(ctx context.Context, c Change) (Applied, error) {
	liked := "0"
	if c.Liked {
		liked = "1"
	}
	keys := []string{m.likedKey(c.UserID), m.countKey(c.VideoID), m.statsKey(c.UserID), m.statsKey(c.AuthorID), m.r.Key("fav:seq"),
		m.pendingCountKey(c.VideoID), m.pendingStatsKey(c.UserID), m.pendingStatsKey(c.AuthorID), m.lastStepKey(c.UserID)}
	res, err := applyScript.Run(ctx, m.r.Client(), keys, c.VideoID, liked, cache.SetLoaded, cache.TTL(m.setTTL).Milliseconds()).Int64Slice()
	if err != nil {
		return Applied{}, fmt.Errorf("apply like of user %d on video %d to redis: %w", c.UserID, c.VideoID, err)
	}
	if len(res) != 2 {
		return Applied{}, fmt.Errorf("apply like to redis: unexpected reply %v", res)
	}
	switch res[0] {
	case -1:
		return Applied{}, ErrNotLoaded
	}
	return Applied{Changed: res[0] == 1, Seq: res[1] * 1000}, nil
}

// FillLiked creates the user's set unless it exists.
func (m *RedisReadModel) FillLiked(ctx context.Context, userID int64, videoIDs []int64) error {
	if err := cache.FillSet(ctx, m.r.Client(), m.likedKey(userID), videoIDs, cache.TTL(m.setTTL)).Err(); err != nil {
		return fmt.Errorf("fill liked set of user %d: %w", userID, err)
	}
	return nil
}

// Liked reads the user's set (SMEMBERS; the loaded sentinel is not a video) and last steps
// (HGETALL) in one pipeline.
func (m *RedisReadModel) Liked(ctx context.Context, userID int64) (LikedSet, bool, error) {
	pipe := m.r.Client().Pipeline()
	membersCmd := pipe.SMembers(ctx, m.likedKey(userID))
	stepsCmd := pipe.HGetAll(ctx, m.lastStepKey(userID))
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
		seq, err2 := strconv.ParseInt(value, 10, 64)
		if err1 != nil || err2 != nil {
			return LikedSet{}, false, fmt.Errorf("last steps of user %d hold %q: %q", userID, field, value)
		}
		if set.LastStep == nil {
			set.LastStep = map[int64]int64{}
		}
		set.LastStep[id] = seq
	}
	return set, true, nil
}

// VideoFavorites reads the counts with one MGET and the viewer's likes with one SMISMEMBER
// (its first member is the loaded sentinel), both in one pipeline.
func (m *RedisReadModel) VideoFavorites(ctx context.Context, viewerID int64, videoIDs []int64) (CachedVideoFavorites, error) {
	keys := make([]string, len(videoIDs))
	pendingKeys := make([]string, len(videoIDs))
	members := make([]any, 0, len(videoIDs)+1)
	members = append(members, cache.SetLoaded)
	for i, id := range videoIDs {
		keys[i] = m.countKey(id)
		pendingKeys[i] = m.pendingCountKey(id)
		members = append(members, id)
	}
	pipe := m.r.Client().Pipeline()
	countsCmd := pipe.MGet(ctx, keys...)
	pendingCmd := pipe.MGet(ctx, pendingKeys...)
	var likedCmd *redis.BoolSliceCmd
	if viewerID > 0 {
		likedCmd = pipe.SMIsMember(ctx, m.likedKey(viewerID), members...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return CachedVideoFavorites{}, fmt.Errorf("read video favorites from redis: %w", err)
	}
	out := CachedVideoFavorites{Counts: make(map[int64]int64, len(videoIDs))}
	pending := pendingCmd.Val()
	for i, v := range countsCmd.Val() {
		if n, ok := cache.ParseCounter(v); ok {
			out.Counts[videoIDs[i]] = n
			continue
		}
		out.MissingCounts = append(out.MissingCounts, videoIDs[i])
		if d, ok := cache.ParseCounter(pending[i]); ok && d != 0 {
			if out.PendingCounts == nil {
				out.PendingCounts = map[int64]int64{}
			}
			out.PendingCounts[videoIDs[i]] = d
		}
	}
	if likedCmd != nil {
		flags := likedCmd.Val()
		if len(flags) == len(videoIDs)+1 && flags[0] {
			out.LikedLoaded = true
			out.Liked = make(map[int64]bool, len(videoIDs))
			for i, id := range videoIDs {
				if flags[i+1] {
					out.Liked[id] = true
				}
			}
		}
	}
	return out, nil
}

// fillCountsScript caches each count as read from SQL plus the video's pending delta, unless
// a count is cached (it was loaded earlier and moved by every step since, so it is newer than
// this SQL read). KEYS: count, pending delta, for each video. ARGV: ttl ms, then the SQL
// counts in KEYS order.
var fillCountsScript = redis.NewScript(`
for i = 1, #KEYS, 2 do
  local n = tonumber(ARGV[(i + 1) / 2 + 1]) + tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  redis.call('SET', KEYS[i], n, 'NX', 'PX', ARGV[1])
end
return 1
`)

// FillVideoCounts runs fillCountsScript.
func (m *RedisReadModel) FillVideoCounts(ctx context.Context, counts map[int64]int64) error {
	if len(counts) == 0 {
		return nil
	}
	keys := make([]string, 0, 2*len(counts))
	args := make([]any, 0, len(counts)+1)
	args = append(args, cache.TTL(m.counterTTL).Milliseconds())
	for id, n := range counts {
		keys = append(keys, m.countKey(id), m.pendingCountKey(id))
		args = append(args, n)
	}
	if err := fillCountsScript.Run(ctx, m.r.Client(), keys, args...).Err(); err != nil {
		return fmt.Errorf("fill video favorite counts: %w", err)
	}
	return nil
}

// UserStats reads every user's hash and pending deltas with HMGET in one pipeline.
func (m *RedisReadModel) UserStats(ctx context.Context, userIDs []int64) (map[int64]UserCount, []int64, map[int64]UserCount, error) {
	cmds := make([]*redis.SliceCmd, len(userIDs))
	pendingCmds := make([]*redis.SliceCmd, len(userIDs))
	_, err := m.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range userIDs {
			cmds[i] = p.HMGet(ctx, m.statsKey(id), fieldFavoriteCount, fieldTotalFavorited)
			pendingCmds[i] = p.HMGet(ctx, m.pendingStatsKey(id), fieldFavoriteCount, fieldTotalFavorited)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read favorite stats from redis: %w", err)
	}
	found := make(map[int64]UserCount, len(userIDs))
	var missing []int64
	var pending map[int64]UserCount
	for i, id := range userIDs {
		vals := cmds[i].Val()
		fav, ok1 := cache.ParseCounter(vals[0])
		total, ok2 := cache.ParseCounter(vals[1])
		if ok1 && ok2 {
			found[id] = UserCount{UserID: id, FavoriteCount: fav, TotalFavorited: total}
			continue
		}
		missing = append(missing, id)
		p := pendingCmds[i].Val()
		pf, _ := cache.ParseCounter(p[0])
		pt, _ := cache.ParseCounter(p[1])
		if pf != 0 || pt != 0 {
			if pending == nil {
				pending = map[int64]UserCount{}
			}
			pending[id] = UserCount{UserID: id, FavoriteCount: pf, TotalFavorited: pt}
		}
	}
	return found, missing, pending, nil
}

// fillStatsScript creates each user's hash from SQL's counters plus the user's pending
// deltas, unless the hash exists. KEYS: stats, pending deltas, for each user. ARGV: ttl ms,
// then favorite_count, total_favorited for each user in KEYS order.
var fillStatsScript = redis.NewScript(`
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local p = redis.call('HMGET', KEYS[i + 1], 'favorite_count', 'total_favorited')
    redis.call('HSET', KEYS[i],
      'favorite_count', tonumber(ARGV[i + 1]) + tonumber(p[1] or '0'),
      'total_favorited', tonumber(ARGV[i + 2]) + tonumber(p[2] or '0'))
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
  end
end
return 1
`)

// FillUserStats runs fillStatsScript.
func (m *RedisReadModel) FillUserStats(ctx context.Context, stats map[int64]UserCount) error {
	if len(stats) == 0 {
		return nil
	}
	keys := make([]string, 0, 2*len(stats))
	args := make([]any, 0, 2*len(stats)+1)
	args = append(args, cache.TTL(m.counterTTL).Milliseconds())
	for id, c := range stats {
		keys = append(keys, m.statsKey(id), m.pendingStatsKey(id))
		args = append(args, c.FavoriteCount, c.TotalFavorited)
	}
	if err := fillStatsScript.Run(ctx, m.r.Client(), keys, args...).Err(); err != nil {
		return fmt.Errorf("fill favorite stats: %w", err)
	}
	return nil
}

// Forget deletes the user's set and the counters, pending deltas and last step c touches.
// settleScript: KEYS liked set, video count, liker stats, author stats, then the pending
// deltas of the video, the liker and the author, and the liker's last steps; ARGV video id,
// 1 like / 0 unlike, loaded sentinel, the event's seq in microseconds. The membership is set
// only when the set took no newer step on the pair: an older commit must not undo a newer
// action (the set was reloaded from SQL before the commit when there is no step at all). The
// committed change leaves the pending deltas (only those that exist: after a flush they are
// gone, and a delta must not be created from a commit).
var settleScript = redis.NewScript(`
local last = tonumber(redis.call('HGET', KEYS[8], ARGV[1]) or '0')
if tonumber(ARGV[4]) >= last and redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 1 then
  if ARGV[2] == '1' then redis.call('SADD', KEYS[1], ARGV[1]) else redis.call('SREM', KEYS[1], ARGV[1]) end
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
local d = -1
if ARGV[2] ~= '1' then d = 1 end
if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('INCRBY', KEYS[5], d) end
if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('HINCRBY', KEYS[6], 'favorite_count', d) end
if redis.call('EXISTS', KEYS[7]) == 1 then redis.call('HINCRBY', KEYS[7], 'total_favorited', d) end
return 1
`)

// Settle runs settleScript.
func (m *RedisReadModel) Settle(ctx context.Context, c Change, seq int64) error {
	liked := "0"
	if c.Liked {
		liked = "1"
	}
	keys := []string{m.likedKey(c.UserID), m.countKey(c.VideoID), m.statsKey(c.UserID), m.statsKey(c.AuthorID),
		m.pendingCountKey(c.VideoID), m.pendingStatsKey(c.UserID), m.pendingStatsKey(c.AuthorID), m.lastStepKey(c.UserID)}
	if err := settleScript.Run(ctx, m.r.Client(), keys, c.VideoID, liked, cache.SetLoaded, seq/1000).Err(); err != nil {
		return fmt.Errorf("settle like of user %d on video %d in redis: %w", c.UserID, c.VideoID, err)
	}
	return nil
}

func (m *RedisReadModel) Forget(ctx context.Context, c Change) error {
	_, err := m.r.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, m.likedKey(c.UserID), m.countKey(c.VideoID), m.statsKey(c.UserID), m.statsKey(c.AuthorID),
			m.pendingCountKey(c.VideoID), m.pendingStatsKey(c.UserID), m.pendingStatsKey(c.AuthorID))
		p.HDel(ctx, m.lastStepKey(c.UserID), strconv.FormatInt(c.VideoID, 10))
		return nil
	})
	if err != nil {
		return fmt.Errorf("drop favorite keys of user %d, video %d: %w", c.UserID, c.VideoID, err)
	}
	return nil
}
