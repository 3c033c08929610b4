package user

import (
	"context"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
)

// RedisProfileCache is the ProfileCache on Redis: one JSON string per user under
// "user:p:{id}", read with one MGET and written with one pipeline.
type RedisProfileCache struct {
	records *cache.Records[cachedProfile]
}

var _ ProfileCache = (*RedisProfileCache)(nil)

// NewRedisProfileCache returns the cache on r; each profile lives for ttl with jitter.
// Lookups are counted by o when it is not nil.
func NewRedisProfileCache(r *cache.Redis, ttl time.Duration, o cache.LookupObserver) *RedisProfileCache {
	records := cache.NewRecords(r, "user:p", ttl, func(p cachedProfile) int64 { return p.ID })
	if o != nil {
		records.Observe(o)
	}
	return &RedisProfileCache{records: records}
}

// cachedProfile is the stored form: the raw columns, so the configured defaults still apply
// at read time and a changed default shows at once. The password hash is never cached.
type cachedProfile struct {
	ID              int64  `json:"id"`
	Name            string `json:"n"`
	Avatar          string `json:"a,omitempty"`
	BackgroundImage string `json:"b,omitempty"`
	Signature       string `json:"s,omitempty"`
}

// MGet reads all ids with one MGET.
func (c *RedisProfileCache) MGet(ctx context.Context, ids []int64) (map[int64]Account, []int64, error) {
	cached, missing, err := c.records.MGet(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	found := make(map[int64]Account, len(cached))
	for id, p := range cached {
		found[id] = Account{ID: p.ID, Name: p.Name, Avatar: p.Avatar, BackgroundImage: p.BackgroundImage, Signature: p.Signature}
	}
	return found, missing, nil
}

// MSet writes the profiles in one pipeline.
func (c *RedisProfileCache) MSet(ctx context.Context, accounts []Account) error {
	cached := make([]cachedProfile, len(accounts))
	for i, a := range accounts {
		cached[i] = cachedProfile{ID: a.ID, Name: a.Name, Avatar: a.Avatar, BackgroundImage: a.BackgroundImage, Signature: a.Signature}
	}
	return c.records.MSet(ctx, cached)
}

// Delete drops the profiles of ids.
func (c *RedisProfileCache) Delete(ctx context.Context, ids []int64) error {
	return c.records.Delete(ctx, ids)
}
