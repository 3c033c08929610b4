package app

import (
	"log/slog"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/live"
	"github.com/douyin-backend/douyin/internal/telemetry"
	"github.com/douyin-backend/douyin/services/comment"
	"github.com/douyin-backend/douyin/services/favorite"
	"github.com/douyin-backend/douyin/services/recommend"
	"github.com/douyin-backend/douyin/services/relation"
	"github.com/douyin-backend/douyin/services/user"
	"github.com/douyin-backend/douyin/services/video"
)

// embeddedCacheEntries bounds each in-process cache of the embedded mode.
const embeddedCacheEntries = 1 << 20

// embeddedListComments bounds the comments held by the embedded mode's comment-list cache
// (about 200 MB at most).
const embeddedListComments = 1 << 20

// localTierEntries bounds the in-process tier in front of Redis of each immutable record
// cache (ready videos, profiles) in the multi-process mode: about 20 MB each.
const localTierEntries = 100_000

// sharedState is every cache and read model the components keep beside SQL, and the
// live-comment fan-out. All of it is on Redis when the cache backend is Redis, shared by every
// process and replica, or all of it in this process's memory otherwise: the one place that
// choice is made. Building it allocates nothing per entry, so a process builds it whole and
// each component takes its part.
type sharedState struct {
	profiles      user.ProfileCache
	videoRecords  video.RecordCache
	workCounts    cache.CountCache
	timeline      video.Timeline
	likes         favorite.ReadModel
	commentCounts cache.CountCache
	// commentLists exists only in memory: it is right only where this process makes every
	// comment write (nil on Redis).
	commentLists *comment.ListCache
	follows      relation.Cache
	liveComments live.Fanout
	// The recommender's model state and its viewers' seen videos: on Redis, its replicas share
	// them (each keeps a copy of the model in memory, following Redis).
	recommendState recommend.State
	recommendSeen  recommend.SeenStore
}

func newSharedState(cfg cache.Config, rec recommend.Config, r *cache.Redis, metrics *telemetry.Metrics, log *slog.Logger) sharedState {
	if r == nil {
		return sharedState{
			profiles:       user.NewMemoryProfileCache(cfg.TTL, embeddedCacheEntries, metrics),
			videoRecords:   video.NewMemoryRecordCache(cfg.TTL, embeddedCacheEntries, metrics),
			workCounts:     cache.NewLocalCounts("video:works", cfg.CounterTTL, embeddedCacheEntries, metrics),
			timeline:       video.NewMemoryTimeline(video.EmbeddedTimelineSize),
			likes:          favorite.NewMemoryReadModel(cfg.TTL, cfg.CounterTTL, embeddedCacheEntries),
			commentCounts:  cache.NewLocalCounts("comment:n", cfg.CounterTTL, embeddedCacheEntries, metrics),
			commentLists:   comment.NewListCache(cfg.TTL, embeddedListComments),
			follows:        relation.NewMemoryCache(cfg.TTL, cfg.CounterTTL, embeddedCacheEntries),
			liveComments:   live.NewLocal(),
			recommendState: recommend.NewMemoryState(recommend.NewModel(db.NowMillis())),
			recommendSeen:  recommend.NewMemorySeen(rec.MaxSeen, embeddedCacheEntries),
		}
	}
	return sharedState{
		// Profiles and ready video records never change once written: a local tier saves the
		// round trip and the decoding per read.
		profiles: cache.NewTiered[user.Account](
			user.NewMemoryProfileCache(cfg.TTL, localTierEntries, nil),
			user.NewRedisProfileCache(r, cfg.TTL, metrics)),
		videoRecords: cache.NewTiered(
			video.NewMemoryRecordCache(cfg.TTL, localTierEntries, nil),
			video.RecordCache(video.NewRedisRecordCache(r, cfg.TTL, metrics))),
		workCounts:    cache.NewRedisCounts(r, "video:works", cfg.CounterTTL, metrics),
		timeline:      video.NewRedisTimeline(r, video.DefaultTimelineSize, cfg.CounterTTL),
		likes:         favorite.NewRedisReadModel(r, cfg.TTL, cfg.CounterTTL),
		commentCounts: cache.NewRedisCounts(r, "comment:n", cfg.CounterTTL, metrics),
		follows:       relation.NewRedisCache(r, cfg.TTL, cfg.CounterTTL),
		// Replicated gateways share Redis: a comment posted through one reaches the others.
		liveComments:   live.NewRedis(r.Client(), r.Key("live:comments")),
		recommendState: recommend.NewRedisState(r, log),
		recommendSeen:  recommend.NewRedisSeen(r, rec.MaxSeen, rec.SeenWindow),
	}
}

// sized is every part held in this process's memory that reports how full it is; the parts
// on Redis report nothing (Redis has its own maxmemory).
func (s sharedState) sized(more ...any) []cache.Sized {
	var out []cache.Sized
	for _, part := range append([]any{s.profiles, s.videoRecords, s.workCounts, s.timeline, s.likes,
		s.commentCounts, s.commentLists, s.follows, s.recommendSeen}, more...) {
		if sz, ok := part.(cache.Sized); ok {
			out = append(out, sz)
		}
	}
	return out
}
