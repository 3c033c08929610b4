package favorite

import (
	"context"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

// MGetVideoFavorites returns the like count of every requested video and whether the viewer
// (0: anonymous) likes it, in at most two queries.
func (s *Service) MGetVideoFavorites(ctx context.Context, req *favoriteapi.MGetVideoFavoritesRequest) (*favoriteapi.MGetVideoFavoritesResponse, error) {
	want := ids.Unique(req.VideoIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d video_ids per request", ids.MaxBatch)
	}
	if len(want) > 0 && s.readModel != nil {
		if resp, served, err := s.cachedVideoFavorites(ctx, req.ViewerId, want); served {
			return resp, err
		}
	}
	counts, err := s.store.MGetVideoCounts(ctx, want)
	if err != nil {
		return nil, err
	}
	liked := map[int64]bool{}
	if req.ViewerId > 0 {
		if liked, err = s.store.LikedAmong(ctx, req.ViewerId, want); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]*favoriteapi.VideoFavoriteInfo, len(want))
	for _, id := range want {
		out[id] = &favoriteapi.VideoFavoriteInfo{FavoriteCount: counts[id], IsFavorite: liked[id]}
	}
	return &favoriteapi.MGetVideoFavoritesResponse{Videos: out}, nil
}

// MGetUserFavoriteStats returns the like counters of every requested user, zero for users
// without any.
func (s *Service) MGetUserFavoriteStats(ctx context.Context, req *favoriteapi.MGetUserFavoriteStatsRequest) (*favoriteapi.MGetUserFavoriteStatsResponse, error) {
	want := ids.Unique(req.UserIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d user_ids per request", ids.MaxBatch)
	}
	var counts map[int64]UserCount
	served := false
	if len(want) > 0 && s.readModel != nil {
		var err error
		if counts, served, err = s.cachedUserStats(ctx, want); err != nil {
			return nil, err
		}
	}
	if !served {
		var err error
		if counts, err = s.store.MGetUserCounts(ctx, want); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]*favoriteapi.UserFavoriteStats, len(want))
	for _, id := range want {
		c := counts[id]
		out[id] = &favoriteapi.UserFavoriteStats{FavoriteCount: c.FavoriteCount, TotalFavorited: c.TotalFavorited}
	}
	return &favoriteapi.MGetUserFavoriteStatsResponse{Users: out}, nil
}

// maxFillAttempts bounds the reads of a counter whose fills keep meeting commits.
const maxFillAttempts = 3

// cachedVideoFavorites answers MGetVideoFavorites from the read model, loading what it lacks
// from SQL (one query for the counts, one for the viewer's set). served is false when the read
// model failed and the caller should answer from SQL alone.
func (s *Service) cachedVideoFavorites(ctx context.Context, viewerID int64, videoIDs []int64) (resp *favoriteapi.MGetVideoFavoritesResponse, served bool, err error) {
	view, err := s.readModel.VideoFavorites(ctx, viewerID, videoIDs)
	if err != nil {
		s.log.WarnContext(ctx, "favorite read model read failed; reading SQL", "err", err)
		return nil, false, nil
	}
	counts, first := view.Counts, view
	for attempt := 1; len(view.MissingCounts) > 0; attempt++ {
		stored, err := s.store.MGetVideoCounts(ctx, view.MissingCounts)
		if err != nil {
			return nil, true, err
		}
		fill := make(map[int64]int64, len(view.MissingCounts))
		for _, id := range view.MissingCounts {
			fill[id] = stored[id] // no row: zero, cached too so it is not asked again
		}
		filled, err := s.readModel.FillVideoCounts(ctx, fill, view.Epochs)
		if err != nil {
			s.log.WarnContext(ctx, "favorite count fill failed; serving SQL's counts", "err", err)
			filled = fill
		}
		for id, n := range filled {
			counts[id] = n
		}
		var again []int64
		for _, id := range view.MissingCounts {
			if _, ok := filled[id]; !ok {
				again = append(again, id)
			}
		}
		if len(again) == 0 {
			break
		}
		if attempt == maxFillAttempts {
			for _, id := range again {
				counts[id] = fill[id] // commits keep landing: SQL's count, uncached
			}
			break
		}
		// A commit settled between the read and the fill: read those again.
		if view, err = s.readModel.VideoFavorites(ctx, 0, again); err != nil {
			s.log.WarnContext(ctx, "favorite read model read failed; serving SQL's counts", "err", err)
			for _, id := range again {
				counts[id] = fill[id]
			}
			break
		}
		for id, n := range view.Counts {
			counts[id] = n
		}
	}
	liked, err := s.likedFlags(ctx, viewerID, first)
	if err != nil {
		return nil, true, err
	}
	out := make(map[int64]*favoriteapi.VideoFavoriteInfo, len(videoIDs))
	for _, id := range videoIDs {
		out[id] = &favoriteapi.VideoFavoriteInfo{FavoriteCount: counts[id], IsFavorite: liked[id]}
	}
	return &favoriteapi.MGetVideoFavoritesResponse{Videos: out}, true, nil
}

// likedFlags are the viewer's likes among the videos of view: from view when its set was
// cached, else from SQL (one query), caching the set.
func (s *Service) likedFlags(ctx context.Context, viewerID int64, view CachedVideoFavorites) (map[int64]bool, error) {
	if viewerID <= 0 {
		return nil, nil
	}
	if view.LikedLoaded {
		return view.Liked, nil
	}
	all, err := s.store.LikedVideoIDs(ctx, viewerID)
	if err != nil {
		return nil, err
	}
	if err := s.readModel.FillLiked(ctx, viewerID, all); err != nil {
		s.log.WarnContext(ctx, "liked set fill failed", "err", err)
	}
	liked := make(map[int64]bool, len(all))
	for _, id := range all {
		liked[id] = true
	}
	return liked, nil
}

// cachedUserStats returns the counters of userIDs from the read model, the misses loaded
// from SQL in one query. served is false when the read model failed.
func (s *Service) cachedUserStats(ctx context.Context, userIDs []int64) (counts map[int64]UserCount, served bool, err error) {
	found, missing, epochs, err := s.readModel.UserStats(ctx, userIDs)
	if err != nil {
		s.log.WarnContext(ctx, "favorite read model read failed; reading SQL", "err", err)
		return nil, false, nil
	}
	for attempt := 1; len(missing) > 0; attempt++ {
		stored, err := s.store.MGetUserCounts(ctx, missing)
		if err != nil {
			return nil, true, err
		}
		fill := make(map[int64]UserCount, len(missing))
		for _, id := range missing {
			c := stored[id]
			c.UserID = id
			fill[id] = c
		}
		filled, err := s.readModel.FillUserStats(ctx, fill, epochs)
		if err != nil {
			s.log.WarnContext(ctx, "favorite stats fill failed; serving SQL's counters", "err", err)
			filled = fill
		}
		for id, c := range filled {
			found[id] = c
		}
		var again []int64
		for _, id := range missing {
			if _, ok := filled[id]; !ok {
				again = append(again, id)
			}
		}
		if len(again) == 0 {
			break
		}
		if attempt == maxFillAttempts {
			for _, id := range again {
				found[id] = fill[id]
			}
			break
		}
		var more map[int64]UserCount
		if more, missing, epochs, err = s.readModel.UserStats(ctx, again); err != nil {
			s.log.WarnContext(ctx, "favorite read model read failed; serving SQL's counters", "err", err)
			for _, id := range again {
				found[id] = fill[id]
			}
			break
		}
		for id, c := range more {
			found[id] = c
		}
	}
	return found, true, nil
}

// boolCount is 1 for true: a pair's share of a count.
func boolCount(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
