package relation

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
)

// RedisCache is the Cache on Redis. Keys, under the deployment's prefix:
//
//	rel:f:{user}      SET of the ids the user follows, plus cache.SetLoaded once loaded from SQL
//	rel:counts:{user} STRING "follow_count:follower_count"
//
// A user's two counters are one string (a cache pair), not a hash, so a page's authors are one
// MGET (rel:c:{user}, the hash of earlier versions, is no longer read; it expires).
type RedisCache struct {
	r          *cache.Redis
	setTTL     time.Duration
	counterTTL time.Duration
}

var _ Cache = (*RedisCache)(nil)

// NewRedisCache returns the cache on r. Following sets live setTTL and counters counterTTL,
// both with jitter.
func NewRedisCache(r *cache.Redis, setTTL, counterTTL time.Duration) *RedisCache {
	return &RedisCache{r: r, setTTL: setTTL, counterTTL: counterTTL}
}

func (c *RedisCache) followingKey(userID int64) string {
	return c.r.IDKey(userID, "rel:f:")
}

func (c *RedisCache) countsKey(userID int64) string {
	return c.r.IDKey(userID, "rel:counts:")
}

// applyFollowScript is the atomic post-commit step. KEYS: follower's set, follower's counts,
// followee's counts. ARGV: followee id, 1|0, the loaded sentinel. A cached set decides
// idempotence (an unchanged set means the change is already there); without one the commit's
// own report that SQL changed does. Only counters that exist move, keeping their expiry:
// creating one from a delta would make it a wrong absolute value. A malformed counter fails
// the script, whose caller then drops the keys.
var applyFollowScript = redis.NewScript(cache.PairLua + `
local changed = 1
if redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 1 then
  if ARGV[2] == '1' then
    changed = redis.call('SADD', KEYS[1], ARGV[1])
  else
    changed = redis.call('SREM', KEYS[1], ARGV[1])
  end
end
if changed == 0 then return 0 end
local d = 1
if ARGV[2] ~= '1' then d = -1 end
-- One user after the other, so the step stays right even if both are the same user.
movePair(KEYS[2], 1, d)
movePair(KEYS[3], 2, d)
return 1
`)

// ApplyFollow runs applyFollowScript.
func (c *RedisCache) ApplyFollow(ctx context.Context, followerID, followeeID int64, follow bool) error {
	flag := "0"
	if follow {
		flag = "1"
	}
	keys := []string{c.followingKey(followerID), c.countsKey(followerID), c.countsKey(followeeID)}
	if err := applyFollowScript.Run(ctx, c.r.Client(), keys, followeeID, flag, cache.SetLoaded).Err(); err != nil {
		return fmt.Errorf("apply follow %d→%d to redis: %w", followerID, followeeID, err)
	}
	return nil
}

// Forget deletes the follower's set and both users' counters.
func (c *RedisCache) Forget(ctx context.Context, followerID, followeeID int64) error {
	err := c.r.Client().Del(ctx, c.followingKey(followerID), c.countsKey(followerID), c.countsKey(followeeID)).Err()
	if err != nil {
		return fmt.Errorf("drop relation keys of %d→%d: %w", followerID, followeeID, err)
	}
	return nil
}

// Relations reads every user's counters with one MGET and the viewer's follows with one
// SMISMEMBER (its first member is the loaded sentinel), in one pipeline.
func (c *RedisCache) Relations(ctx context.Context, viewerID int64, userIDs []int64) (CachedRelations, error) {
	out := CachedRelations{Counts: make(map[int64]Counts, len(userIDs))}
	if len(userIDs) == 0 {
		return out, nil
	}
	keys := make([]string, len(userIDs))
	for i, id := range userIDs {
		keys[i] = c.countsKey(id)
	}
	pipe := c.r.Client().Pipeline()
	countsCmd := pipe.MGet(ctx, keys...)
	var followCmd *redis.BoolSliceCmd
	if viewerID > 0 {
		followCmd = cache.MembersOfLoaded(ctx, pipe, c.followingKey(viewerID), userIDs)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return CachedRelations{}, fmt.Errorf("read relations from redis: %w", err)
	}
	for i, v := range countsCmd.Val() {
		id := userIDs[i]
		follows, followers, ok := cache.ParsePair(v)
		if !ok {
			out.MissingCounts = append(out.MissingCounts, id)
			continue
		}
		out.Counts[id] = Counts{UserID: id, FollowCount: follows, FollowerCount: followers}
	}
	if followCmd != nil {
		if flags, loaded := cache.LoadedMembers(followCmd, len(userIDs)); loaded {
			out.FollowingLoaded = true
			out.Following = make(map[int64]bool, len(userIDs))
			for i, id := range userIDs {
				if flags[i] {
					out.Following[id] = true
				}
			}
		}
	}
	return out, nil
}

// FollowingAmong is Relations' SMISMEMBER alone.
func (c *RedisCache) FollowingAmong(ctx context.Context, viewerID int64, userIDs []int64, following []bool) (bool, error) {
	cmd := cache.MembersOfLoaded(ctx, c.r.Client(), c.followingKey(viewerID), userIDs)
	if err := cmd.Err(); err != nil {
		return false, fmt.Errorf("read following flags of user %d from redis: %w", viewerID, err)
	}
	flags, loaded := cache.LoadedMembers(cmd, len(userIDs))
	copy(following, flags)
	return loaded, nil
}

// FillCounts caches each user's counters unless they are cached (they would be newer), in
// one pipeline.
func (c *RedisCache) FillCounts(ctx context.Context, counts map[int64]Counts) error {
	if len(counts) == 0 {
		return nil
	}
	_, err := c.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for id, n := range counts {
			p.SetNX(ctx, c.countsKey(id), cache.FormatPair(n.FollowCount, n.FollowerCount), cache.TTL(c.counterTTL))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fill relation counts: %w", err)
	}
	return nil
}

// FillFollowing creates the user's set unless it exists.
func (c *RedisCache) FillFollowing(ctx context.Context, userID int64, followeeIDs []int64) error {
	if err := cache.FillSet(ctx, c.r.Client(), c.followingKey(userID), followeeIDs, cache.TTL(c.setTTL)).Err(); err != nil {
		return fmt.Errorf("fill following set of user %d: %w", userID, err)
	}
	return nil
}
