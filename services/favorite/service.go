// Package favorite is the favorite service: likes, their counters and the liked-videos list.
package favorite

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/douyin-backend/douyin/internal/batch"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// Service implements favoriteapi.FavoriteService.
type Service struct {
	store  Store
	videos videoapi.VideoService
	queue  mq.Producer
	// lastSeq keeps the seqs this process hands out strictly increasing, even for two taps
	// within one clock tick.
	lastSeq atomic.Int64
	// readModel serves likes ahead of SQL (nil: read SQL).
	readModel ReadModel
	// likes writes the consumed events in shared transactions.
	likes *batch.Batcher[event.LikeEvent, Committed]
	// authors remembers the author of each liked video (immutable), saving a call per like.
	authors *cache.LocalRecords[videoAuthor]
	// authorLookups asks the video service once for the authors that concurrent likes found
	// missing from authors.
	authorLookups *batch.Batcher[int64, int64]
	log           *slog.Logger
}

var _ favoriteapi.FavoriteService = (*Service)(nil)

// New returns the favorite service; opts add a read model (production) or a logger. Call
// Subscribe to start writing likes to the store.
func New(store Store, videos videoapi.VideoService, queue mq.Producer, opts ...Option) *Service {
	s := &Service{store: store, videos: videos, queue: queue, log: slog.Default()}
	s.likes = batch.New(maxLikeBatch, s.applyLikes)
	s.authors = cache.NewLocalRecords("favorite:authors", time.Hour, maxRememberedAuthors, func(a videoAuthor) int64 { return a.VideoID })
	s.authorLookups = batch.New(maxAuthorLookups, s.lookUpAuthors)
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

// WithReadModel serves likes from rm (Redis, or MemoryReadModel in the embedded mode).
// Without it every read goes to SQL and every action is published as is.
func WithReadModel(rm ReadModel) Option {
	return func(s *Service) { s.readModel = rm }
}
