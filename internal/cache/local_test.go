package cache_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
)

func TestLocalRecordsBoundedAndCounted(t *testing.T) {
	ctx := context.Background()
	var seen counter
	records := cache.NewLocalRecords("item", time.Hour, 100, func(i item) int64 { return i.ID }).Observe(&seen)
	if err := records.MSet(ctx, []item{{1, "a"}, {2, "b"}}); err != nil {
		t.Fatal(err)
	}
	found, missing, _ := records.MGet(ctx, []int64{1, 2, 3, 5})
	if len(found) != 2 || found[1].Name != "a" || found[2].Name != "b" || len(missing) != 2 || missing[0] != 3 || missing[1] != 5 {
		t.Fatalf("MGet = %v missing %v", found, missing)
	}
	if seen.hits != 2 || seen.misses != 2 {
		t.Fatalf("observed %d hits %d misses, want 2 and 2", seen.hits, seen.misses)
	}
	_ = records.Delete(ctx, []int64{1})
	if _, missing, _ := records.MGet(ctx, []int64{1}); len(missing) != 1 {
		t.Fatal("deleted record still cached")
	}
	for i := range int64(1000) {
		_ = records.MSet(ctx, []item{{i + 10, "x"}})
	}
	if n := records.Len(); n > 100 {
		t.Fatalf("%d records held, bound is 100", n)
	}
}

// Both counter caches keep zero counts (a user with no videos is a hit, not a miss forever).
func TestCountCaches(t *testing.T) {
	r, _ := cachetest.New(t)
	for name, c := range map[string]cache.CountCache{
		"redis": cache.NewRedisCounts(r, "n", time.Minute, nil),
		"local": cache.NewLocalCounts("n", time.Minute, 100, nil),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if err := c.MSet(ctx, map[int64]int64{1: 0, 2: 7}); err != nil {
				t.Fatal(err)
			}
			found, missing, err := c.MGet(ctx, []int64{1, 2, 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != 2 || found[1] != 0 || found[2] != 7 || len(missing) != 1 || missing[0] != 3 {
				t.Fatalf("MGet = %v missing %v", found, missing)
			}
			if err := c.Delete(ctx, []int64{2}); err != nil {
				t.Fatal(err)
			}
			if found, _, _ := c.MGet(ctx, []int64{2}); len(found) != 0 {
				t.Fatal("deleted counter still cached")
			}
		})
	}
}

// The local tier answers what it holds; the misses come from the shared tier in one call and
// are kept locally; what neither holds is missing.
func TestTieredRecords(t *testing.T) {
	r, rt := cachetest.New(t)
	ctx := context.Background()
	idOf := func(i item) int64 { return i.ID }
	shared := cache.NewRecords(r, "item", time.Hour, idOf)
	local := cache.NewLocalRecords("item", time.Hour, 100, idOf)
	tiered := cache.NewTiered[item](local, shared)
	if err := shared.MSet(ctx, []item{{1, "a"}, {2, "b"}}); err != nil {
		t.Fatal(err)
	}
	before := rt.Count()
	found, missing, err := tiered.MGet(ctx, []int64{1, 2, 3})
	if err != nil || len(found) != 2 || found[2].Name != "b" || len(missing) != 1 || missing[0] != 3 {
		t.Fatalf("cold MGet = %v %v %v", found, missing, err)
	}
	if n := rt.Count() - before; n != 1 {
		t.Fatalf("cold MGet took %d Redis round trips, want 1", n)
	}
	before = rt.Count()
	if found, _, _ := tiered.MGet(ctx, []int64{1, 2}); len(found) != 2 || found[1].Name != "a" {
		t.Fatalf("warm MGet = %v", found)
	}
	if n := rt.Count() - before; n != 0 {
		t.Fatalf("warm MGet took %d Redis round trips, want 0 (local tier)", n)
	}
	if err := tiered.MSet(ctx, []item{{3, "c"}}); err != nil {
		t.Fatal(err)
	}
	if _, missing, _ := shared.MGet(ctx, []int64{3}); len(missing) != 0 {
		t.Fatal("MSet did not reach the shared tier")
	}
	if err := tiered.Delete(ctx, []int64{1}); err != nil {
		t.Fatal(err)
	}
	if _, missing, _ := tiered.MGet(ctx, []int64{1}); len(missing) != 1 {
		t.Fatal("deleted record still served")
	}
}

func TestLocalRecordsLookupInOrder(t *testing.T) {
	var seen counter
	records := cache.NewLocalRecords("item", time.Hour, 100, func(i item) int64 { return i.ID }).Observe(&seen)
	if err := records.MSet(context.Background(), []item{{1, "a"}, {2, "b"}, {7, "c"}}); err != nil {
		t.Fatal(err)
	}
	got, missing := records.LookupInOrder([]int64{7, 3, 1, 9, 2}, make([]item, 0, 5))
	if len(got) != 3 || got[0].ID != 7 || got[1].ID != 1 || got[2].ID != 2 || len(missing) != 2 || missing[0] != 3 || missing[1] != 9 {
		t.Fatalf("LookupInOrder = %v missing %v, want [7 1 2] missing [3 9]", got, missing)
	}
	if seen.hits != 3 || seen.misses != 2 {
		t.Fatalf("observed %d hits %d misses, want 3 and 2", seen.hits, seen.misses)
	}
}

func TestWithZeros(t *testing.T) {
	complete := map[int64]int64{1: 4, 2: 0}
	if got := cache.WithZeros([]int64{1, 2}, complete); reflect.ValueOf(got).UnsafePointer() != reflect.ValueOf(complete).UnsafePointer() {
		t.Fatal("a map holding every id was copied")
	}
	got := cache.WithZeros([]int64{1, 2, 3}, map[int64]int64{2: 5})
	if n, ok := got[1]; len(got) != 3 || !ok || n != 0 || got[2] != 5 || got[3] != 0 {
		t.Fatalf("WithZeros = %v, want 1:0 2:5 3:0", got)
	}
}
