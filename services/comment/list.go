package comment

import (
	"context"

	"github.com/douyin-backend/douyin/internal/errs"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
)

// maxListComments caps a comment list: the app has no paging, so it shows the newest 1000.
const maxListComments = 1000

// ListComments returns the video's comments, newest first, at most maxListComments.
func (s *Service) ListComments(ctx context.Context, req *commentapi.ListCommentsRequest) (*commentapi.ListCommentsResponse, error) {
	if req.VideoId <= 0 {
		return nil, errs.NotPositive("video_id")
	}
	if s.lists == nil {
		out, err := s.listFromStore(ctx, req.VideoId)
		if err != nil {
			return nil, err
		}
		return &commentapi.ListCommentsResponse{Comments: out}, nil
	}
	if out, ok := s.lists.get(req.VideoId); ok {
		return &commentapi.ListCommentsResponse{Comments: out}, nil
	}
	fill := s.lists.begin(req.VideoId)
	out, err := s.listFromStore(ctx, req.VideoId)
	s.lists.fill(req.VideoId, fill, out, err == nil)
	if err != nil {
		return nil, err
	}
	return &commentapi.ListCommentsResponse{Comments: out}, nil
}

// listFromStore reads the video's list from SQL.
func (s *Service) listFromStore(ctx context.Context, videoID int64) ([]*commentapi.CommentRecord, error) {
	cs, err := s.store.ListComments(ctx, videoID, maxListComments)
	if err != nil {
		return nil, err
	}
	// One allocation for every record.
	recs := make([]commentapi.CommentRecord, len(cs))
	out := make([]*commentapi.CommentRecord, len(cs))
	for i := range cs {
		c := &cs[i]
		recs[i] = commentapi.CommentRecord{Id: c.ID, VideoId: c.VideoID, UserId: c.UserID, Content: c.Content, CreatedAt: c.CreatedAt}
		out[i] = &recs[i]
	}
	return out, nil
}

func record(c *Comment) *commentapi.CommentRecord {
	return &commentapi.CommentRecord{Id: c.ID, VideoId: c.VideoID, UserId: c.UserID, Content: c.Content, CreatedAt: c.CreatedAt}
}

// forgetList drops the video's cached list after a write on it.
func (s *Service) forgetList(videoID int64) {
	if s.lists != nil {
		s.lists.forget(videoID)
	}
}
