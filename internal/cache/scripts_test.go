package cache_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
)

// RunPipelined answers every call in order in one round trip; a script Redis does not know
// (here: a body no one loaded before, as on a fresh server) costs one more round trip, once.
func TestRunPipelined(t *testing.T) {
	ctx := context.Background()
	r, trips := cachetest.New(t)
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	incr := redis.NewScript("-- " + hex.EncodeToString(nonce) + "\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
	fail := redis.NewScript("-- " + hex.EncodeToString(nonce) + "\nreturn redis.error_reply('refused')")
	calls := []cache.ScriptCall{
		{Script: incr, Keys: []string{r.Key("n")}, Args: []any{1}},
		{Script: fail},
		{Script: incr, Keys: []string{r.Key("n")}, Args: []any{10}},
	}
	check := func(round string, base int64, wantTrips int64) {
		t.Helper()
		before := trips.Count()
		cmds := cache.RunPipelined(ctx, r.Client(), calls)
		if got := trips.Count() - before; got != wantTrips {
			t.Errorf("%s: %d round trips, want %d", round, got, wantTrips)
		}
		if n, err := cmds[0].Int64(); err != nil || n != base+1 {
			t.Errorf("%s: first call = %d %v, want %d", round, n, err, base+1)
		}
		if err := cmds[1].Err(); err == nil || !strings.HasSuffix(err.Error(), "refused") {
			t.Errorf("%s: failing call = %v, want its own error", round, err)
		}
		if n, err := cmds[2].Int64(); err != nil || n != base+11 {
			t.Errorf("%s: third call = %d %v, want %d (run after the first)", round, n, err, base+11)
		}
	}
	check("scripts unknown to the server", 0, 2)
	check("scripts loaded", 11, 1)
}
