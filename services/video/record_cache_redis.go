package video

import (
	"context"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
)

// RedisRecordCache is the RecordCache on Redis: one JSON string per video under
// "video:r:{id}", read with one MGET and written with one pipeline.
type RedisRecordCache struct {
	records *cache.Records[cachedVideo]
}

var _ RecordCache = (*RedisRecordCache)(nil)

// NewRedisRecordCache returns the cache on r; each record lives for ttl with jitter. Lookups
// are counted by o when it is not nil.
func NewRedisRecordCache(r *cache.Redis, ttl time.Duration, o cache.LookupObserver) *RedisRecordCache {
	records := cache.NewRecords(r, "video:r", ttl, func(v cachedVideo) int64 { return v.ID })
	if o != nil {
		records.Observe(o)
	}
	return &RedisRecordCache{records: records}
}

// cachedVideo holds blob keys, not URLs: URLs are resolved at read time because signed
// storage URLs expire.
type cachedVideo struct {
	ID        int64  `json:"id"`
	AuthorID  int64  `json:"au"`
	Title     string `json:"t"`
	PlayKey   string `json:"p"`
	CoverKey  string `json:"c"`
	Status    int8   `json:"s"`
	CreatedAt int64  `json:"at"`
	// Renditions is absent from records cached before renditions existed.
	Renditions []Rendition `json:"r,omitempty"`
}

// MGet reads all ids with one MGET.
func (c *RedisRecordCache) MGet(ctx context.Context, ids []int64) (map[int64]Video, []int64, error) {
	cached, missing, err := c.records.MGet(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	found := make(map[int64]Video, len(cached))
	for id, cv := range cached {
		found[id] = Video{ID: cv.ID, AuthorID: cv.AuthorID, Title: cv.Title, PlayKey: cv.PlayKey,
			CoverKey: cv.CoverKey, Status: cv.Status, CreatedAt: cv.CreatedAt, Renditions: cv.Renditions}
	}
	return found, missing, nil
}

// MSet writes the records in one pipeline.
func (c *RedisRecordCache) MSet(ctx context.Context, videos []Video) error {
	cached := make([]cachedVideo, len(videos))
	for i, v := range videos {
		cached[i] = cachedVideo{ID: v.ID, AuthorID: v.AuthorID, Title: v.Title, PlayKey: v.PlayKey,
			CoverKey: v.CoverKey, Status: v.Status, CreatedAt: v.CreatedAt, Renditions: v.Renditions}
	}
	return c.records.MSet(ctx, cached)
}

// Delete drops the records of ids.
func (c *RedisRecordCache) Delete(ctx context.Context, ids []int64) error {
	return c.records.Delete(ctx, ids)
}
