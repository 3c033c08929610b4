package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
)

type item struct {
	ID   int64  `json:"id"`
	Name string `json:"n"`
}

type counter struct{ hits, misses int }

func (c *counter) CacheLookups(_ string, hits, misses int) { c.hits += hits; c.misses += misses }

func TestRecordsRoundTripInOneCallEachAndCountLookups(t *testing.T) {
	r, rt := cachetest.New(t)
	ctx := context.Background()
	var seen counter
	records := cache.NewRecords(r, "item", time.Hour, func(i item) int64 { return i.ID }).Observe(&seen)

	if err := records.MSet(ctx, []item{{1, "a"}, {2, "b"}}); err != nil {
		t.Fatal(err)
	}
	// A value stored under the wrong id (a foreign or corrupt entry) is a miss, not a record.
	if err := r.Client().Set(ctx, r.Key("item:3"), `{"id":4,"n":"x"}`, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	before := rt.Count()
	found, missing, err := records.MGet(ctx, []int64{1, 2, 3, 5})
	if err != nil {
		t.Fatal(err)
	}
	if n := rt.Count() - before; n != 1 {
		t.Errorf("MGet of 4 ids took %d round trips, want 1", n)
	}
	if len(found) != 2 || found[1].Name != "a" || found[2].Name != "b" || len(missing) != 2 || missing[0] != 3 || missing[1] != 5 {
		t.Fatalf("MGet = %v missing %v", found, missing)
	}
	if seen.hits != 2 || seen.misses != 2 {
		t.Fatalf("observed %d hits %d misses, want 2 and 2", seen.hits, seen.misses)
	}
	if err := records.Delete(ctx, []int64{1}); err != nil {
		t.Fatal(err)
	}
	if _, missing, _ := records.MGet(ctx, []int64{1}); len(missing) != 1 {
		t.Fatal("deleted record still cached")
	}
	if ttl := r.Client().TTL(ctx, r.Key("item:2")).Val(); ttl < 50*time.Minute || ttl > 70*time.Minute {
		t.Fatalf("TTL %v, want about an hour with jitter", ttl)
	}
}
