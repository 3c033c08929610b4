package video

import (
	"context"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// MGetWorkCounts returns the work count of every requested user, 0 for users with none.
func (s *Service) MGetWorkCounts(ctx context.Context, req *videoapi.MGetWorkCountsRequest) (*videoapi.MGetWorkCountsResponse, error) {
	want := ids.Unique(req.UserIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d user_ids per request", ids.MaxBatch)
	}
	stored, err := cache.CountsThrough(ctx, s.workCounts, want, s.store.MGetWorkCounts, s.log)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int64, len(want))
	for _, id := range want {
		out[id] = stored[id]
	}
	if _, asked := out[req.ViewerId]; asked && req.ViewerId > 0 {
		// The viewer's own list shows their unready videos too: count what it shows, from SQL
		// (a cached count can predate the commit that made one of them ready).
		own, err := s.store.OwnWorkCount(ctx, req.ViewerId, maxListVideos)
		if err != nil {
			return nil, err
		}
		out[req.ViewerId] = own
	}
	return &videoapi.MGetWorkCountsResponse{WorkCounts: out}, nil
}
