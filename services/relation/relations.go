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
			IsFollow:      isFollow(viewer, id, followed[id]),
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
		if followed, err = s.followingSetFromSQL(ctx, viewerID); err != nil {
			return nil, nil, true, err
		}
	}
	if followed == nil {
		followed = map[int64]bool{}
	}
	return counts, followed, true, nil
}

// followingSetFromSQL reads viewerID's whole following set from SQL (one query) and caches
// it; a failing fill only costs the next read the same query.
func (s *Service) followingSetFromSQL(ctx context.Context, viewerID int64) (map[int64]bool, error) {
	all, err := s.store.FolloweeSet(ctx, viewerID)
	if err != nil {
		return nil, err
	}
	if err := s.cache.FillFollowing(ctx, viewerID, all); err != nil {
		s.log.WarnContext(ctx, "following set fill failed", "err", err)
	}
	followed := make(map[int64]bool, len(all))
	for _, id := range all {
		followed[id] = true
	}
	return followed, nil
}

// FollowingAmong sets following[i] (len(userIDs) of them) to whether viewerID (0: anonymous,
// who follows nobody) follows userIDs[i], as MGetRelations answers is_follow, from the same
// cache with the same misses, but reading no counter and building no response. It is for
// callers in this process (the gateway's cached feed cards), not part of the RPC service. On
// an error every flag is false.
func (s *Service) FollowingAmong(ctx context.Context, viewerID int64, userIDs []int64, following []bool) error {
	following = following[:len(userIDs)]
	clear(following)
	if len(userIDs) > ids.MaxBatch {
		return errs.Invalid("user_ids must hold at most %d ids", ids.MaxBatch)
	}
	if viewerID <= 0 || len(userIDs) == 0 {
		return nil
	}
	err := s.readFollowingAmong(ctx, viewerID, userIDs, following)
	for i, id := range userIDs {
		following[i] = isFollow(viewerID, id, following[i])
	}
	return err
}

// readFollowingAmong is FollowingAmong before the rule of isFollow: from the cache, loading
// the viewer's set on a miss, or from SQL alone when the cache fails.
func (s *Service) readFollowingAmong(ctx context.Context, viewerID int64, userIDs []int64, following []bool) error {
	if s.cache != nil {
		loaded, err := s.cache.FollowingAmong(ctx, viewerID, userIDs, following)
		switch {
		case err == nil && loaded:
			return nil
		case err == nil:
			set, err := s.followingSetFromSQL(ctx, viewerID)
			ids.Mark(following, userIDs, set)
			return err
		}
		s.log.WarnContext(ctx, "relation cache read failed; reading SQL", "err", err)
	}
	found, err := s.store.FollowedAmong(ctx, viewerID, userIDs)
	ids.Mark(following, userIDs, found)
	return err
}

// isFollow is is_follow: nobody is shown as following themselves.
func isFollow(viewerID, userID int64, follows bool) bool {
	return userID != viewerID && follows
}
