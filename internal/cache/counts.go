package cache

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// CountCache keeps counters by id in front of the SQL counter tables (cache-aside): a read
// fills the misses from SQL, a commit that moves a counter drops it. A read that loads a
// counter just before a commit and stores it just after leaves it off until it expires, which
// is why counters live only cache.counter-ttl.
type CountCache interface {
	// MGet returns the cached counters among ids and, in request order, the ids it lacks.
	MGet(ctx context.Context, ids []int64) (found map[int64]int64, missing []int64, err error)
	// MSet caches counters read from SQL.
	MSet(ctx context.Context, counts map[int64]int64) error
	// Delete drops the counters of ids.
	Delete(ctx context.Context, ids []int64) error
}

// NewRedisCounts returns the counters of space on r, one decimal string per id
// ("<prefix><space>:<id>"), each living ttl with jitter; lookups are counted by o when it is
// not nil.
func NewRedisCounts(r *Redis, space string, ttl time.Duration, o LookupObserver) CountCache {
	return &redisCounts{r: r, space: space, ttl: ttl, observer: o}
}

type redisCounts struct {
	r        *Redis
	space    string
	ttl      time.Duration
	observer LookupObserver
}

func (c *redisCounts) keys(ids []int64) []string {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.r.IDKey(id, c.space, ":")
	}
	return keys
}

// MGet reads every counter with one MGET; a value that is not an integer is a miss.
func (c *redisCounts) MGet(ctx context.Context, ids []int64) (map[int64]int64, []int64, error) {
	found := make(map[int64]int64, len(ids))
	if len(ids) == 0 {
		return found, nil, nil
	}
	vals, err := c.r.Client().MGet(ctx, c.keys(ids)...).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("redis mget %s: %w", c.space, err)
	}
	missing := splitMGet(ids, vals, found, func(id int64, s string) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	})
	if c.observer != nil {
		c.observer.CacheLookups(c.space, len(found), len(missing))
	}
	return found, missing, nil
}

// MSet writes the counters in one pipeline, each with its own jittered expiry.
func (c *redisCounts) MSet(ctx context.Context, values map[int64]int64) error {
	if len(values) == 0 {
		return nil
	}
	_, err := c.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for id, n := range values {
			p.Set(ctx, c.keys([]int64{id})[0], strconv.FormatInt(n, 10), TTL(c.ttl))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis set %s: %w", c.space, err)
	}
	return nil
}

// Delete drops the counters of ids in one DEL.
func (c *redisCounts) Delete(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := c.r.Client().Del(ctx, c.keys(ids)...).Err(); err != nil {
		return fmt.Errorf("redis delete %s: %w", c.space, err)
	}
	return nil
}

// NewLocalCounts returns the in-process counters of space for the embedded mode.
func NewLocalCounts(space string, ttl time.Duration, maxEntries int, o LookupObserver) CountCache {
	return &localCounts{counts: NewBounded[int64, int64](maxEntries), space: space, ttl: ttl, observer: o}
}

// localCounts keeps the counters as they are, in a Bounded map.
type localCounts struct {
	mu       sync.RWMutex
	counts   *Bounded[int64, int64]
	space    string
	ttl      time.Duration
	observer LookupObserver
}

func (c *localCounts) MGet(_ context.Context, ids []int64) (map[int64]int64, []int64, error) {
	found := make(map[int64]int64, len(ids))
	c.mu.RLock()
	missing := c.counts.Lookup(ids, func(id, n int64) { found[id] = n })
	c.mu.RUnlock()
	if c.observer != nil {
		c.observer.CacheLookups(c.space, len(found), len(missing))
	}
	return found, missing, nil
}

func (c *localCounts) MSet(_ context.Context, values map[int64]int64) error {
	c.mu.Lock()
	for id, n := range values {
		c.counts.Put(id, n, TTL(c.ttl))
	}
	c.mu.Unlock()
	return nil
}

func (c *localCounts) Delete(_ context.Context, ids []int64) error {
	c.mu.Lock()
	for _, id := range ids {
		c.counts.Delete(id)
	}
	c.mu.Unlock()
	return nil
}

// CountsThrough is the cache-aside read of counters: those of ids cached in c, the misses
// from load in one call, then written back (zeros included, so an id without a row is a hit
// next time). A nil c reads load only; a failing cache costs speed, never the answer. The
// map returned is the caller's own and holds no id outside ids (load must not add any).
func CountsThrough(ctx context.Context, c CountCache, ids []int64, load func(context.Context, []int64) (map[int64]int64, error), log *slog.Logger) (map[int64]int64, error) {
	if c == nil {
		return load(ctx, ids)
	}
	found, missing, err := c.MGet(ctx, ids)
	if err != nil {
		log.WarnContext(ctx, "counter cache read failed; reading SQL", "err", err)
		found, missing = map[int64]int64{}, ids
	}
	if len(missing) == 0 {
		return found, nil
	}
	stored, err := load(ctx, missing)
	if err != nil {
		return nil, err
	}
	fill := make(map[int64]int64, len(missing))
	for _, id := range missing {
		fill[id] = stored[id]
		found[id] = stored[id]
	}
	if err := c.MSet(ctx, fill); err != nil {
		log.WarnContext(ctx, "counter cache fill failed", "err", err)
	}
	return found, nil
}

// WithZeros is counts (read by CountsThrough for want) with a zero for each id it lacks.
// CountsThrough's map is the caller's own and holds only ids of want, so when it has every id
// it is returned as it is instead of copied.
func WithZeros(want []int64, counts map[int64]int64) map[int64]int64 {
	if len(counts) == len(want) {
		return counts
	}
	out := make(map[int64]int64, len(want))
	for _, id := range want {
		out[id] = counts[id]
	}
	return out
}

// DropCounts drops counters after a commit moved them. A failure is logged: the counters'
// TTL bounds how long a stale value can be served.
func DropCounts(ctx context.Context, c CountCache, ids []int64, log *slog.Logger) {
	if c == nil {
		return
	}
	if err := c.Delete(context.WithoutCancel(ctx), ids); err != nil {
		log.WarnContext(ctx, "counter cache delete failed", "ids", ids, "err", err)
	}
}
