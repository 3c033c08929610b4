// Package comment is the comment service: comments on videos and their counters.
package comment

import (
	"log/slog"

	"github.com/douyin-backend/douyin/internal/activity"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// Service implements commentapi.CommentService.
type Service struct {
	store  Store
	videos videoapi.VideoService
	now    func() int64 // Unix milliseconds; replaced in tests to order comments deterministically
	// counts caches comment counts (nil: read SQL); each commit that moves one drops it.
	counts cache.CountCache
	// lists caches comment lists in process memory (nil: read SQL); each write drops its
	// video's list.
	lists *ListCache
	// activity tells the recommender about comments (nil: no events).
	activity *activity.Publisher
	log      *slog.Logger
}

var _ commentapi.CommentService = (*Service)(nil)

// New returns the comment service; videos is asked whether a commented video exists. opts
// add a count cache, the activity stream or a logger.
func New(store Store, videos videoapi.VideoService, opts ...Option) *Service {
	s := &Service{store: store, videos: videos, now: db.NowMillis, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Option configures the service.
type Option func(*Service)

// WithLogger sets where the service reports degraded operations (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// WithCountCache puts c in front of MGetCommentCounts.
func WithCountCache(c cache.CountCache) Option {
	return func(s *Service) { s.counts = c }
}

// WithListCache puts c in front of ListComments. Only for a process that makes every comment
// write (the embedded mode): a write elsewhere would not drop the list it changed.
func WithListCache(c *ListCache) Option {
	return func(s *Service) { s.lists = c }
}

// WithActivity publishes posted and deleted comments on the activity stream.
func WithActivity(p *activity.Publisher) Option {
	return func(s *Service) { s.activity = p }
}
