package relation

import (
	"context"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
)

// MGetRelations returns the counters of every requested user (zeros when unknown) and whether
// viewer_id follows them, in at most two store reads.
func (s *Service) MGetRelations(ctx context.Context, req *relationapi.MGetRelationsRequest) (*relationapi.MGetRelationsResponse, error) {
	userIDs := ids.Unique(req.GetUserIds())
	if len(userIDs) > ids.MaxBatch {
		return nil, errs.Invalid("user_ids must hold at most %d ids", ids.MaxBatch)
	}
	viewer := req.GetViewerId()
	if viewer < 0 {
		return nil, errs.Negative("viewer_id")
	}
	resp := &relationapi.MGetRelationsResponse{Users: make(map[int64]*relationapi.UserRelationInfo, len(userIDs))}
	if len(userIDs) == 0 {
		return resp, nil
	}
	var (
		counts   map[int64]Counts
		followed map[int64]bool
		served   bool
		err      error
	)
	if s.cache != nil {
		if counts, followed, served, err = s.cachedRelations(ctx, viewer, userIDs); err != nil {
			return nil, err
		}
	}
	if !served {
		if counts, err = s.store.Counts(ctx, userIDs); err != nil {
			return nil, err
		}
		followed = map[int64]bool{}
		if viewer > 0 {
			if followed, err = s.store.FollowedAmong(ctx, viewer, userIDs); err != nil {
				return nil, err
			}
		}
	}
	infos := make([]relationapi.UserRelationInfo, len(userIDs)) // one allocation for every entry
	for i, id := range userIDs {
		c := counts[id]
		infos[i] = relationapi.UserRelationInfo{
			FollowCount:   c.FollowCount,
			FollowerCount: c.FollowerCount,
			IsFollow:      id != viewer && followed[id],
		}
		resp.Users[id] = &infos[i]
	}
	return resp, nil
}

// cachedRelations returns the counters of userIDs and which of them viewerID follows, from
// the cache with the misses loaded from SQL (one query for the counters, one for the viewer's
// set). served is false when the cache failed and the caller should read SQL alone.
func (s *Service) cachedRelations(ctx context.Context, viewerID int64, userIDs []int64) (counts map[int64]Counts, followed map[int64]bool, served bool, err error) {
	view, err := s.cache.Relations(ctx, viewerID, userIDs)
	if err != nil {
		s.log.WarnContext(ctx, "relation cache read failed; reading SQL", "err", err)
		return nil, nil, false, nil
	}
	counts = view.Counts
	if len(view.MissingCounts) > 0 {
		stored, err := s.store.Counts(ctx, view.MissingCounts)
		if err != nil {
			return nil, nil, true, err
		}
		fill := make(map[int64]Counts, len(view.MissingCounts))
		for _, id := range view.MissingCounts {
			c := stored[id] // no row: zeros, cached too so they are not asked again
			c.UserID = id
			fill[id], counts[id] = c, c
		}
		if err := s.cache.FillCounts(ctx, fill); err != nil {
			s.log.WarnContext(ctx, "relation counter fill failed", "err", err)
		}
	}
	followed = view.Following
	if viewerID > 0 && !view.FollowingLoaded {
		all, err := s.store.FolloweeSet(ctx, viewerID)
		if err != nil {
			return nil, nil, true, err
		}
		if err := s.cache.FillFollowing(ctx, viewerID, all); err != nil {
			s.log.WarnContext(ctx, "following set fill failed", "err", err)
		}
		followed = make(map[int64]bool, len(all))
		for _, id := range all {
			followed[id] = true
		}
	}
	if followed == nil {
		followed = map[int64]bool{}
	}
	return counts, followed, true, nil
}
