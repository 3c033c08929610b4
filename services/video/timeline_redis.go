package video

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
)

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
