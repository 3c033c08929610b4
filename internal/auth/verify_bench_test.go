package auth_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/benchtest"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

// BenchmarkVerify checks a remembered token against the embedded mode's revocations (SQLite,
// reads remembered for a second) from every core at once: the check of every signed-in request.
func BenchmarkVerify(b *testing.B) {
	gdb := dbtest.OpenSQLite(b)
	if err := auth.Migrate(gdb); err != nil {
		b.Fatal(err)
	}
	tokens := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, auth.WithRevocations(auth.NewSQLRevocations(gdb, time.Second)))
	token, err := tokens.Issue(7)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := tokens.Verify(ctx, token); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tokens.Verify(ctx, token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyOnRedis checks tokens of 64 users against the multi-process mode's
// revocations (Redis) from 64 goroutines at once, as a loaded gateway does. cpu-ns/op is this
// process's CPU (Redis's is not counted).
//
//	go test ./internal/auth/ -run '^$' -bench VerifyOnRedis
func BenchmarkVerifyOnRedis(b *testing.B) {
	r, rt := cachetest.New(b)
	tokens, issued := redisTokens(b, r, 64)
	ctx := context.Background()
	var next atomic.Int64
	before, cpu := rt.Count(), benchtest.ProcessCPU(b)
	b.ReportAllocs()
	b.SetParallelism(32) // 64 goroutines on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		token := issued[next.Add(1)%int64(len(issued))]
		for pb.Next() {
			if _, err := tokens.Verify(ctx, token); err != nil {
				b.Error(err)
				return
			}
		}
	})
	benchtest.ReportCPU(b, cpu)
	b.ReportMetric(float64(rt.Count()-before)/float64(b.N), "roundtrips/op")
}
