// Package relation is the relation service: follows, followers, friends (mutual follows) and
// their counters.
package relation

import (
	"log/slog"

	"github.com/douyin-backend/douyin/internal/activity"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// Service implements the relation service.
type Service struct {
	store Store
	users userapi.UserService
	// cache serves counters and is_follow (nil: read SQL).
	cache Cache
	// activity tells the recommender about follows (nil: no events).
	activity *activity.Publisher
	log      *slog.Logger
}

var _ relationapi.RelationService = (*Service)(nil)

// New returns the relation service; users is asked whether a followed user exists. opts add
// a cache, the activity stream or a logger.
func New(store Store, users userapi.UserService, opts ...Option) *Service {
	s := &Service{store: store, users: users, log: slog.Default()}
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

// WithCache serves counters and is_follow from c (Redis, or MemoryCache in the embedded
// mode). Without it every read goes to SQL.
func WithCache(c Cache) Option {
	return func(s *Service) { s.cache = c }
}

// WithActivity publishes follows and unfollows on the activity stream.
func WithActivity(p *activity.Publisher) Option {
	return func(s *Service) { s.activity = p }
}
