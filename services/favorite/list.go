package favorite

import (
	"cmp"
	"context"
	"slices"

	"github.com/douyin-backend/douyin/internal/errs"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

// maxListVideos caps the liked-videos list: the app has no paging, so it shows the newest 1000.
const maxListVideos = 1000

// FavoriteList returns the ids of the videos the user likes, newest like first.
func (s *Service) FavoriteList(ctx context.Context, req *favoriteapi.FavoriteListRequest) (*favoriteapi.FavoriteListResponse, error) {
	if req.UserId <= 0 {
		return nil, errs.NotPositive("user_id")
	}
	videoIDs, err := s.store.ListLikedVideos(ctx, req.UserId, maxListVideos)
	if err != nil {
		return nil, err
	}
	if s.readModel != nil {
		videoIDs = s.withUncommitted(ctx, req.UserId, videoIDs)
	}
	if videoIDs == nil {
		videoIDs = []int64{}
	}
	return &favoriteapi.FavoriteListResponse{VideoIds: videoIDs}, nil
}

// withUncommitted brings the committed list (newest like first) up to the user's liked set in
// the read model, which every acknowledged action changed before it was acknowledged: videos
// unliked but not yet committed are left out, likes still queued for SQL are added, and the
// videos a step changed while the set was cached come first, newest step first (the read
// model's seqs order them; SQL may not have them yet). So the user's next read shows what
// they just did however far the consumer has got, and the list agrees with the is_favorite
// flags, which come from the same set. Without a cached set (no action renewed it within the
// set TTL, so nothing is queued) or when the read model fails, SQL is the answer.
func (s *Service) withUncommitted(ctx context.Context, userID int64, committed []int64) []int64 {
	set, loaded, err := s.readModel.Liked(ctx, userID)
	if err != nil {
		s.log.WarnContext(ctx, "favorite read model read failed; listing committed likes only", "err", err)
		return committed
	}
	if !loaded {
		return committed
	}
	member := make(map[int64]bool, len(set.Videos))
	for _, id := range set.Videos {
		member[id] = true
	}
	listed := make(map[int64]bool, len(committed))
	for _, id := range committed {
		listed[id] = true
	}
	var recent, pending []int64 // recent: members with a step; pending: other members SQL lacks
	for _, id := range set.Videos {
		switch {
		case set.LastStep[id] != 0:
			recent = append(recent, id)
		case !listed[id]:
			pending = append(pending, id)
		}
	}
	if len(pending) > 0 && len(committed) == maxListVideos {
		// The committed list was cut at the cap, so a set member missing from it may be an
		// older committed like rather than a queued one: SQL tells them apart.
		older, err := s.store.LikedAmong(ctx, userID, pending)
		if err != nil {
			s.log.WarnContext(ctx, "favorite list: committed likes beyond the cap not read; listing committed likes only", "err", err)
			return committed
		}
		pending = slices.DeleteFunc(pending, func(id int64) bool { return older[id] })
	}
	slices.SortFunc(recent, func(a, b int64) int { return cmp.Compare(set.LastStep[b], set.LastStep[a]) })
	slices.SortFunc(pending, func(a, b int64) int { return cmp.Compare(b, a) })
	out := make([]int64, 0, len(recent)+len(pending)+len(committed))
	out = append(out, recent...)
	out = append(out, pending...)
	for _, id := range committed {
		if member[id] && set.LastStep[id] == 0 {
			out = append(out, id)
		}
	}
	if len(out) > maxListVideos {
		out = out[:maxListVideos]
	}
	return out
}
