package app

import (
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/telemetry"
	"github.com/douyin-backend/douyin/services/recommend"
)

// TestSharedStateFollowsTheCacheBackend checks that every part of the shared state is built,
// and that each one changes implementation with the backend: none stays in process memory when
// Redis is configured, where replicas would then serve stale copies of their own (the
// memory-only parts are not built at all then).
func TestSharedStateFollowsTheCacheBackend(t *testing.T) {
	cfg := cache.Config{TTL: time.Minute, CounterTTL: time.Minute}
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled: building sends nothing
	t.Cleanup(func() { _ = client.Close() })
	metrics := telemetry.New()
	rec := recommend.DefaultConfig()
	inMemory := reflect.ValueOf(newSharedState(cfg, rec, nil, metrics, slog.Default()))
	onRedis := reflect.ValueOf(newSharedState(cfg, rec, cache.NewRedis(client, "test:"), metrics, slog.Default()))
	// Caches only right where this process makes every write they depend on: none on Redis.
	memoryOnly := map[string]bool{"commentLists": true}
	for i := range inMemory.NumField() {
		name := inMemory.Type().Field(i).Name
		mem, red := inMemory.Field(i), onRedis.Field(i)
		if memoryOnly[name] {
			if mem.IsNil() || !red.IsNil() {
				t.Errorf("%s: built in memory %v, on Redis %v; want only in memory", name, !mem.IsNil(), !red.IsNil())
			}
			continue
		}
		if mem.IsNil() || red.IsNil() {
			t.Errorf("%s: not built (memory %v, redis %v)", name, !mem.IsNil(), !red.IsNil())
			continue
		}
		if mem.Elem().Type() == red.Elem().Type() {
			t.Errorf("%s is %v on both backends", name, mem.Elem().Type())
		}
	}
}
