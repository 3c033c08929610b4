package comment

import (
	"context"
	"errors"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// DeleteComment removes a comment; only its author may.
func (s *Service) DeleteComment(ctx context.Context, req *commentapi.DeleteCommentRequest) (*commentapi.DeleteCommentResponse, error) {
	if req.UserId <= 0 {
		return nil, errs.NotPositive("user_id")
	}
	if req.CommentId <= 0 {
		return nil, errs.NotPositive("comment_id")
	}
	notFound := errs.New(base.ErrCode_CommentNotFound, "comment not found")
	c, err := s.store.GetComment(ctx, req.CommentId)
	if errors.Is(err, ErrCommentNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if c.VideoID != req.VideoId {
		return nil, notFound
	}
	if c.UserID != req.UserId {
		return nil, errs.New(base.ErrCode_PermissionDenied, "you can only delete your own comments")
	}
	// The delete re-checks video and author, so it cannot remove a row these checks did not see.
	err = s.store.DeleteComment(ctx, c.ID, c.VideoID, c.UserID)
	s.forgetList(c.VideoID) // even on an error: the delete may have committed
	if errors.Is(err, ErrCommentNotFound) {
		return nil, notFound // a concurrent delete won
	}
	if err != nil {
		return nil, err
	}
	cache.DropCounts(ctx, s.counts, []int64{c.VideoID}, s.log)
	s.activity.Notify(ctx, s.log, &event.ActivityEvent{Kind: event.ActivityCommentDeleted, UserId: c.UserID, VideoId: c.VideoID, CommentId: c.ID, At: c.CreatedAt})
	return &commentapi.DeleteCommentResponse{}, nil
}
