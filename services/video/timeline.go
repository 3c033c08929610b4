package video

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
)

// DefaultTimelineSize is how many of the newest videos the shared (Redis) timeline keeps: 33
// pages of the app; older pages are one index-only query.
const DefaultTimelineSize = 1000

// EmbeddedTimelineSize is the in-process timeline's size: 16 bytes a video, so the embedded
// mode keeps a catalogue of up to a million videos whole (16 MB) and never queries a page.
const EmbeddedTimelineSize = 1 << 20

// TimelineEntry is one ready video on the feed timeline.
type TimelineEntry struct {
	ID        int64
	CreatedAt int64 // Unix milliseconds
}

// Timeline holds the newest ready videos, newest first, so that a feed page near the top (what
// the app asks for almost always) is found without a query. Ready videos never leave the
// ready state, so the timeline only ever gains entries; it keeps the newest Size of them.
//
// A video becoming ready is added even while the timeline is not loaded, and a load merges
// what it read from SQL with what is there: a load racing a publish cannot lose the new video.
type Timeline interface {
	// Before returns up to limit entries created strictly before beforeMillis, newest first,
	// when the answer is TimelineHit.
	Before(ctx context.Context, beforeMillis int64, limit int) ([]TimelineEntry, TimelineAnswer, error)
	// Add records a video that became ready.
	Add(ctx context.Context, e TimelineEntry) error
	// Fill merges the newest entries read from SQL (at most Size) and marks the timeline loaded.
	Fill(ctx context.Context, entries []TimelineEntry) error
	// Size is the number of newest videos the timeline keeps.
	Size() int
}

// TimelineAnswer tells whether the timeline could answer a page.
type TimelineAnswer int

const (
	// TimelineHit: the entries are the page.
	TimelineHit TimelineAnswer = iota
	// TimelineNotLoaded: nothing (or no complete load) is held yet.
	TimelineNotLoaded
	// TimelinePastEnd: the page reaches past the oldest entry kept while older videos may exist.
	TimelinePastEnd
)

// MemoryTimeline is the Timeline of the embedded mode.
type MemoryTimeline struct {
	mu      sync.RWMutex
	entries []TimelineEntry // newest first
	loaded  bool
	size    int
}

var _ Timeline = (*MemoryTimeline)(nil)

// NewMemoryTimeline keeps the newest size ready videos in process.
func NewMemoryTimeline(size int) *MemoryTimeline {
	return &MemoryTimeline{size: max(1, size)}
}

// newerFirst orders entries as the feed does: created_at, then id, both descending.
func newerFirst(a, b TimelineEntry) int {
	if c := cmp.Compare(b.CreatedAt, a.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

func (t *MemoryTimeline) Before(_ context.Context, beforeMillis int64, limit int) ([]TimelineEntry, TimelineAnswer, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.loaded {
		return nil, TimelineNotLoaded, nil
	}
	start, _ := slices.BinarySearchFunc(t.entries, beforeMillis, func(e TimelineEntry, before int64) int {
		if e.CreatedAt >= before {
			return -1 // e is newer: the page starts after it
		}
		return 1
	})
	end := min(len(t.entries), start+limit)
	if end-start < limit && len(t.entries) >= t.size {
		return nil, TimelinePastEnd, nil
	}
	return slices.Clone(t.entries[start:end]), TimelineHit, nil
}

func (t *MemoryTimeline) Add(_ context.Context, e TimelineEntry) error {
	t.mu.Lock()
	t.merge([]TimelineEntry{e})
	t.mu.Unlock()
	return nil
}

func (t *MemoryTimeline) Fill(_ context.Context, entries []TimelineEntry) error {
	t.mu.Lock()
	t.merge(entries)
	t.loaded = true
	t.mu.Unlock()
	return nil
}

func (t *MemoryTimeline) Size() int { return t.size }

// merge adds entries it lacks, keeping the order and the newest size.
func (t *MemoryTimeline) merge(entries []TimelineEntry) {
	for _, e := range entries {
		i, found := slices.BinarySearchFunc(t.entries, e, newerFirst)
		if !found {
			t.entries = slices.Insert(t.entries, i, e)
		}
	}
	if len(t.entries) > t.size {
		t.entries = t.entries[:t.size]
	}
}

// timelineMember is id zero-padded to a fixed width: equal scores are ordered by member, so
// this makes ties come back by id, as the feed orders them.
func timelineMember(id int64) string { return fmt.Sprintf("%019d", id) }

// RedisTimeline is the Timeline shared by the video service's replicas: a sorted set of video
// ids scored by created_at ("video:timeline", trimmed to the newest size) and a marker
// ("video:timeline:loaded", living ttl) that says a load completed. Millisecond timestamps
// are exact in the sorted set's double scores.
type RedisTimeline struct {
	r      *cache.Redis
	size   int
	ttl    time.Duration
	key    string
	marker string
}

var _ Timeline = (*RedisTimeline)(nil)

// NewRedisTimeline keeps the newest size ready videos on r; a load is trusted for ttl.
func NewRedisTimeline(r *cache.Redis, size int, ttl time.Duration) *RedisTimeline {
	return &RedisTimeline{r: r, size: max(1, size), ttl: ttl, key: r.Key("video:timeline"), marker: r.Key("video:timeline:loaded")}
}

// Before reads the marker, the page and the set's size in one round trip.
func (t *RedisTimeline) Before(ctx context.Context, beforeMillis int64, limit int) ([]TimelineEntry, TimelineAnswer, error) {
	var (
		loaded *redis.IntCmd
		page   *redis.ZSliceCmd
		card   *redis.IntCmd
	)
	_, err := t.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		loaded = p.Exists(ctx, t.marker)
		page = p.ZRevRangeByScoreWithScores(ctx, t.key, &redis.ZRangeBy{
			Max: "(" + strconv.FormatInt(beforeMillis, 10), Min: "-inf", Count: int64(limit),
		})
		card = p.ZCard(ctx, t.key)
		return nil
	})
	if err != nil {
		return nil, TimelineNotLoaded, fmt.Errorf("redis timeline: %w", err)
	}
	if loaded.Val() == 0 {
		return nil, TimelineNotLoaded, nil
	}
	zs := page.Val()
	if len(zs) < limit && card.Val() >= int64(t.size) {
		return nil, TimelinePastEnd, nil
	}
	out := make([]TimelineEntry, 0, len(zs))
	for _, z := range zs {
		id, err := strconv.ParseInt(z.Member.(string), 10, 64)
		if err != nil {
			return nil, TimelineNotLoaded, fmt.Errorf("timeline member %q is not a video id", z.Member)
		}
		out = append(out, TimelineEntry{ID: id, CreatedAt: int64(z.Score)})
	}
	return out, TimelineHit, nil
}

func (t *RedisTimeline) Add(ctx context.Context, e TimelineEntry) error {
	return t.write(ctx, []TimelineEntry{e}, false)
}

func (t *RedisTimeline) Fill(ctx context.Context, entries []TimelineEntry) error {
	return t.write(ctx, entries, true)
}

func (t *RedisTimeline) Size() int { return t.size }

// write merges entries and trims to the newest size in one transaction; a fill also sets the
// marker. The set itself lives twice the marker's lifetime so an idle deployment frees it.
func (t *RedisTimeline) write(ctx context.Context, entries []TimelineEntry, markLoaded bool) error {
	members := make([]redis.Z, len(entries))
	for i, e := range entries {
		members[i] = redis.Z{Score: float64(e.CreatedAt), Member: timelineMember(e.ID)}
	}
	_, err := t.r.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		if len(members) > 0 {
			p.ZAdd(ctx, t.key, members...)
		}
		p.ZRemRangeByRank(ctx, t.key, 0, int64(-t.size-1))
		p.Expire(ctx, t.key, 2*t.ttl)
		if markLoaded {
			p.Set(ctx, t.marker, "1", cache.TTL(t.ttl))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis timeline write: %w", err)
	}
	return nil
}
