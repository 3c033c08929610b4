package user

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// countingStore counts AccountsByIDs calls so batch reads can be shown to be one query.
type countingStore struct {
	Store
	mu    sync.Mutex
	calls int
}

func (c *countingStore) AccountsByIDs(ctx context.Context, ids []int64) ([]Account, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Store.AccountsByIDs(ctx, ids)
}

func TestMGetUsers(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	store := &countingStore{Store: NewSQLStore(gdb)}
	s := New(store, testConfig())
	a := register(t, s, "Erin", "secret-pw1")
	b := register(t, s, "frank", "secret-pw1")
	// A user who has set a custom avatar keeps it; unset fields get the defaults at read time.
	gdb.Model(&Account{}).Where("id = ?", b).Updates(map[string]any{"avatar": "https://cdn/f.png", "signature": "hi"})

	resp, err := s.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: []int64{a, b, a, 0, -1, 999}})
	if err != nil {
		t.Fatal(err)
	}
	if store.calls != 1 {
		t.Fatalf("%d store reads, want 1", store.calls)
	}
	if len(resp.Users) != 2 || resp.Users[999] != nil {
		t.Fatalf("users = %v, want exactly %d and %d", resp.Users, a, b)
	}
	def := DefaultConfig()
	want := map[int64]userapi.UserProfile{
		a: {Id: a, Name: "Erin", Avatar: def.DefaultAvatar, BackgroundImage: def.DefaultBackgroundImage, Signature: def.DefaultSignature},
		b: {Id: b, Name: "frank", Avatar: "https://cdn/f.png", BackgroundImage: def.DefaultBackgroundImage, Signature: "hi"},
	}
	for id, w := range want {
		if got := resp.Users[id]; got == nil || *got != w {
			t.Errorf("user %d = %+v, want %+v", id, got, w)
		}
	}

	// A changed default applies to every profile that has not set its own.
	s2 := New(NewSQLStore(gdb), Config{DefaultAvatar: "/new.png", DefaultBackgroundImage: "/bg2.png", DefaultSignature: "new"})
	resp2, err := s2.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: []int64{a}})
	if err != nil || resp2.Users[a].Avatar != "/new.png" || resp2.Users[a].Signature != "new" {
		t.Fatalf("changed default not applied: %+v %v", resp2.Users[a], err)
	}
}

func TestMGetUsersEmptyAndLimits(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	store := &countingStore{Store: NewSQLStore(gdb)}
	s := New(store, testConfig())
	resp, err := s.MGetUsers(context.Background(), &userapi.MGetUsersRequest{})
	if err != nil || resp.Users == nil || len(resp.Users) != 0 || store.calls != 0 {
		t.Fatalf("empty request: %v %v, %d reads; want empty non-nil map and no read", resp, err, store.calls)
	}
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := s.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("over-limit batch: %v, want InvalidParam", err)
	}
	if _, err := s.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: tooMany[:ids.MaxBatch]}); err != nil {
		t.Fatalf("batch at the limit: %v", err)
	}
}

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
