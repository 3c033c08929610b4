package video

import (
	"context"
	"slices"

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
	out, err := s.countWorks(ctx, want, req.ViewerId)
	if err != nil {
		return nil, err
	}
	return &videoapi.MGetWorkCountsResponse{WorkCounts: out}, nil
}

// authorWorkCounts is the work count of every author of vs as viewer sees it, for the answer
// of method that asked with_work_counts; nil when it cannot be read. The counts are an
// optional part of a page: without them the caller asks MGetWorkCounts, whose failure it
// handles as it always did.
func (s *Service) authorWorkCounts(ctx context.Context, method string, vs []Video, viewer int64) map[int64]int64 {
	authors := make([]int64, len(vs))
	for i, v := range vs {
		authors[i] = v.AuthorID
	}
	counts, err := s.countWorks(ctx, ids.Unique(authors), viewer)
	if err != nil {
		s.log.WarnContext(ctx, method+" answered without work counts", "err", err)
		return nil
	}
	return counts
}

// countWorks is the work count of every user of want (unique ids) as viewer sees it.
func (s *Service) countWorks(ctx context.Context, want []int64, viewer int64) (map[int64]int64, error) {
	// The viewer's own list shows their unready videos too: their count is what it shows, read
	// by ownWorkCount (the shared count cache can predate the commit that made one ready).
	others := want
	ownAsked := viewer > 0 && slices.Contains(want, viewer)
	if ownAsked {
		others = slices.DeleteFunc(slices.Clone(want), func(id int64) bool { return id == viewer })
	}
	stored, err := cache.CountsThrough(ctx, s.workCounts, others, s.store.MGetWorkCounts, s.log)
	if err != nil {
		return nil, err
	}
	out := cache.WithZeros(others, stored)
	if ownAsked {
		if out[viewer], err = s.ownWorkCount(ctx, viewer); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ownWorkCount is what author's own publish list counts, from the own-count cache when there
// is one (see OwnCounts for why it can be trusted), else from SQL.
func (s *Service) ownWorkCount(ctx context.Context, author int64) (int64, error) {
	if s.ownCounts == nil {
		return s.store.OwnWorkCount(ctx, author, maxListVideos)
	}
	n, gen, ok := s.ownCounts.get(author)
	if ok {
		return n, nil
	}
	n, err := s.store.OwnWorkCount(ctx, author, maxListVideos)
	if err != nil {
		return 0, err
	}
	s.ownCounts.fill(author, n, gen)
	return n, nil
}
