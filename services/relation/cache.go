package relation

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/activity"
	"github.com/douyin-backend/douyin/internal/cache"
)

// Cache keeps the relation counters and each user's following set in front of SQL, loaded
// on demand. Follows are written to SQL synchronously; after a commit that changed a follow,
// the service applies the same change to the cache in one atomic step, and if that fails it
// drops the keys so the next read reloads them. An empty cache costs speed, never correctness.
//
// What remains: a read that loads a counter or set from SQL just before a commit and stores it
// just after, or two opposite actions of one user on one target whose post-commit steps run in
// the reverse order of their commits, leave a cached value off until it expires; counters live
// only cache.counter-ttl and sets cache.ttl (both with jitter), which bounds that.
type Cache interface {
	// ApplyFollow moves the cached state after a committed follow (follow=true) or unfollow
	// that changed SQL: the follower's set if it is cached and, if that changed or the set is
	// not cached, the two cached counters. Counters that are not cached stay so.
	ApplyFollow(ctx context.Context, followerID, followeeID int64, follow bool) error
	// Forget drops what a follow between the two users touches.
	Forget(ctx context.Context, followerID, followeeID int64) error
	// Relations reads the cached counters of userIDs and, for a viewer (> 0), which of them
	// the viewer follows, in one round trip.
	Relations(ctx context.Context, viewerID int64, userIDs []int64) (CachedRelations, error)
	// FillCounts caches counters read from SQL, keeping any already cached.
	FillCounts(ctx context.Context, counts map[int64]Counts) error
	// FillFollowing caches the user's following set read from SQL, unless one is cached.
	FillFollowing(ctx context.Context, userID int64, followeeIDs []int64) error
}

// CachedRelations is what the cache holds for a batch of users.
type CachedRelations struct {
	Counts        map[int64]Counts
	MissingCounts []int64
	// Following holds the requested users the viewer follows; valid only when FollowingLoaded.
	Following       map[int64]bool
	FollowingLoaded bool
}

// Option configures the service.
type Option func(*Service)

// WithCache serves counters and is_follow from c (Redis, or MemoryCache in the embedded
// mode). Without it every read goes to SQL.
func WithCache(c Cache) Option {
	return func(s *Service) { s.cache = c }
}

// WithActivity publishes follows and unfollows on the activity stream.
func WithActivity(p *activity.Publisher) Option { return func(s *Service) { s.activity = p } }

// WithLogger sets where degraded cache operations are reported (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// syncCommitted applies a committed change to the cache, dropping the keys if that fails.
func (s *Service) syncCommitted(ctx context.Context, followerID, followeeID int64, follow bool) {
	// The SQL change is done: a cancelled request must not leave the cache behind.
	ctx = context.WithoutCancel(ctx)
	err := s.cache.ApplyFollow(ctx, followerID, followeeID, follow)
	if err == nil {
		return
	}
	s.log.WarnContext(ctx, "relation cache update failed; dropping its keys", "err", err)
	if err := s.cache.Forget(ctx, followerID, followeeID); err != nil {
		s.log.ErrorContext(ctx, "relation cache keys not dropped; they stay off until they expire",
			"follower_id", followerID, "followee_id", followeeID, "err", err)
	}
}

// cachedRelations returns the counters of userIDs and which of them viewerID follows, from
// the cache with the misses loaded from SQL (one query for the counters, one for the viewer's
// set). served is false when the cache failed and the caller should read SQL alone.
func (s *Service) cachedRelations(ctx context.Context, viewerID int64, userIDs []int64) (counts map[int64]Counts, followed map[int64]bool, served bool, err error) {
	view, err := s.cache.Relations(ctx, viewerID, userIDs)
	if err != nil {
		s.log.WarnContext(ctx, "relation cache read failed; reading SQL", "err", err)
		return nil, nil, false, nil
	}
	counts = view.Counts
	if len(view.MissingCounts) > 0 {
		stored, err := s.store.Counts(ctx, view.MissingCounts)
		if err != nil {
			return nil, nil, true, err
		}
		fill := make(map[int64]Counts, len(view.MissingCounts))
		for _, id := range view.MissingCounts {
			c := stored[id] // no row: zeros, cached too so they are not asked again
			c.UserID = id
			fill[id], counts[id] = c, c
		}
		if err := s.cache.FillCounts(ctx, fill); err != nil {
			s.log.WarnContext(ctx, "relation counter fill failed", "err", err)
		}
	}
	followed = view.Following
	if viewerID > 0 && !view.FollowingLoaded {
		all, err := s.store.FolloweeSet(ctx, viewerID)
		if err != nil {
			return nil, nil, true, err
		}
		if err := s.cache.FillFollowing(ctx, viewerID, all); err != nil {
			s.log.WarnContext(ctx, "following set fill failed", "err", err)
		}
		followed = make(map[int64]bool, len(all))
		for _, id := range all {
			followed[id] = true
		}
	}
	if followed == nil {
		followed = map[int64]bool{}
	}
	return counts, followed, true, nil
}

// Fields of the per-user counter hash.
const (
	fieldFollowCount   = "follow_count"
	fieldFollowerCount = "follower_count"
)

// RedisCache is the Cache on Redis. Keys, under the deployment's prefix:
//
//	rel:f:{user} SET of the ids the user follows, plus cache.SetLoaded once loaded from SQL
//	rel:c:{user} HASH follow_count, follower_count
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
	return c.r.Key("rel:f:" + strconv.FormatInt(userID, 10))
}

func (c *RedisCache) countsKey(userID int64) string {
	return c.r.Key("rel:c:" + strconv.FormatInt(userID, 10))
}

// applyFollowScript is the atomic post-commit step. KEYS: follower's set, follower's counts,
// followee's counts. ARGV: followee id, 1|0, the loaded sentinel. A cached set decides
// idempotence (an unchanged set means the change is already there); without one the commit's
// own report that SQL changed does. Only counters that exist move: creating one from a delta
// would make it a wrong absolute value.
var applyFollowScript = redis.NewScript(`
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
if redis.call('HEXISTS', KEYS[2], 'follow_count') == 1 then redis.call('HINCRBY', KEYS[2], 'follow_count', d) end
if redis.call('HEXISTS', KEYS[3], 'follower_count') == 1 then redis.call('HINCRBY', KEYS[3], 'follower_count', d) end
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

// Relations reads every user's counters with HMGET and the viewer's follows with one
// SMISMEMBER (its first member is the loaded sentinel), all in one pipeline.
func (c *RedisCache) Relations(ctx context.Context, viewerID int64, userIDs []int64) (CachedRelations, error) {
	pipe := c.r.Client().Pipeline()
	countCmds := make([]*redis.SliceCmd, len(userIDs))
	members := make([]any, 0, len(userIDs)+1)
	members = append(members, cache.SetLoaded)
	for i, id := range userIDs {
		countCmds[i] = pipe.HMGet(ctx, c.countsKey(id), fieldFollowCount, fieldFollowerCount)
		members = append(members, id)
	}
	var followCmd *redis.BoolSliceCmd
	if viewerID > 0 {
		followCmd = pipe.SMIsMember(ctx, c.followingKey(viewerID), members...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return CachedRelations{}, fmt.Errorf("read relations from redis: %w", err)
	}
	out := CachedRelations{Counts: make(map[int64]Counts, len(userIDs))}
	for i, id := range userIDs {
		vals := countCmds[i].Val()
		follows, ok1 := cache.ParseCounter(vals[0])
		followers, ok2 := cache.ParseCounter(vals[1])
		if !ok1 || !ok2 {
			out.MissingCounts = append(out.MissingCounts, id)
			continue
		}
		out.Counts[id] = Counts{UserID: id, FollowCount: follows, FollowerCount: followers}
	}
	if followCmd != nil {
		flags := followCmd.Val()
		if len(flags) == len(userIDs)+1 && flags[0] {
			out.FollowingLoaded = true
			out.Following = make(map[int64]bool, len(userIDs))
			for i, id := range userIDs {
				if flags[i+1] {
					out.Following[id] = true
				}
			}
		}
	}
	return out, nil
}

// FillCounts creates each user's hash unless it exists, in one pipeline.
func (c *RedisCache) FillCounts(ctx context.Context, counts map[int64]Counts) error {
	if len(counts) == 0 {
		return nil
	}
	_, err := c.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for id, n := range counts {
			cache.FillHash(ctx, p, c.countsKey(id), cache.TTL(c.counterTTL),
				map[string]int64{fieldFollowCount: n.FollowCount, fieldFollowerCount: n.FollowerCount})
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
