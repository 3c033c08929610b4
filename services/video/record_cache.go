package video

import (
	"context"
)

// RecordCache keeps ready video records in front of SQL. Only ready records are cached: a
// processing video changes state, a ready one does not, so a cached record never goes stale
// through the normal flow. It is only a cache: the service stays correct when it is empty.
type RecordCache interface {
	// MGet returns the cached videos among ids and, in request order, the ids it lacks.
	MGet(ctx context.Context, ids []int64) (found map[int64]Video, missing []int64, err error)
	// MSet caches ready videos.
	MSet(ctx context.Context, videos []Video) error
	// Delete drops the cached records of ids.
	Delete(ctx context.Context, ids []int64) error
}
