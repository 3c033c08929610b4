package app

import (
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/telemetry"
)

// TestSharedStateFollowsTheCacheBackend checks that every part of the shared state is built,
// and that each one changes implementation with the backend: none stays in process memory when
// Redis is configured, where replicas would then serve stale copies of their own.
func TestSharedStateFollowsTheCacheBackend(t *testing.T) {
	cfg := cache.Config{TTL: time.Minute, CounterTTL: time.Minute}
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled: building sends nothing
	t.Cleanup(func() { _ = client.Close() })
	metrics := telemetry.New()
	inMemory := reflect.ValueOf(newSharedState(cfg, nil, metrics))
	onRedis := reflect.ValueOf(newSharedState(cfg, cache.NewRedis(client, "test:"), metrics))
	for i := range inMemory.NumField() {
		name := inMemory.Type().Field(i).Name
		mem, red := inMemory.Field(i), onRedis.Field(i)
		if mem.IsNil() || red.IsNil() {
			t.Errorf("%s: not built (memory %v, redis %v)", name, !mem.IsNil(), !red.IsNil())
			continue
		}
		if mem.Elem().Type() == red.Elem().Type() {
			t.Errorf("%s is %v on both backends", name, mem.Elem().Type())
		}
	}
}
