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

// applyScript is the one atomic step of a like (ARGV[2] = 1) or unlike (0).
//
// KEYS: liked set, video count, user stats, author stats, seq. ARGV: video id, 1|0, the
// loaded sentinel, set ttl ms. Returns {-1, 0} when the set is not loaded, else {changed, seq}:
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
local d = 1
if ARGV[2] ~= '1' then d = -1 end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('INCRBY', KEYS[2], d) end
if redis.call('HEXISTS', KEYS[3], 'favorite_count') == 1 then redis.call('HINCRBY', KEYS[3], 'favorite_count', d) end
if redis.call('HEXISTS', KEYS[4], 'total_favorited') == 1 then redis.call('HINCRBY', KEYS[4], 'total_favorited', d) end
return {1, seq}
`)

// Apply runs applyScript. The seq it returns is in nanoseconds, the unit of the seqs the
// service hands out itself, so both kinds order against each other in SQL.
func (m *RedisReadModel) Apply(ctx context.Context, c Change) (Applied, error) {
	liked := "0"
	if c.Liked {
		liked = "1"
	}
	keys := []string{m.likedKey(c.UserID), m.countKey(c.VideoID), m.statsKey(c.UserID), m.statsKey(c.AuthorID), m.r.Key("fav:seq")}
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

// VideoFavorites reads the counts with one MGET and the viewer's likes with one SMISMEMBER
// (its first member is the loaded sentinel), both in one pipeline.
func (m *RedisReadModel) VideoFavorites(ctx context.Context, viewerID int64, videoIDs []int64) (CachedVideoFavorites, error) {
	keys := make([]string, len(videoIDs))
	members := make([]any, 0, len(videoIDs)+1)
	members = append(members, cache.SetLoaded)
	for i, id := range videoIDs {
		keys[i] = m.countKey(id)
		members = append(members, id)
	}
	pipe := m.r.Client().Pipeline()
	countsCmd := pipe.MGet(ctx, keys...)
	var likedCmd *redis.BoolSliceCmd
	if viewerID > 0 {
		likedCmd = pipe.SMIsMember(ctx, m.likedKey(viewerID), members...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return CachedVideoFavorites{}, fmt.Errorf("read video favorites from redis: %w", err)
	}
	out := CachedVideoFavorites{Counts: make(map[int64]int64, len(videoIDs))}
	for i, v := range countsCmd.Val() {
		if n, ok := cache.ParseCounter(v); ok {
			out.Counts[videoIDs[i]] = n
		} else {
			out.MissingCounts = append(out.MissingCounts, videoIDs[i])
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

// FillVideoCounts writes the counts with SET NX in one pipeline: a count already there was
// loaded earlier and moved by every step since, so it is newer than this SQL read.
func (m *RedisReadModel) FillVideoCounts(ctx context.Context, counts map[int64]int64) error {
	if len(counts) == 0 {
		return nil
	}
	_, err := m.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for id, n := range counts {
			p.SetNX(ctx, m.countKey(id), n, cache.TTL(m.counterTTL))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fill video favorite counts: %w", err)
	}
	return nil
}

// UserStats reads every user's hash with HMGET in one pipeline.
func (m *RedisReadModel) UserStats(ctx context.Context, userIDs []int64) (map[int64]UserCount, []int64, error) {
	cmds := make([]*redis.SliceCmd, len(userIDs))
	_, err := m.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range userIDs {
			cmds[i] = p.HMGet(ctx, m.statsKey(id), fieldFavoriteCount, fieldTotalFavorited)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read favorite stats from redis: %w", err)
	}
	found := make(map[int64]UserCount, len(userIDs))
	var missing []int64
	for i, id := range userIDs {
		vals := cmds[i].Val()
		fav, ok1 := cache.ParseCounter(vals[0])
		total, ok2 := cache.ParseCounter(vals[1])
		if !ok1 || !ok2 {
			missing = append(missing, id)
			continue
		}
		found[id] = UserCount{UserID: id, FavoriteCount: fav, TotalFavorited: total}
	}
	return found, missing, nil
}

// FillUserStats creates each user's hash unless it exists, in one pipeline.
func (m *RedisReadModel) FillUserStats(ctx context.Context, stats map[int64]UserCount) error {
	if len(stats) == 0 {
		return nil
	}
	_, err := m.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for id, c := range stats {
			cache.FillHash(ctx, p, m.statsKey(id), cache.TTL(m.counterTTL),
				map[string]int64{fieldFavoriteCount: c.FavoriteCount, fieldTotalFavorited: c.TotalFavorited})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fill favorite stats: %w", err)
	}
	return nil
}

// Forget deletes the user's set and the counters c touches.
// settleScript: KEYS liked set, video count, liker stats, author stats; ARGV video id, 1 like
// / 0 unlike, loaded sentinel.
var settleScript = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 1 then
  if ARGV[2] == '1' then redis.call('SADD', KEYS[1], ARGV[1]) else redis.call('SREM', KEYS[1], ARGV[1]) end
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return 1
`)

// Settle runs settleScript.
func (m *RedisReadModel) Settle(ctx context.Context, c Change) error {
	liked := "0"
	if c.Liked {
		liked = "1"
	}
	keys := []string{m.likedKey(c.UserID), m.countKey(c.VideoID), m.statsKey(c.UserID), m.statsKey(c.AuthorID)}
	if err := settleScript.Run(ctx, m.r.Client(), keys, c.VideoID, liked, cache.SetLoaded).Err(); err != nil {
		return fmt.Errorf("settle like of user %d on video %d in redis: %w", c.UserID, c.VideoID, err)
	}
	return nil
}

func (m *RedisReadModel) Forget(ctx context.Context, c Change) error {
	err := m.r.Client().Del(ctx, m.likedKey(c.UserID), m.countKey(c.VideoID), m.statsKey(c.UserID), m.statsKey(c.AuthorID)).Err()
	if err != nil {
		return fmt.Errorf("drop favorite keys of user %d, video %d: %w", c.UserID, c.VideoID, err)
	}
	return nil
}
