// Package comment is the comment service: comments on videos and their counters.
package comment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/douyin-backend/douyin/internal/activity"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

const (
	maxContentRunes = 500
	// maxListComments caps a comment list: the app has no paging, so it shows the newest 1000.
	maxListComments = 1000
)

// Service implements commentapi.CommentService.
type Service struct {
	store  Store
	videos videoapi.VideoService
	now    func() int64 // Unix milliseconds; replaced in tests to order comments deterministically
	// counts caches comment counts (nil: read SQL); each commit that moves one drops it.
	counts cache.CountCache
	// activity tells the recommender about comments (nil: no events).
	activity *activity.Publisher
	log      *slog.Logger
}

var _ commentapi.CommentService = (*Service)(nil)

// Option configures the service.
type Option func(*Service)

// WithCountCache puts c in front of MGetCommentCounts.
func WithCountCache(c cache.CountCache) Option { return func(s *Service) { s.counts = c } }

// WithActivity publishes posted and deleted comments on the activity stream.
func WithActivity(p *activity.Publisher) Option { return func(s *Service) { s.activity = p } }

// WithLogger sets where degraded cache operations are reported (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New returns the comment service.
func New(store Store, videos videoapi.VideoService, opts ...Option) *Service {
	s := &Service{store: store, videos: videos, now: db.NowMillis, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// PostComment adds a comment to an existing video and returns it.
func (s *Service) PostComment(ctx context.Context, req *commentapi.PostCommentRequest) (*commentapi.PostCommentResponse, error) {
	if req.UserId <= 0 {
		return nil, errs.Invalid("user_id must be positive")
	}
	if req.VideoId <= 0 {
		return nil, errs.Invalid("video_id must be positive")
	}
	content := strings.TrimSpace(req.Content)
	if n := utf8.RuneCountInString(content); n < 1 || n > maxContentRunes || !utf8.ValidString(content) {
		return nil, errs.Invalid("comment must be 1-%d characters", maxContentRunes)
	}
	got, err := s.videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: []int64{req.VideoId}})
	if err != nil {
		return nil, fmt.Errorf("look up video %d: %w", req.VideoId, err)
	}
	if _, ok := got.Videos[req.VideoId]; !ok {
		return nil, errs.New(base.ErrCode_VideoNotFound, "video not found")
	}
	c := &Comment{VideoID: req.VideoId, UserID: req.UserId, Content: content, CreatedAt: s.now()}
	if err := s.store.CreateComment(ctx, c); err != nil {
		return nil, err
	}
	cache.DropCounts(ctx, s.counts, []int64{c.VideoID}, s.log)
	s.activity.Notify(ctx, s.log, &event.ActivityEvent{Kind: event.ActivityCommentAdded, UserId: c.UserID, VideoId: c.VideoID, CommentId: c.ID, At: c.CreatedAt})
	return &commentapi.PostCommentResponse{Comment: record(c)}, nil
}

// DeleteComment removes a comment; only its author may.
func (s *Service) DeleteComment(ctx context.Context, req *commentapi.DeleteCommentRequest) (*commentapi.DeleteCommentResponse, error) {
	if req.UserId <= 0 {
		return nil, errs.Invalid("user_id must be positive")
	}
	if req.CommentId <= 0 {
		return nil, errs.Invalid("comment_id must be positive")
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

// ListComments returns the video's comments, newest first, at most maxListComments.
func (s *Service) ListComments(ctx context.Context, req *commentapi.ListCommentsRequest) (*commentapi.ListCommentsResponse, error) {
	if req.VideoId <= 0 {
		return nil, errs.Invalid("video_id must be positive")
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

// MGetCommentCounts returns the comment count of every requested video, 0 for videos with none.
func (s *Service) MGetCommentCounts(ctx context.Context, req *commentapi.MGetCommentCountsRequest) (*commentapi.MGetCommentCountsResponse, error) {
	want := ids.Unique(req.VideoIds)
	if len(want) > ids.MaxBatch {
		return nil, errs.Invalid("at most %d video_ids per request", ids.MaxBatch)
	}
	stored, err := cache.CountsThrough(ctx, s.counts, want, s.store.MGetCommentCounts, s.log)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int64, len(want))
	for _, id := range want {
		out[id] = stored[id]
	}
	return &commentapi.MGetCommentCountsResponse{CommentCounts: out}, nil
}

func record(c *Comment) *commentapi.CommentRecord {
	return &commentapi.CommentRecord{Id: c.ID, VideoId: c.VideoID, UserId: c.UserID, Content: c.Content, CreatedAt: c.CreatedAt}
}
