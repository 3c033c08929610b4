package video

import (
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
)

// NewMemoryRecordCache is the RecordCache of the embedded mode: records in process memory,
// at most maxEntries, each for ttl with jitter.
func NewMemoryRecordCache(ttl time.Duration, maxEntries int, o cache.LookupObserver) RecordCache {
	records := cache.NewLocalRecords("video:r", ttl, maxEntries, func(v Video) int64 { return v.ID })
	if o != nil {
		records.Observe(o)
	}
	return records
}
