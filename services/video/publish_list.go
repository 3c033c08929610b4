package video

import (
	"context"

	"github.com/douyin-backend/douyin/internal/errs"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// maxListVideos caps a publish list: the app has no paging, so it shows the newest 1000.
const maxListVideos = 1000

// PublishList returns the author's ready videos, newest first, at most maxListVideos. The
// author reading their own list also gets their processing and failed videos, so a new upload
// shows on their profile at once.
func (s *Service) PublishList(ctx context.Context, req *videoapi.PublishListRequest) (*videoapi.PublishListResponse, error) {
	if req.AuthorId <= 0 {
		return nil, errs.NotPositive("author_id")
	}
	videoIDs, err := s.store.ListIDsByAuthor(ctx, req.AuthorId, maxListVideos)
	if err != nil {
		return nil, err
	}
	vs, err := s.readyVideosInOrder(ctx, videoIDs)
	if err != nil {
		return nil, err
	}
	if req.ViewerId == req.AuthorId {
		unready, err := s.store.ListUnreadyByAuthor(ctx, req.AuthorId, maxListVideos)
		if err != nil {
			return nil, err
		}
		vs = mergeNewestFirst(vs, unready, maxListVideos)
	}
	return &videoapi.PublishListResponse{Videos: s.records(vs)}, nil
}

// mergeNewestFirst merges two lists ordered newest first into one of at most limit.
func mergeNewestFirst(a, b []Video, limit int) []Video {
	if len(b) == 0 {
		return a
	}
	newer := func(x, y Video) bool { return x.CreatedAt > y.CreatedAt || (x.CreatedAt == y.CreatedAt && x.ID > y.ID) }
	out := make([]Video, 0, min(len(a)+len(b), limit))
	for len(out) < limit && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || (len(a) > 0 && newer(a[0], b[0])) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}
