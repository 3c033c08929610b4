package video

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

func TestBatchLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := f.svc.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetVideos(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	if _, err := f.svc.MGetWorkCounts(ctx, &videoapi.MGetWorkCountsRequest{UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetWorkCounts(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	got, err := f.svc.MGetVideos(ctx, &videoapi.MGetVideosRequest{})
	if err != nil || got.Videos == nil {
		t.Fatalf("MGetVideos(no ids) = %v, %v; want a non-nil empty map", got, err)
	}
}

// readyBatchStore records the id batches MGetReady sends to SQL.
type readyBatchStore struct {
	Store
	mu      sync.Mutex
	batches [][]int64
}

func (s *readyBatchStore) MGetReady(ctx context.Context, ids []int64) ([]Video, error) {
	s.mu.Lock()
	s.batches = append(s.batches, slices.Clone(ids))
	s.mu.Unlock()
	return s.Store.MGetReady(ctx, ids)
}

func (s *readyBatchStore) take() [][]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.batches
	s.batches = nil
	return b
}

func mgetVideos(t *testing.T, s *Service, ids ...int64) map[int64]*videoapi.VideoRecord {
	t.Helper()
	resp, err := s.MGetVideos(context.Background(), &videoapi.MGetVideosRequest{VideoIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Videos
}

func TestRecordCacheDownDegradesToSQL(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	f := newFixture(t)
	f.svc.recordCache = NewRedisRecordCache(cache.NewRedis(dead, "x:"), time.Hour, nil)
	id := f.publish(t, 3, "t") // CompleteProcessing's cache delete fails and is only logged
	if got := mgetVideos(t, f.svc, id); got[id] == nil {
		t.Fatalf("read with Redis down = %v", got)
	}
}
