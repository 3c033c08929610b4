// Package recommend is the recommend service: it learns from the event stream (likes,
// comments, follows, ready videos) and ranks ready videos per viewer by item-to-item
// collaborative filtering blended with popularity and freshness (docs/feeds.md).
package recommend

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
)

// pageSize is both the default and the largest page.
const pageSize = 30

// rankDepth is how many videos one ranking of a viewer holds: pages are served from it, so
// the ranking (about 1 ms: the walk plus sorting its ≤800 candidates, whatever the depth) runs
// once per rankDepth/pageSize = 20 pages at most.
const rankDepth = 600

// rankTTL is how long a viewer's ranking serves pages before it is computed again (other
// people's likes reach it then; the viewer's own likes and follows make it stale at once).
const rankTTL = 30 * time.Second

// rankSettle: a viewer's first ranking, or one made because of their own like or follow, is
// made once more this long after. Other users' events from just before it may still be on their way through
// other queues (consumption is concurrent), and they are what "people who liked this" means.
const rankSettle = 2 * time.Second

// consumerGroup is the recommender's group on the like and activity topics: it sees every
// event beside the favorite service's own consumer.
const consumerGroup = "recommend"

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

// Source is the committed state the model is rebuilt from when it is empty.
type Source interface {
	// Load calls the model's updates for every ready video, like, comment and follow.
	Load(ctx context.Context, m *Model) error
}

// Service implements recommendapi.RecommendService.
type Service struct {
	cfg   Config
	model *Model
	seen  *seenSets
	now   func() int64 // Unix milliseconds; replaced in tests
	log   *slog.Logger
}

var _ recommendapi.RecommendService = (*Service)(nil)

// New returns the service over an empty model, rebuilt from source when source is not nil.
func New(ctx context.Context, cfg Config, source Source, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, model: NewModel(db.NowMillis()), seen: newSeenSets(), now: db.NowMillis, log: log}
	if source != nil && s.model.Empty() {
		started := time.Now()
		if err := source.Load(ctx, s.model); err != nil {
			return nil, fmt.Errorf("rebuild the recommender from SQL: %w", err)
		}
		st := s.model.Stats()
		log.Info("recommender rebuilt from SQL", "videos", st.Videos, "users", st.Users, "likes", st.Likes, "took", time.Since(started))
	}
	return s, nil
}

// Model returns the service's model (the offline evaluation and tests feed it directly).
func (s *Service) Model() *Model { return s.model }

// Subscribe registers the consumers of like and activity events.
func (s *Service) Subscribe(c mq.Consumer) error {
	if err := c.Subscribe(mq.TopicFavorite, consumerGroup, s.handleLike); err != nil {
		return err
	}
	return c.Subscribe(mq.TopicActivity, consumerGroup, s.handleActivity)
}

// handleLike applies a like event; a malformed one is dropped (redelivering cannot fix it).
func (s *Service) handleLike(ctx context.Context, body []byte) error {
	var e event.LikeEvent
	if err := json.Unmarshal(body, &e); err != nil || e.UserId <= 0 || e.VideoId <= 0 {
		s.log.WarnContext(ctx, "malformed like event dropped", "err", err)
		return nil
	}
	s.model.ApplyLike(e.UserId, e.VideoId, e.Liked, e.Seq, e.At)
	return nil
}

// handleActivity applies a ready video, comment or follow event.
func (s *Service) handleActivity(ctx context.Context, body []byte) error {
	var e event.ActivityEvent
	if err := json.Unmarshal(body, &e); err != nil {
		s.log.WarnContext(ctx, "malformed activity event dropped", "err", err)
		return nil
	}
	switch e.Kind {
	case event.ActivityVideoReady:
		s.model.AddVideo(e.VideoId, e.AuthorId, e.At)
	case event.ActivityCommentAdded, event.ActivityCommentDeleted:
		s.model.ApplyComment(e.CommentId, e.VideoId, e.Kind == event.ActivityCommentAdded, e.At)
	case event.ActivityFollowed, event.ActivityUnfollowed:
		s.model.ApplyFollow(e.UserId, e.AuthorId, e.Kind == event.ActivityFollowed, e.At)
	default:
		s.log.WarnContext(ctx, "unknown activity event dropped", "kind", e.Kind)
	}
	return nil
}

// Recommend returns up to limit video ids ranked for the viewer, none of them returned to
// this viewer within the seen window; when fewer remain, the seen-set starts over and the
// page is filled from the rest. Anonymous viewers get the popular-and-fresh ranking.
func (s *Service) Recommend(ctx context.Context, req *recommendapi.RecommendRequest) (*recommendapi.RecommendResponse, error) {
	if req.ViewerId < 0 {
		return nil, errs.Invalid("viewer_id must not be negative")
	}
	limit := int(req.Limit)
	switch {
	case limit == 0 || limit > pageSize:
		limit = pageSize
	case limit < 0:
		return nil, errs.Invalid("limit must not be negative")
	}
	now := s.now()
	if req.ViewerId == 0 {
		ids := s.model.Trending(now, limit, nil)
		if len(ids) < limit {
			// The trending list is being built for the first time, or the catalogue is small.
			ids = s.model.Rank(0, now, limit, nil)
		}
		return &recommendapi.RecommendResponse{VideoIds: ids}, nil
	}
	seen := s.seen.of(req.ViewerId)
	seen.mu.Lock()
	defer seen.mu.Unlock()
	seen.expire(now - s.cfg.SeenWindow.Milliseconds())
	unseen := func(id int64) bool { _, ok := seen.at[id]; return !ok }
	version := s.model.UserVersion(req.ViewerId)
	rank := func() {
		seen.ranked = s.model.Rank(req.ViewerId, now, rankDepth, unseen)
		seen.version, seen.rankedAt = version, now
	}
	take := func() []int64 {
		ids := make([]int64, 0, limit)
		for _, id := range seen.ranked {
			if len(ids) == limit {
				break
			}
			if unseen(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	fresh := seen.ranked == nil || seen.version != version // a first ranking, or the viewer acted
	if fresh || now-seen.rankedAt > rankTTL.Milliseconds() || (seen.settling && now-seen.rankedAt > rankSettle.Milliseconds()) {
		rank()
		seen.settling = fresh
	}
	ids := take()
	if len(ids) < limit {
		// The ranking is used up: rank what is still unseen, the whole catalogue if need be.
		rank()
		ids = take()
	}
	if len(ids) < limit {
		// The catalogue is exhausted for this viewer: start over, this page's picks excluded.
		picked := make(map[int64]bool, len(ids))
		for _, id := range ids {
			picked[id] = true
		}
		seen.reset()
		more := s.model.Rank(req.ViewerId, now, limit-len(ids), func(id int64) bool { return !picked[id] })
		ids = append(ids, more...)
		seen.ranked = nil
	}
	for _, id := range ids {
		seen.add(id, now, s.cfg.MaxSeen)
	}
	return &recommendapi.RecommendResponse{VideoIds: ids}, nil
}

// seenSets holds each viewer's recently recommended videos. In process: a recommend replica
// remembers what it served (see docs/feeds.md for the deployment).
type seenSets struct {
	mu    sync.Mutex
	users map[int64]*seenSet
}

func newSeenSets() *seenSets { return &seenSets{users: map[int64]*seenSet{}} }

// of returns the viewer's set, created empty.
func (s *seenSets) of(viewer int64) *seenSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.users[viewer]
	if set == nil {
		set = &seenSet{at: map[int64]int64{}}
		s.users[viewer] = set
	}
	return set
}

// seenSet is one viewer's: video id → when it was returned, the ids in that order, and the
// viewer's current ranking with the model version and time it was computed at.
type seenSet struct {
	mu       sync.Mutex
	at       map[int64]int64
	order    []int64
	ranked   []int64
	version  uint64
	rankedAt int64
	// settling: a first ranking or one after the viewer's own action; made again after rankSettle.
	settling bool
}

func (s *seenSet) add(id, now int64, maxSeen int) {
	if _, ok := s.at[id]; !ok {
		s.order = append(s.order, id)
	}
	s.at[id] = now
	for len(s.order) > maxSeen {
		delete(s.at, s.order[0])
		s.order = s.order[1:]
	}
}

// expire forgets what was returned before cutoff.
func (s *seenSet) expire(cutoff int64) {
	n := 0
	for n < len(s.order) && s.at[s.order[n]] < cutoff {
		delete(s.at, s.order[n])
		n++
	}
	s.order = s.order[n:]
}

func (s *seenSet) reset() {
	clear(s.at)
	s.order = s.order[:0]
}
