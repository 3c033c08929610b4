package favorite

import (
	"context"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/benchtest"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/mq"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

// BenchmarkFeedPageFavorites is the favorite service's part of a logged-in feed page on the
// Redis read model, warm: 30 videos' counts and the viewer's flags, 20 authors' counters.
// cpu-ns/op is this process's CPU (Redis's is not counted).
//
//	go test ./services/favorite/ -run '^$' -bench FeedPageFavorites
func BenchmarkFeedPageFavorites(b *testing.B) {
	r, rt := cachetest.New(b)
	s := New(NewSQLStore(dbtest.OpenMigrated(b, Migrate)), testVideos, mq.NewMemory(),
		WithReadModel(NewRedisReadModel(r, time.Hour, 10*time.Minute)))
	req := &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: make([]int64, 30), UserIds: make([]int64, 20)}
	for i := range req.VideoIds {
		req.VideoIds[i] = int64(100 + i)
	}
	for i := range req.UserIds {
		req.UserIds[i] = int64(200 + i)
	}
	ctx := context.Background()
	if _, err := s.MGetVideoFavorites(ctx, req); err != nil { // fills the read model
		b.Fatal(err)
	}
	before, cpu := rt.Count(), benchtest.ProcessCPU(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.MGetVideoFavorites(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	benchtest.ReportCPU(b, cpu)
	b.ReportMetric(float64(rt.Count()-before)/float64(b.N), "roundtrips/op")
}
