package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/auth"
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
