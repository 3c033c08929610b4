package favorite

import (
	"context"
	"log/slog"
	"maps"
	"time"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

// MGetVideoFavorites returns the like count of every requested video and whether the viewer
// (0: anonymous) likes it, in at most two queries; with user_ids also those users' counters,
// as MGetUserFavoriteStats answers them, read from the read model in the same round trip.
func (s *Service) MGetVideoFavorites(ctx context.Context, req *favoriteapi.MGetVideoFavoritesRequest) (*favoriteapi.MGetVideoFavoritesResponse, error) {
	want := ids.Unique(req.VideoIds)
	users := ids.Unique(req.UserIds)
	if len(want) > ids.MaxBatch || len(users) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d video_ids and %d user_ids per request", ids.MaxBatch, ids.MaxBatch)
	}
	readModelFailed := false
	if len(want) > 0 && s.readModel != nil {
		if resp, served, err := s.cachedVideoFavorites(ctx, req.ViewerId, want, users); served {
			return resp, err
		}
		readModelFailed = true
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
	resp := videoFavorites(want, counts, liked)
	if len(users) > 0 {
		read := func() (map[int64]UserCount, error) { return s.userCounts(ctx, users) }
		if readModelFailed { // it just failed: not again for the users
			read = func() (map[int64]UserCount, error) { return s.store.MGetUserCounts(ctx, users) }
		}
		s.withUsers(ctx, resp, users, read)
	}
	return resp, nil
}

// withUsers sets the users' counters of resp to what read returns. They are an optional part
// of a page: without them the caller asks MGetUserFavoriteStats, whose failure it handles as
// it always did.
func (s *Service) withUsers(ctx context.Context, resp *favoriteapi.MGetVideoFavoritesResponse, users []int64, read func() (map[int64]UserCount, error)) {
	counts, err := read()
	if err != nil {
		s.log.WarnContext(ctx, "video favorites answered without the users' counters", "err", err)
		return
	}
	resp.Users = userFavoriteStats(users, counts)
}

// MGetUserFavoriteStats returns the like counters of every requested user, zero for users
// without any.
func (s *Service) MGetUserFavoriteStats(ctx context.Context, req *favoriteapi.MGetUserFavoriteStatsRequest) (*favoriteapi.MGetUserFavoriteStatsResponse, error) {
	want := ids.Unique(req.UserIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d user_ids per request", ids.MaxBatch)
	}
	counts, err := s.userCounts(ctx, want)
	if err != nil {
		return nil, err
	}
	return &favoriteapi.MGetUserFavoriteStatsResponse{Users: userFavoriteStats(want, counts)}, nil
}

// userCounts are the counters of the users of want (unique ids) that have any: from the read
// model, its misses from SQL, or all from SQL when the read model fails.
func (s *Service) userCounts(ctx context.Context, want []int64) (map[int64]UserCount, error) {
	if len(want) > 0 && s.readModel != nil {
		cached, err := s.readModel.UserStats(ctx, want)
		if err == nil {
			return s.fillUserStats(ctx, cached)
		}
		s.log.WarnContext(ctx, "favorite read model read failed; reading SQL", "err", err)
	}
	return s.store.MGetUserCounts(ctx, want)
}

// userFavoriteStats is the answer for want from counts, zero for users without any, its
// entries allocated at once.
func userFavoriteStats(want []int64, counts map[int64]UserCount) map[int64]*favoriteapi.UserFavoriteStats {
	stats := make([]favoriteapi.UserFavoriteStats, len(want))
	out := make(map[int64]*favoriteapi.UserFavoriteStats, len(want))
	for i, id := range want {
		c := counts[id]
		stats[i] = favoriteapi.UserFavoriteStats{FavoriteCount: c.FavoriteCount, TotalFavorited: c.TotalFavorited}
		out[id] = &stats[i]
	}
	return out
}

// maxFillAttempts bounds the reads of a counter whose fills keep meeting commits; the n-th
// read again waits fillRetryWait<<(n-1) first, so that a commit under way (its Settle follows
// within milliseconds) ends: 31 ms in all.
const (
	maxFillAttempts = 6
	fillRetryWait   = time.Millisecond
)

// cachedVideoFavorites answers MGetVideoFavorites from the read model, loading what it lacks
// from SQL (one query for the counts, one for the viewer's set, one for the users' counters).
// served is false when the read model failed and the caller should answer from SQL alone.
func (s *Service) cachedVideoFavorites(ctx context.Context, viewerID int64, videoIDs, users []int64) (resp *favoriteapi.MGetVideoFavoritesResponse, served bool, err error) {
	view, err := s.readModel.VideoFavorites(ctx, viewerID, videoIDs, users)
	if err != nil {
		s.log.WarnContext(ctx, "favorite read model read failed; reading SQL", "err", err)
		return nil, false, nil
	}
	counts := view.Counts
	err = fillMissing(ctx, s.log, counts, view.MissingCounts, view.Epochs,
		func(ctx context.Context, ids []int64) (map[int64]int64, error) {
			stored, err := s.store.MGetVideoCounts(ctx, ids)
			if err != nil {
				return nil, err
			}
			fill := make(map[int64]int64, len(ids))
			for _, id := range ids {
				fill[id] = stored[id] // no row: zero, cached too so it is not asked again
			}
			return fill, nil
		},
		s.readModel.FillVideoCounts,
		func(ctx context.Context, ids []int64) (map[int64]int64, []int64, map[int64]int64, error) {
			again, err := s.readModel.VideoFavorites(ctx, 0, ids, nil)
			return again.Counts, again.MissingCounts, again.Epochs, err
		})
	if err != nil {
		return nil, true, err
	}
	liked, err := s.likedFlags(ctx, viewerID, view)
	if err != nil {
		return nil, true, err
	}
	resp = videoFavorites(videoIDs, counts, liked)
	if len(users) > 0 {
		s.withUsers(ctx, resp, users, func() (map[int64]UserCount, error) { return s.fillUserStats(ctx, view.Users) })
	}
	return resp, true, nil
}

// videoFavorites is the answer for videoIDs, its entries allocated at once.
func videoFavorites(videoIDs []int64, counts map[int64]int64, liked map[int64]bool) *favoriteapi.MGetVideoFavoritesResponse {
	infos := make([]favoriteapi.VideoFavoriteInfo, len(videoIDs))
	out := make(map[int64]*favoriteapi.VideoFavoriteInfo, len(videoIDs))
	for i, id := range videoIDs {
		infos[i] = favoriteapi.VideoFavoriteInfo{FavoriteCount: counts[id], IsFavorite: liked[id]}
		out[id] = &infos[i]
	}
	return &favoriteapi.MGetVideoFavoritesResponse{Videos: out}
}

// fillMissing adds to found the counters a read-model read lacked: read from SQL by load
// (a value for every id), cached by fill with the epochs read before the SQL read, and, for
// those a commit settled on in between (fill leaves them out), read from the read model
// again, at most maxFillAttempts rounds. Counters whose fills keep meeting commits, or that
// a failing read model cannot take, are served as SQL has them, uncached.
func fillMissing[V any](ctx context.Context, log *slog.Logger, found map[int64]V, missing []int64, epochs map[int64]int64,
	load func(context.Context, []int64) (map[int64]V, error),
	fill func(context.Context, map[int64]V, map[int64]int64) (map[int64]V, error),
	reread func(context.Context, []int64) (map[int64]V, []int64, map[int64]int64, error),
) error {
	for attempt := 1; len(missing) > 0; attempt++ {
		fromSQL, err := load(ctx, missing)
		if err != nil {
			return err
		}
		filled, err := fill(ctx, fromSQL, epochs)
		if err != nil {
			log.WarnContext(ctx, "favorite counter fill failed; serving SQL's counters", "err", err)
			filled = fromSQL
		}
		maps.Copy(found, filled)
		var again []int64
		for _, id := range missing {
			if _, ok := filled[id]; !ok {
				again = append(again, id)
			}
		}
		if len(again) == 0 {
			return nil
		}
		if attempt < maxFillAttempts {
			// A commit settled between the read and the fill, or is under way: read those
			// again once it is likely done.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(fillRetryWait << (attempt - 1)):
			}
			var more map[int64]V
			if more, missing, epochs, err = reread(ctx, again); err == nil {
				maps.Copy(found, more)
				continue
			}
			log.WarnContext(ctx, "favorite read model read failed; serving SQL's counters", "err", err)
		}
		for _, id := range again {
			found[id] = fromSQL[id]
		}
		return nil
	}
	return nil
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
	return s.likedSetFromSQL(ctx, viewerID)
}

// likedSetFromSQL reads viewerID's whole liked set from SQL (one query) and caches it; a
// failing fill only costs the next read the same query.
func (s *Service) likedSetFromSQL(ctx context.Context, viewerID int64) (map[int64]bool, error) {
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

// LikedAmong sets liked[i] (len(videoIDs) of them) to whether viewerID (0: anonymous, who
// likes nothing) likes videoIDs[i], as MGetVideoFavorites answers is_favorite, from the same
// read model with the same misses, but reading no counter and building no response. It is for
// callers in this process (the gateway's cached feed cards), not part of the RPC service. On
// an error every flag is false.
func (s *Service) LikedAmong(ctx context.Context, viewerID int64, videoIDs []int64, liked []bool) error {
	liked = liked[:len(videoIDs)]
	clear(liked)
	if len(videoIDs) > ids.MaxBatch {
		return errs.Invalid("at most %d video_ids per request", ids.MaxBatch)
	}
	if viewerID <= 0 || len(videoIDs) == 0 {
		return nil
	}
	if s.readModel != nil {
		loaded, err := s.readModel.LikedAmong(ctx, viewerID, videoIDs, liked)
		switch {
		case err == nil && loaded:
			return nil
		case err == nil:
			set, err := s.likedSetFromSQL(ctx, viewerID)
			ids.Mark(liked, videoIDs, set)
			return err
		}
		s.log.WarnContext(ctx, "favorite read model read failed; reading SQL", "err", err)
	}
	found, err := s.store.LikedAmong(ctx, viewerID, videoIDs)
	ids.Mark(liked, videoIDs, found)
	return err
}

// fillUserStats completes cached, a read-model read, with the counters it lacks, loaded
// from SQL in one query.
func (s *Service) fillUserStats(ctx context.Context, cached CachedUserStats) (map[int64]UserCount, error) {
	found := cached.Found
	err := fillMissing(ctx, s.log, found, cached.Missing, cached.Epochs,
		func(ctx context.Context, ids []int64) (map[int64]UserCount, error) {
			stored, err := s.store.MGetUserCounts(ctx, ids)
			if err != nil {
				return nil, err
			}
			fill := make(map[int64]UserCount, len(ids))
			for _, id := range ids {
				c := stored[id]
				c.UserID = id
				fill[id] = c
			}
			return fill, nil
		},
		s.readModel.FillUserStats,
		func(ctx context.Context, ids []int64) (map[int64]UserCount, []int64, map[int64]int64, error) {
			again, err := s.readModel.UserStats(ctx, ids)
			return again.Found, again.Missing, again.Epochs, err
		})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// boolCount is 1 for true: a pair's share of a count.
func boolCount(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
