package user

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// batchRecordingStore records the id batches that reach SQL.
type batchRecordingStore struct {
	Store
	mu      sync.Mutex
	batches [][]int64
}

func (c *batchRecordingStore) AccountsByIDs(ctx context.Context, ids []int64) ([]Account, error) {
	c.mu.Lock()
	c.batches = append(c.batches, slices.Clone(ids))
	c.mu.Unlock()
	return c.Store.AccountsByIDs(ctx, ids)
}

func (c *batchRecordingStore) take() [][]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.batches
	c.batches = nil
	return b
}

func mget(t *testing.T, s *Service, ids ...int64) map[int64]*userapi.UserProfile {
	t.Helper()
	resp, err := s.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Users
}

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

func TestProfileCacheDownDegradesToSQL(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	// A real client to a port nothing listens on: every cache call fails fast.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	var logs strings.Builder
	s := New(NewSQLStore(gdb), testConfig(), WithProfileCache(NewRedisProfileCache(cache.NewRedis(dead, "x:"), time.Hour, nil)),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	a := register(t, s, "alice", "secret-pw1")
	got := mget(t, s, a)
	if got[a] == nil || got[a].Name != "alice" {
		t.Fatalf("read with Redis down = %v", got)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("the degraded read was not reported at warn: %q", logs.String())
	}
}

func equalProfiles(a, b map[int64]*userapi.UserProfile) bool {
	if len(a) != len(b) {
		return false
	}
	for id, p := range a {
		q := b[id]
		if q == nil || p.Id != q.Id || p.Name != q.Name || p.Avatar != q.Avatar || p.BackgroundImage != q.BackgroundImage || p.Signature != q.Signature {
			return false
		}
	}
	return true
}

// The embedded mode's profile cache: the same cache-aside reads, in process.
func TestMemoryProfileCacheAside(t *testing.T) {
	ctx := context.Background()
	gdb := dbtest.OpenMigrated(t, Migrate)
	store := &batchRecordingStore{Store: NewSQLStore(gdb)}
	pc := NewMemoryProfileCache(time.Hour, 100, nil)
	s := New(store, testConfig(), WithProfileCache(pc))

	a := register(t, s, "alice", "secret-pw1")
	b := register(t, s, "bob", "secret-pw1")
	want := mget(t, New(NewSQLStore(gdb), testConfig()), a, b)
	if got := mget(t, s, a, b, 999); !equalProfiles(got, want) {
		t.Fatalf("cold read = %v, want %v", got, want)
	}
	if batches := store.take(); len(batches) != 1 || len(batches[0]) != 3 {
		t.Fatalf("cold read ran SQL batches %v, want one with all 3 ids", batches)
	}
	if got := mget(t, s, a, b); !equalProfiles(got, want) {
		t.Fatalf("warm read = %v", got)
	}
	if batches := store.take(); len(batches) != 0 {
		t.Fatalf("warm read went to SQL: %v", batches)
	}
	c := register(t, s, "carol", "secret-pw1")
	if got := mget(t, s, a, c, b); got[c] == nil || got[c].Name != "carol" || len(got) != 3 {
		t.Fatalf("partial miss read = %v", got)
	}
	if batches := store.take(); len(batches) != 1 || !slices.Equal(batches[0], []int64{c}) {
		t.Fatalf("partial miss ran SQL batches %v, want [[%d]]", batches, c)
	}
	cached, _, _ := pc.MGet(ctx, []int64{a, b, c})
	for id, acc := range cached {
		if acc.PasswordHash != "" {
			t.Fatalf("cached profile %d holds a password hash", id)
		}
	}
	// Login reads the account itself, never the cache.
	if _, err := s.Login(ctx, &userapi.LoginRequest{Username: "alice", Password: "secret-pw1"}); err != nil {
		t.Fatalf("login with a cached profile: %v", err)
	}
}
