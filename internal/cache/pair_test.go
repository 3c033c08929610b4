package cache_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
)

func TestPairRoundTrips(t *testing.T) {
	for _, p := range [][2]int64{{0, 0}, {3, 17}, {-1, 5}, {math.MaxInt64, math.MinInt64}} {
		a, b, ok := cache.ParsePair(cache.FormatPair(p[0], p[1]))
		if !ok || a != p[0] || b != p[1] {
			t.Errorf("ParsePair(FormatPair(%d, %d)) = %d, %d, %v", p[0], p[1], a, b, ok)
		}
	}
	for _, bad := range []any{nil, "", "5", "5:", ":5", "a:1", "1:2:3", int64(5)} {
		if _, _, ok := cache.ParsePair(bad); ok {
			t.Errorf("ParsePair(%#v) accepted a malformed pair", bad)
		}
	}
}

// The scripts write and read FormatPair's format; movePair moves one side of a cached pair
// in place, keeping its expiry, leaves a missing pair missing, and fails the script on a
// malformed one.
func TestPairLua(t *testing.T) {
	r, _ := cachetest.New(t)
	ctx := context.Background()
	roundTrip := redis.NewScript(cache.PairLua + `
local a, b = parsePair(ARGV[3])
return {formatPair(tonumber(ARGV[1]), tonumber(ARGV[2])), a, b}`)
	for _, p := range [][2]int64{{0, 0}, {12, 3456}, {-1, 7}} {
		got, err := roundTrip.Run(ctx, r.Client(), nil, p[0], p[1], cache.FormatPair(p[0], p[1])).Slice()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0] != cache.FormatPair(p[0], p[1]) || got[1] != p[0] || got[2] != p[1] {
			t.Errorf("formatPair and parsePair of %v = %v, want %q, %d, %d", p, got, cache.FormatPair(p[0], p[1]), p[0], p[1])
		}
	}
	move := redis.NewScript(cache.PairLua + `movePair(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])) return 1`)
	c := r.Client()
	pair, missing, bad := r.Key("pair"), r.Key("missing"), r.Key("bad")
	c.Set(ctx, pair, cache.FormatPair(4, 9), time.Minute)
	c.Set(ctx, bad, "not a pair", 0)
	for _, step := range []struct{ i, d int }{{1, 1}, {2, -1}, {2, -1}, {1, 1}} {
		if err := move.Run(ctx, c, []string{pair}, step.i, step.d).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Get(ctx, pair).Val(); got != "6:7" {
		t.Errorf("pair after the moves = %q, want 6:7", got)
	}
	if ttl := c.PTTL(ctx, pair).Val(); ttl <= 0 {
		t.Errorf("pair TTL after the moves = %v, want its own", ttl)
	}
	if err := move.Run(ctx, c, []string{missing}, 1, 1).Err(); err != nil || c.Exists(ctx, missing).Val() != 0 {
		t.Errorf("moving a missing pair: %v, exists %d; want nothing created", err, c.Exists(ctx, missing).Val())
	}
	if err := move.Run(ctx, c, []string{bad}, 1, 1).Err(); err == nil {
		t.Error("moving a malformed pair succeeded, want the script to fail")
	}
}
