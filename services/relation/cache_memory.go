package relation

import (
	"context"
	"sync"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
)

// MemoryCache is the Cache in process memory, for the embedded mode (one process, SQLite, no
// Redis): it lets that mode take the same service code path as production instead of reading
// every counter and is_follow from SQL. Every method mirrors the RedisCache method of the same
// name, and every method is one step under one lock, the in-process equivalent of one Lua
// script, so the cache is exact within the process except for the read/commit races described
// on Cache, which the TTLs bound. Its contents die with the process; that is fine because SQL
// is the truth and everything is reloaded on a miss.
//
// State, each kind bounded by maxEntries keys (see cache.Bounded):
//
//	following  user → the set of ids the user follows; present means loaded from SQL
//	counts     user → follow_count, follower_count
type MemoryCache struct {
	mu         sync.RWMutex
	following  *cache.Bounded[int64, map[int64]struct{}]
	counts     *cache.Bounded[int64, memoryCounts]
	setTTL     time.Duration
	counterTTL time.Duration
}

// memoryCounts is one user's cached counters (the Redis pair rel:counts:{user}).
type memoryCounts struct {
	follows, followers int64
}

var _ Cache = (*MemoryCache)(nil)

// NewMemoryCache returns an empty cache. Following sets live setTTL and counters counterTTL,
// both with jitter; a TTL that is not positive keeps entries until they are evicted. Each kind
// holds at most maxEntries users (at least 1): when full, a fill drops expired entries first,
// then arbitrary ones.
func NewMemoryCache(setTTL, counterTTL time.Duration, maxEntries int) *MemoryCache {
	return &MemoryCache{
		following:  cache.NewBounded[int64, map[int64]struct{}](maxEntries),
		counts:     cache.NewBounded[int64, memoryCounts](maxEntries),
		setTTL:     setTTL,
		counterTTL: counterTTL,
	}
}

// ApplyFollow is applyFollowScript: a cached set decides idempotence (an unchanged set means
// the change is already there); without one the commit's own report that SQL changed does.
// Only counters that are cached move, in place and keeping their expiry: creating one from a
// delta would make it a wrong absolute value.
func (c *MemoryCache) ApplyFollow(_ context.Context, followerID, followeeID int64, follow bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if set, ok := c.following.Get(followerID); ok {
		_, had := set[followeeID]
		if had == follow {
			return nil
		}
		if follow {
			set[followeeID] = struct{}{}
		} else {
			delete(set, followeeID)
		}
	}
	d := int64(1)
	if !follow {
		d = -1
	}
	// One user after the other, so the step stays right even if both are the same user.
	if n, ok := c.counts.Get(followerID); ok {
		n.follows += d
		c.counts.Replace(followerID, n)
	}
	if n, ok := c.counts.Get(followeeID); ok {
		n.followers += d
		c.counts.Replace(followeeID, n)
	}
	return nil
}

// Forget drops the follower's set and both users' counters.
func (c *MemoryCache) Forget(_ context.Context, followerID, followeeID int64) error {
	c.mu.Lock()
	c.following.Delete(followerID)
	c.counts.Delete(followerID)
	c.counts.Delete(followeeID)
	c.mu.Unlock()
	return nil
}

// Relations reads every user's counters and, when the viewer's set is loaded, which of the
// users the viewer follows. It allocates only the result.
func (c *MemoryCache) Relations(_ context.Context, viewerID int64, userIDs []int64) (CachedRelations, error) {
	out := CachedRelations{Counts: make(map[int64]Counts, len(userIDs))}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out.MissingCounts = c.counts.Lookup(userIDs, func(id int64, n memoryCounts) {
		out.Counts[id] = Counts{UserID: id, FollowCount: n.follows, FollowerCount: n.followers}
	})
	if viewerID > 0 {
		if set, ok := c.following.Get(viewerID); ok {
			out.FollowingLoaded = true
			out.Following = make(map[int64]bool, min(len(userIDs), len(set)))
			for _, id := range userIDs {
				if _, f := set[id]; f {
					out.Following[id] = true
				}
			}
		}
	}
	return out, nil
}

// FollowingAmong reads the flags from the viewer's cached set, allocating nothing.
func (c *MemoryCache) FollowingAmong(_ context.Context, viewerID int64, userIDs []int64, following []bool) (bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	set, ok := c.following.Get(viewerID)
	if !ok {
		return false, nil
	}
	for i, id := range userIDs {
		_, following[i] = set[id]
	}
	return true, nil
}

// FillCounts caches each user's counters unless they are cached: a cached counter is at least
// as new as the SQL read (every change applies to it), so it must win.
func (c *MemoryCache) FillCounts(_ context.Context, counts map[int64]Counts) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, n := range counts {
		c.counts.PutAbsent(id, memoryCounts{follows: n.FollowCount, followers: n.FollowerCount}, cache.TTL(c.counterTTL))
	}
	return nil
}

// FillFollowing caches the user's set unless one is cached (an empty set is cached too).
func (c *MemoryCache) FillFollowing(_ context.Context, userID int64, followeeIDs []int64) error {
	// Built before taking the lock: a set can hold thousands of ids.
	set := make(map[int64]struct{}, len(followeeIDs))
	for _, id := range followeeIDs {
		set[id] = struct{}{}
	}
	c.mu.Lock()
	c.following.PutAbsent(userID, set, cache.TTL(c.setTTL))
	c.mu.Unlock()
	return nil
}

// Sizes reports each map's users against the bound.
func (c *MemoryCache) Sizes() []cache.Size {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return []cache.Size{
		{Name: "rel:following", Entries: c.following.Len(), MaxEntries: c.following.Cap()},
		{Name: "rel:counts", Entries: c.counts.Len(), MaxEntries: c.counts.Cap()},
	}
}
