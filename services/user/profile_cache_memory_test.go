package user

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

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
