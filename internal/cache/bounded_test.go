package cache_test

import (
	"slices"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
)

// Lookup reports the live entries and, in request order, the absent and expired keys;
// PutAbsent fills only keys without a live value.
func TestBoundedLookupAndPutAbsent(t *testing.T) {
	now := time.Unix(1000, 0)
	b := cache.NewBounded[int64, string](10)
	b.SetClock(func() time.Time { return now })
	b.Put(1, "one", time.Minute)
	b.Put(2, "two", time.Second)
	b.Put(3, "three", 0)
	now = now.Add(2 * time.Second) // 2 has expired

	if b.PutAbsent(1, "stale", time.Minute) {
		t.Fatal("PutAbsent overwrote a live entry")
	}
	if !b.PutAbsent(2, "two again", time.Minute) || !b.PutAbsent(4, "four", time.Minute) {
		t.Fatal("PutAbsent refused an expired or absent key")
	}
	b.Delete(3)
	found := map[int64]string{}
	missing := b.Lookup([]int64{5, 1, 3, 2, 4, 6}, func(k int64, v string) { found[k] = v })
	if want := []int64{5, 3, 6}; !slices.Equal(missing, want) {
		t.Fatalf("missing %v, want %v", missing, want)
	}
	if len(found) != 3 || found[1] != "one" || found[2] != "two again" || found[4] != "four" {
		t.Fatalf("found %v", found)
	}
	now = now.Add(time.Hour)
	if missing := b.Lookup([]int64{1, 2, 4}, func(int64, string) { t.Fatal("an expired entry was a hit") }); len(missing) != 3 {
		t.Fatalf("missing %v after every entry expired", missing)
	}
}
