// Package recommend is the recommend service: it learns from the event stream (likes,
// comments, follows, ready videos) and ranks ready videos per viewer by item-to-item
// collaborative filtering blended with popularity and freshness (docs/feeds.md).
package recommend

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/douyin-backend/douyin/internal/db"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
)

// pageSize is both the default and the largest page.
const pageSize = 30

// defaultSeenIDs bounds the default seen store's ids over all viewers (New without WithSeen).
const defaultSeenIDs = 1 << 20

// Config holds the recommender's settings.
type Config struct {
	// SeenWindow is how long a video returned to a viewer is not returned to them again
	// (unless everything was, when their seen-set starts over).
	SeenWindow time.Duration
	// MaxSeen bounds each viewer's seen-set; the oldest entries go first.
	MaxSeen int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{SeenWindow: 24 * time.Hour, MaxSeen: 5000} }

// RegisterFlags registers the settings with the receiver's values as defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.SeenWindow, "recommend.seen-window", c.SeenWindow, "how long a recommended video is not recommended to the same viewer again (unless every candidate was)")
	fs.IntVar(&c.MaxSeen, "recommend.max-seen", c.MaxSeen, "most videos remembered as seen per viewer (the oldest are forgotten first)")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.SeenWindow <= 0 || c.MaxSeen < pageSize {
		return fmt.Errorf("recommend.seen-window must be positive and recommend.max-seen at least %d", pageSize)
	}
	return nil
}

// Service implements recommendapi.RecommendService.
type Service struct {
	cfg      Config
	state    State
	seen     SeenStore
	rankings *rankings
	now      func() int64 // Unix milliseconds; replaced in tests
	log      *slog.Logger
}

var _ recommendapi.RecommendService = (*Service)(nil)

// Option configures a Service.
type Option func(*Service)

// WithState puts the model's state in st (default: in process, NewMemoryState).
func WithState(st State) Option { return func(s *Service) { s.state = st } }

// WithSeen keeps the viewers' seen videos in seen (default: in process, NewMemorySeen).
func WithSeen(seen SeenStore) Option { return func(s *Service) { s.seen = seen } }

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// withClock replaces the clock (tests).
func withClock(now func() int64) Option { return func(s *Service) { s.now = now } }

// New returns the service with its state started: rebuilt from source when it is empty
// (source may be nil). Close stops it.
func New(ctx context.Context, cfg Config, source Source, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, now: db.NowMillis, log: slog.Default()}
	s.rankings = newRankings(s.record)
	for _, o := range opts {
		o(s)
	}
	if s.state == nil {
		s.state = NewMemoryState(NewModel(s.now()))
	}
	if s.seen == nil {
		s.seen = NewMemorySeen(cfg.MaxSeen, defaultSeenIDs)
	}
	started := time.Now()
	if err := s.state.Start(ctx, source); err != nil {
		return nil, err
	}
	st := s.state.Model().Stats()
	s.log.Info("recommender started", "videos", st.Videos, "users", st.Users, "likes", st.Likes, "took", time.Since(started))
	return s, nil
}

// Model returns the service's current model (tests feed it directly).
func (s *Service) Model() *Model { return s.state.Model() }

// Close stops following the state.
func (s *Service) Close() error { return s.state.Close() }
