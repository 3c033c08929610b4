package user

import (
	"context"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
)

var _ ProfileCache = (*MemoryProfileCache)(nil)

// MemoryProfileCache is the ProfileCache of the embedded mode: profiles in process memory,
// without the password hash (as in Redis: a cache never holds credentials).
type MemoryProfileCache struct {
	records *cache.LocalRecords[Account]
}

// NewMemoryProfileCache holds at most maxEntries profiles, each for ttl with jitter.
func NewMemoryProfileCache(ttl time.Duration, maxEntries int, o cache.LookupObserver) *MemoryProfileCache {
	records := cache.NewLocalRecords("user:p", ttl, maxEntries, func(a Account) int64 { return a.ID })
	if o != nil {
		records.Observe(o)
	}
	return &MemoryProfileCache{records: records}
}

// MGet returns the cached profiles among ids.
func (c *MemoryProfileCache) MGet(ctx context.Context, ids []int64) (map[int64]Account, []int64, error) {
	return c.records.MGet(ctx, ids)
}

// LookupInOrder appends the cached profiles of ids to dst in request order and returns it
// with the ids it lacks: MGet without building a map.
func (c *MemoryProfileCache) LookupInOrder(ids []int64, dst []Account) ([]Account, []int64) {
	return c.records.LookupInOrder(ids, dst)
}

// MSet caches the profiles.
func (c *MemoryProfileCache) MSet(ctx context.Context, accounts []Account) error {
	profiles := make([]Account, len(accounts))
	for i, a := range accounts {
		a.PasswordHash = ""
		profiles[i] = a
	}
	return c.records.MSet(ctx, profiles)
}

// Delete drops the profiles of ids.
func (c *MemoryProfileCache) Delete(ctx context.Context, ids []int64) error {
	return c.records.Delete(ctx, ids)
}

// Sizes reports the profiles held against their bound.
func (c *MemoryProfileCache) Sizes() []cache.Size { return c.records.Sizes() }
