// Package video is the video service: publishing, processing status, the feed and publish lists.
package video

import (
	"log/slog"

	"golang.org/x/sync/singleflight"

	"github.com/douyin-backend/douyin/internal/activity"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/mq"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// URLResolver turns a blob key into the URL clients fetch; a blob.Store satisfies it.
type URLResolver interface {
	URL(key string) string
}

// Service implements videoapi.VideoService.
type Service struct {
	store       Store
	queue       mq.Producer
	urls        URLResolver
	now         func() int64        // Unix milliseconds; replaced in tests to order videos deterministically
	recordCache RecordCache         // nil: read SQL
	workCounts  cache.CountCache    // nil: read SQL
	ownCounts   *OwnCounts          // nil: an author's own count is read from SQL
	timeline    Timeline            // nil: read SQL
	activity    *activity.Publisher // nil: no events
	// timelineLoads makes concurrent first reads share one load of the timeline.
	timelineLoads singleflight.Group
	log           *slog.Logger
	sweep         SweeperConfig
}

var _ videoapi.VideoService = (*Service)(nil)

// New returns the video service; opts add its caches, the activity stream, the sweeper
// settings or a logger.
func New(store Store, queue mq.Producer, urls URLResolver, opts ...Option) *Service {
	s := &Service{store: store, queue: queue, urls: urls, now: db.NowMillis, log: slog.Default(), sweep: DefaultSweeperConfig()}
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

// WithRecordCache puts c in front of the video records. Without it every read goes to SQL.
func WithRecordCache(c RecordCache) Option {
	return func(s *Service) { s.recordCache = c }
}

// WithWorkCountCache puts c in front of MGetWorkCounts.
func WithWorkCountCache(c cache.CountCache) Option {
	return func(s *Service) { s.workCounts = c }
}

// WithOwnCounts caches authors' own work counts in c. Only for a placement where this
// instance is the only writer of videos: a write through another one would not drop them.
func WithOwnCounts(c *OwnCounts) Option {
	return func(s *Service) { s.ownCounts = c }
}

// WithTimeline serves feed pages near the top from t.
func WithTimeline(t Timeline) Option {
	return func(s *Service) { s.timeline = t }
}

// WithActivity publishes a ready video on the activity stream (the recommender's).
func WithActivity(p *activity.Publisher) Option {
	return func(s *Service) { s.activity = p }
}

// WithSweeper sets the sweeper's settings (DefaultSweeperConfig otherwise).
func WithSweeper(cfg SweeperConfig) Option {
	return func(s *Service) { s.sweep = cfg }
}
