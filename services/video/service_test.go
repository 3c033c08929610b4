package video

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// recordingQueue records what is published, or fails every publish when err is set.
type recordingQueue struct {
	mu   sync.Mutex
	err  error
	sent []sentMessage
}

type sentMessage struct {
	topic, key string
	body       []byte
}

func (q *recordingQueue) Publish(_ context.Context, topic, key string, body []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, sentMessage{topic, key, body})
	return nil
}

type prefixURLs string

func (p prefixURLs) URL(key string) string { return string(p) + key }

type fixture struct {
	svc   *Service
	gdb   *gorm.DB
	queue *recordingQueue
	clock int64
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{gdb: dbtest.OpenMigrated(t, Migrate), queue: &recordingQueue{}, clock: 1_000_000}
	f.svc = New(NewSQLStore(f.gdb), f.queue, prefixURLs("http://cdn/"), opts...)
	// Each call advances the clock by one millisecond: publish order is creation order.
	f.svc.now = func() int64 { f.clock++; return f.clock }
	return f
}

// publish creates a video and completes it as ready.
func (f *fixture) publish(t *testing.T, author int64, title string) int64 {
	t.Helper()
	ctx := context.Background()
	resp, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: author, Title: title, SourceKey: "uploads/a.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.VideoId
	if _, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{
		VideoId: id, Status: videoapi.VideoStatus_Ready, PlayKey: "uploads/a.mp4", CoverKey: "videos/" + strconv.FormatInt(id, 10) + "/cover.jpg",
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// cacheVariants are the ways the service is deployed: SQL only, the embedded mode's in-process
// caches and Redis, with a timeline that holds every video of a test or only some of them.
var cacheVariants = map[string]func(t *testing.T) []Option{
	"sql":                   func(*testing.T) []Option { return nil },
	"memory":                func(*testing.T) []Option { return memoryCaches(40) },
	"memory-short-timeline": func(*testing.T) []Option { return memoryCaches(20) },
	"redis":                 func(t *testing.T) []Option { return redisCaches(t, 40) },
	"redis-short-timeline":  func(t *testing.T) []Option { return redisCaches(t, 20) },
}

func memoryCaches(timelineSize int) []Option {
	return []Option{
		WithRecordCache(NewMemoryRecordCache(time.Hour, 1000, nil)),
		WithWorkCountCache(cache.NewLocalCounts("video:works", time.Hour, 1000, nil)),
		WithOwnCounts(NewOwnCounts(time.Hour, 1000)),
		WithTimeline(NewMemoryTimeline(timelineSize)),
	}
}

func redisCaches(t *testing.T, timelineSize int) []Option {
	r, _ := cachetest.New(t)
	return []Option{
		WithRecordCache(NewRedisRecordCache(r, time.Hour, nil)),
		WithWorkCountCache(cache.NewRedisCounts(r, "video:works", time.Hour, nil)),
		WithTimeline(NewRedisTimeline(r, timelineSize, time.Hour)),
	}
}

// runVariants runs test once per deployment, each on a fresh database and key space.
func runVariants(t *testing.T, test func(t *testing.T, opts []Option)) {
	for name, opts := range cacheVariants {
		t.Run(name, func(t *testing.T) { test(t, opts(t)) })
	}
}
