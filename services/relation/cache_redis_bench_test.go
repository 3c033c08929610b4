package relation

import (
	"context"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/benchtest"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
)

// BenchmarkRedisCacheRelations is the relation cache's part of a logged-in feed page on a
// real Redis, warm: 20 authors' counters and the viewer's follows. cpu-ns/op is this
// process's CPU (Redis's is not counted).
//
//	go test ./services/relation/ -run '^$' -bench RedisCacheRelations
func BenchmarkRedisCacheRelations(b *testing.B) {
	r, rt := cachetest.New(b)
	c := NewRedisCache(r, time.Hour, time.Hour)
	ctx := context.Background()
	users := make([]int64, 20)
	fill := map[int64]Counts{}
	for i := range users {
		users[i] = int64(i*7 + 1)
		fill[users[i]] = Counts{UserID: users[i], FollowCount: int64(i), FollowerCount: int64(1000 + i)}
	}
	if err := c.FillCounts(ctx, fill); err != nil {
		b.Fatal(err)
	}
	if err := c.FillFollowing(ctx, 1, users[:5]); err != nil {
		b.Fatal(err)
	}
	before, cpu := rt.Count(), benchtest.ProcessCPU(b)
	b.ReportAllocs()
	for b.Loop() {
		view, err := c.Relations(ctx, 1, users)
		if err != nil || len(view.Counts) != len(users) || !view.FollowingLoaded {
			b.Fatalf("Relations = %+v, %v; want every counter and the viewer's follows", view, err)
		}
	}
	benchtest.ReportCPU(b, cpu)
	b.ReportMetric(float64(rt.Count()-before)/float64(b.N), "roundtrips/op")
}
