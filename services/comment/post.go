package comment

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// maxContentRunes bounds a comment, in characters.
const maxContentRunes = 500

// PostComment adds a comment to an existing video and returns it.
func (s *Service) PostComment(ctx context.Context, req *commentapi.PostCommentRequest) (*commentapi.PostCommentResponse, error) {
	if req.UserId <= 0 {
		return nil, errs.NotPositive("user_id")
	}
	if req.VideoId <= 0 {
		return nil, errs.NotPositive("video_id")
	}
	content := strings.TrimSpace(req.Content)
	if n := utf8.RuneCountInString(content); n < 1 || n > maxContentRunes || !utf8.ValidString(content) {
		return nil, errs.BadLength("comment", maxContentRunes)
	}
	got, err := s.videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: []int64{req.VideoId}})
	if err != nil {
		return nil, fmt.Errorf("look up video %d: %w", req.VideoId, err)
	}
	if _, ok := got.Videos[req.VideoId]; !ok {
		return nil, errs.New(base.ErrCode_VideoNotFound, "video not found")
	}
	c := &Comment{VideoID: req.VideoId, UserID: req.UserId, Content: content, CreatedAt: s.now()}
	err = s.store.CreateComment(ctx, c)
	s.forgetList(c.VideoID) // even on an error: the insert may have committed
	if err != nil {
		return nil, err
	}
	cache.DropCounts(ctx, s.counts, []int64{c.VideoID}, s.log)
	s.activity.Notify(ctx, s.log, &event.ActivityEvent{Kind: event.ActivityCommentAdded, UserId: c.UserID, VideoId: c.VideoID, CommentId: c.ID, At: c.CreatedAt})
	return &commentapi.PostCommentResponse{Comment: record(c)}, nil
}
