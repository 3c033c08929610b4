package comment

import (
	"context"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
)

// MGetCommentCounts returns the comment count of every requested video, 0 for videos with none.
func (s *Service) MGetCommentCounts(ctx context.Context, req *commentapi.MGetCommentCountsRequest) (*commentapi.MGetCommentCountsResponse, error) {
	want := ids.Unique(req.VideoIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d video_ids per request", ids.MaxBatch)
	}
	stored, err := cache.CountsThrough(ctx, s.counts, want, s.store.MGetCommentCounts, s.log)
	if err != nil {
		return nil, err
	}
	return &commentapi.MGetCommentCountsResponse{CommentCounts: cache.WithZeros(want, stored)}, nil
}
