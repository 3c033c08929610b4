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
	cs, err := s.store.ListComments(ctx, req.VideoId, maxListComments)
	if err != nil {
		return nil, err
	}
	out := make([]*commentapi.CommentRecord, len(cs))
	for i := range cs {
		out[i] = record(&cs[i])
	}
	return &commentapi.ListCommentsResponse{Comments: out}, nil
}

func record(c *Comment) *commentapi.CommentRecord {
	return &commentapi.CommentRecord{Id: c.ID, VideoId: c.VideoID, UserId: c.UserID, Content: c.Content, CreatedAt: c.CreatedAt}
}
