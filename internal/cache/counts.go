package cache

import (
	"context"
	"log/slog"
	"sync"
	"time"
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

// Count is one cached counter.
type Count struct {
	ID int64 `json:"id"`
	N  int64 `json:"n"`
}

func countID(c Count) int64 { return c.ID }

// counts is the Redis CountCache: a record cache of Count.
type counts struct{ records *Records[Count] }

// NewRedisCounts returns the counters of space on r, one key per id, each living ttl with
// jitter; lookups are counted by o when it is not nil.
func NewRedisCounts(r *Redis, space string, ttl time.Duration, o LookupObserver) CountCache {
	records := NewRecords(r, space, ttl, countID)
	if o != nil {
		records.Observe(o)
	}
	return counts{records: records}
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
	var missing []int64
	c.mu.RLock()
	now := c.counts.Now()
	for _, id := range ids {
		if n, ok := c.counts.GetAt(id, now); ok {
			found[id] = n
		} else {
			missing = append(missing, id)
		}
	}
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

func (c counts) MGet(ctx context.Context, ids []int64) (map[int64]int64, []int64, error) {
	found, missing, err := c.records.MGet(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[int64]int64, len(found))
	for id, rec := range found {
		out[id] = rec.N
	}
	return out, missing, nil
}

func (c counts) MSet(ctx context.Context, values map[int64]int64) error {
	if len(values) == 0 {
		return nil
	}
	recs := make([]Count, 0, len(values))
	for id, n := range values {
		recs = append(recs, Count{ID: id, N: n})
	}
	return c.records.MSet(ctx, recs)
}

func (c counts) Delete(ctx context.Context, ids []int64) error { return c.records.Delete(ctx, ids) }

// CountsThrough is the cache-aside read of counters: those of ids cached in c, the misses
// from load in one call, then written back (zeros included, so an id without a row is a hit
// next time). A nil c reads load only; a failing cache costs speed, never the answer.
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
