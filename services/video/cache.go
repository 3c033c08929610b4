package video

import (
	"context"
	"log/slog"
	"time"

	"github.com/douyin-backend/douyin/internal/activity"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// RecordCache keeps ready video records in front of SQL. Only ready records are cached: a
// processing video changes state, a ready one does not, so a cached record never goes stale
// through the normal flow. It is only a cache: the service stays correct when it is empty.
type RecordCache interface {
	// MGet returns the cached videos among ids and, in request order, the ids it lacks.
	MGet(ctx context.Context, ids []int64) (found map[int64]Video, missing []int64, err error)
	// MSet caches ready videos.
	MSet(ctx context.Context, videos []Video) error
	// Delete drops the cached records of ids.
	Delete(ctx context.Context, ids []int64) error
}

// Option configures the service.
type Option func(*Service)

// WithRecordCache puts c in front of MGetVideos. Without it every read
// goes to SQL.
func WithRecordCache(c RecordCache) Option {
	return func(s *Service) { s.recordCache = c }
}

// WithWorkCountCache puts c in front of MGetWorkCounts.
func WithWorkCountCache(c cache.CountCache) Option {
	return func(s *Service) { s.workCounts = c }
}

// WithTimeline serves feed pages near the top from t.
func WithTimeline(t Timeline) Option {
	return func(s *Service) { s.timeline = t }
}

// WithActivity publishes a ready video on the activity stream (the recommender's).
func WithActivity(p *activity.Publisher) Option {
	return func(s *Service) { s.activity = p }
}

// WithLogger sets where degraded cache operations are reported (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// noRecordCache holds nothing: every read goes to SQL.
type noRecordCache struct{}

func (noRecordCache) MGet(_ context.Context, ids []int64) (map[int64]Video, []int64, error) {
	return nil, ids, nil
}
func (noRecordCache) MSet(context.Context, []Video) error   { return nil }
func (noRecordCache) Delete(context.Context, []int64) error { return nil }

// readyVideos is the cache-aside read of MGetVideos: cached records first, the misses from
// SQL in one query, then the ready ones written back. A failing cache costs speed only. It
// returns the ready videos among ids by id.
func (s *Service) readyVideos(ctx context.Context, ids []int64) (map[int64]Video, error) {
	found, missing, err := s.recordCache.MGet(ctx, ids)
	if err != nil {
		s.log.WarnContext(ctx, "video cache read failed; reading SQL", "err", err)
		found, missing = nil, ids
	}
	if found == nil {
		found = make(map[int64]Video, len(ids))
	}
	for id, v := range found {
		if v.Status != statusReady {
			delete(found, id)
		}
	}
	if len(missing) == 0 {
		return found, nil
	}
	loaded, err := s.store.MGetReady(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(loaded) > 0 {
		for _, v := range loaded {
			found[v.ID] = v
		}
		if err := s.recordCache.MSet(ctx, loaded); err != nil {
			s.log.WarnContext(ctx, "video cache fill failed", "err", err)
		}
	}
	return found, nil
}

// feedPage finds the page's ids on the timeline when it can, else with an index-only query,
// and takes the records from the record cache. A timeline that is not loaded is loaded with
// the newest videos first (one query, which also fills the record cache).
func (s *Service) feedPage(ctx context.Context, before int64, limit int) ([]Video, error) {
	if s.timeline == nil {
		return s.store.ListFeed(ctx, before, limit)
	}
	entries, answer, err := s.timeline.Before(ctx, before, limit)
	if err != nil {
		s.log.WarnContext(ctx, "timeline read failed; reading SQL", "err", err)
	} else if answer == TimelineNotLoaded {
		// Concurrent first requests share one load.
		if _, err, _ := s.timelineLoads.Do("load", func() (any, error) { return nil, s.loadTimeline(ctx) }); err != nil {
			s.log.WarnContext(ctx, "timeline load failed", "err", err)
		}
	}
	if err != nil || answer != TimelineHit {
		if entries, err = s.store.ListFeedEntries(ctx, before, limit); err != nil {
			return nil, err
		}
	}
	pageIDs := make([]int64, len(entries))
	for i, e := range entries {
		pageIDs[i] = e.ID
	}
	return s.readyVideosInOrder(ctx, pageIDs)
}

// readyVideosInOrder is readyVideos in the order of ids, without the ones not ready.
func (s *Service) readyVideosInOrder(ctx context.Context, ids []int64) ([]Video, error) {
	byID, err := s.readyVideos(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Video, 0, len(ids))
	for _, id := range ids {
		if v, ok := byID[id]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// loadTimeline fills the timeline with the newest ready videos (an index-only read).
func (s *Service) loadTimeline(ctx context.Context) error {
	newest, err := s.store.ListFeedEntries(ctx, s.now()+1, s.timeline.Size())
	if err != nil {
		return err
	}
	return s.timeline.Fill(ctx, newest)
}

// becameReady updates the caches after a video turned ready: its record (a guard, processing
// records are never cached), its author's work count and the timeline.
func (s *Service) becameReady(ctx context.Context, v TimelineEntry, authorID int64) {
	ctx = context.WithoutCancel(ctx)
	s.activity.Notify(ctx, s.log, &event.ActivityEvent{Kind: event.ActivityVideoReady, VideoId: v.ID, AuthorId: authorID, At: v.CreatedAt})
	cache.DropCounts(ctx, s.workCounts, []int64{authorID}, s.log)
	if s.timeline != nil {
		if err := s.timeline.Add(ctx, v); err != nil {
			s.log.WarnContext(ctx, "timeline add failed", "video_id", v.ID, "err", err)
		}
	}
}

// forgetRecord drops a video's cached record after its state changed. A failure is logged:
// the record's TTL bounds how long a stale copy can be served.
func (s *Service) forgetRecord(ctx context.Context, id int64) {
	if err := s.recordCache.Delete(context.WithoutCancel(ctx), []int64{id}); err != nil {
		s.log.WarnContext(ctx, "video cache delete failed", "video_id", id, "err", err)
	}
}

// RedisRecordCache is the RecordCache on Redis: one JSON string per video under
// "video:r:{id}", read with one MGET and written with one pipeline.
type RedisRecordCache struct {
	records *cache.Records[cachedVideo]
}

var _ RecordCache = (*RedisRecordCache)(nil)

// NewRedisRecordCache returns the cache on r; each record lives for ttl with jitter. Lookups
// are counted by o when it is not nil.
func NewRedisRecordCache(r *cache.Redis, ttl time.Duration, o cache.LookupObserver) *RedisRecordCache {
	records := cache.NewRecords(r, "video:r", ttl, func(v cachedVideo) int64 { return v.ID })
	if o != nil {
		records.Observe(o)
	}
	return &RedisRecordCache{records: records}
}

// cachedVideo holds blob keys, not URLs: URLs are resolved at read time because signed
// storage URLs expire.
type cachedVideo struct {
	ID        int64  `json:"id"`
	AuthorID  int64  `json:"au"`
	Title     string `json:"t"`
	PlayKey   string `json:"p"`
	CoverKey  string `json:"c"`
	Status    int8   `json:"s"`
	CreatedAt int64  `json:"at"`
	// Renditions is absent from records cached before renditions existed.
	Renditions []Rendition `json:"r,omitempty"`
}

// MGet reads all ids with one MGET.
func (c *RedisRecordCache) MGet(ctx context.Context, ids []int64) (map[int64]Video, []int64, error) {
	cached, missing, err := c.records.MGet(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	found := make(map[int64]Video, len(cached))
	for id, cv := range cached {
		found[id] = Video{ID: cv.ID, AuthorID: cv.AuthorID, Title: cv.Title, PlayKey: cv.PlayKey,
			CoverKey: cv.CoverKey, Status: cv.Status, CreatedAt: cv.CreatedAt, Renditions: cv.Renditions}
	}
	return found, missing, nil
}

// MSet writes the records in one pipeline.
func (c *RedisRecordCache) MSet(ctx context.Context, videos []Video) error {
	cached := make([]cachedVideo, len(videos))
	for i, v := range videos {
		cached[i] = cachedVideo{ID: v.ID, AuthorID: v.AuthorID, Title: v.Title, PlayKey: v.PlayKey,
			CoverKey: v.CoverKey, Status: v.Status, CreatedAt: v.CreatedAt, Renditions: v.Renditions}
	}
	return c.records.MSet(ctx, cached)
}

// Delete drops the records of ids.
func (c *RedisRecordCache) Delete(ctx context.Context, ids []int64) error {
	return c.records.Delete(ctx, ids)
}

// NewMemoryRecordCache is the RecordCache of the embedded mode: records in process memory,
// at most maxEntries, each for ttl with jitter.
func NewMemoryRecordCache(ttl time.Duration, maxEntries int, o cache.LookupObserver) RecordCache {
	records := cache.NewLocalRecords("video:r", ttl, maxEntries, func(v Video) int64 { return v.ID })
	if o != nil {
		records.Observe(o)
	}
	return records
}
