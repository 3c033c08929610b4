package user

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

func TestProfileCacheAside(t *testing.T) {
	ctx := context.Background()
	r, rt := cachetest.New(t)
	gdb := dbtest.OpenMigrated(t, Migrate)
	store := &batchRecordingStore{Store: NewSQLStore(gdb)}
	ttl := time.Hour
	s := New(store, testConfig(), WithProfileCache(NewRedisProfileCache(r, ttl, nil)))

	a := register(t, s, "alice", "secret-pw1")
	b := register(t, s, "bob", "secret-pw1")
	want := mget(t, New(NewSQLStore(gdb), testConfig()), a, b)

	// Cold: the misses come from SQL in one query, then from the cache with no query at all.
	if got := mget(t, s, a, b, 999); !equalProfiles(got, want) {
		t.Fatalf("cold read = %v, want %v", got, want)
	}
	if batches := store.take(); len(batches) != 1 || len(batches[0]) != 3 {
		t.Fatalf("cold read ran SQL batches %v, want one with all 3 ids", batches)
	}
	before := rt.Count()
	if got := mget(t, s, a, b); !equalProfiles(got, want) {
		t.Fatalf("warm read = %v", got)
	}
	if batches := store.take(); len(batches) != 0 {
		t.Fatalf("warm read went to SQL: %v", batches)
	}
	if n := rt.Count() - before; n != 1 {
		t.Fatalf("warm read took %d Redis round trips, want 1", n)
	}

	// Only the misses go to SQL.
	c := register(t, s, "carol", "secret-pw1")
	got := mget(t, s, a, c, b)
	if batches := store.take(); len(batches) != 1 || !slices.Equal(batches[0], []int64{c}) {
		t.Fatalf("partial miss ran SQL batches %v, want [[%d]]", batches, c)
	}
	if got[c] == nil || got[c].Name != "carol" || len(got) != 3 {
		t.Fatalf("partial miss read = %v", got)
	}

	// Password hashes never reach the cache, and expiries are jittered.
	ttls := map[time.Duration]bool{}
	for _, id := range []int64{a, b, c} {
		key := r.Key(fmt.Sprintf("user:p:%d", id))
		body := r.Client().Get(ctx, key).Val()
		if strings.Contains(body, "$2") || strings.Contains(strings.ToLower(body), "password") {
			t.Fatalf("cached profile holds a password hash: %s", body)
		}
		d := r.Client().PTTL(ctx, key).Val()
		if d < ttl*9/10-time.Second || d > ttl*11/10 {
			t.Fatalf("PTTL %v outside ttl ±10%%", d)
		}
		ttls[d.Truncate(time.Millisecond)] = true
	}
	if len(ttls) < 2 {
		t.Fatalf("three profiles got the same expiry: no jitter")
	}

	// Defaults apply at read time, so a changed default shows through cached profiles.
	cfg := testConfig()
	cfg.DefaultSignature = "new default"
	s2 := New(store, cfg, WithProfileCache(NewRedisProfileCache(r, ttl, nil)))
	if got := mget(t, s2, a); got[a].Signature != "new default" {
		t.Fatalf("cached profile kept the old default: %q", got[a].Signature)
	}
	store.take()

	// Redis emptied (restart, FLUSHALL): the same answers, from SQL again.
	if err := cachetest.Flush(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := mget(t, s, a, b); !equalProfiles(got, want) {
		t.Fatalf("after flush = %v, want %v", got, want)
	}
	if batches := store.take(); len(batches) != 1 {
		t.Fatalf("after flush ran SQL batches %v, want 1", batches)
	}

	// A corrupt entry is a miss, refilled from SQL.
	r.Client().Set(ctx, r.Key(fmt.Sprintf("user:p:%d", a)), "{not json", time.Minute)
	if got := mget(t, s, a); got[a] == nil || got[a].Name != "alice" {
		t.Fatalf("corrupt entry read = %v", got)
	}
	if batches := store.take(); len(batches) != 1 || !slices.Equal(batches[0], []int64{a}) {
		t.Fatalf("corrupt entry: SQL batches %v", batches)
	}

	// Delete drops entries.
	pc := NewRedisProfileCache(r, ttl, nil)
	if err := pc.Delete(ctx, []int64{a, b}); err != nil {
		t.Fatal(err)
	}
	if _, missing, _ := pc.MGet(ctx, []int64{a, b}); len(missing) != 2 {
		t.Fatalf("deleted profiles still cached: missing=%v", missing)
	}
}
