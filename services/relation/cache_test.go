package relation

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
)

// readCounter counts the store reads behind MGetRelations.
type readCounter struct {
	Store
	reads atomic.Int64
}

func (c *readCounter) Counts(ctx context.Context, ids []int64) (map[int64]Counts, error) {
	c.reads.Add(1)
	return c.Store.Counts(ctx, ids)
}

func (c *readCounter) FollowedAmong(ctx context.Context, viewer int64, ids []int64) (map[int64]bool, error) {
	c.reads.Add(1)
	return c.Store.FollowedAmong(ctx, viewer, ids)
}

func (c *readCounter) FolloweeSet(ctx context.Context, viewer int64) ([]int64, error) {
	c.reads.Add(1)
	return c.Store.FolloweeSet(ctx, viewer)
}

type relFixture struct {
	svc   *Service
	gdb   *gorm.DB
	store *readCounter
	users int64
	c     Cache
	// flush empties the cache, the stand-in for a restart of Redis or of the process.
	flush func(t *testing.T)
	// Redis only (nil on the other backends): the server, its round trips, the cache on it.
	r  *cache.Redis
	rt *cachetest.RoundTrips
	rc *RedisCache
}

// relCaches are the Cache implementations the service-level tests run against.
var relCaches = []struct {
	name string
	open func(t *testing.T, f *relFixture)
}{
	{"redis", func(t *testing.T, f *relFixture) {
		f.r, f.rt = cachetest.New(t)
		f.rc = NewRedisCache(f.r, time.Hour, 10*time.Minute)
		f.c = f.rc
		f.flush = func(t *testing.T) {
			t.Helper()
			if err := cachetest.Flush(context.Background(), f.r); err != nil {
				t.Fatal(err)
			}
		}
	}},
	{"memory", func(t *testing.T, f *relFixture) {
		f.c = NewMemoryCache(time.Hour, 10*time.Minute, 10_000)
		f.flush = func(t *testing.T) {
			t.Helper()
			// Forget(u, u) drops u's set and counters: every key of every user.
			for u := int64(1); u <= f.users; u++ {
				if err := f.c.Forget(context.Background(), u, u); err != nil {
					t.Fatal(err)
				}
			}
		}
	}},
}

// newRelFixture returns the service on a fresh database and the named cache (see relCaches),
// knowing the users 1..users.
func newRelFixture(t *testing.T, backend string, users int64) *relFixture {
	t.Helper()
	f := &relFixture{gdb: dbtest.OpenMigrated(t, Migrate), users: users}
	for _, b := range relCaches {
		if b.name == backend {
			b.open(t, f)
		}
	}
	if f.c == nil {
		t.Fatalf("no relation cache named %q", backend)
	}
	f.store = &readCounter{Store: NewSQLStore(f.gdb)}
	f.svc = New(f.store, fakeUsers{n: users}, WithCache(f.c))
	return f
}

// forEachRelCache runs test as one subtest per Cache implementation.
func forEachRelCache(t *testing.T, test func(t *testing.T, backend string)) {
	for _, b := range relCaches {
		t.Run(b.name, func(t *testing.T) { test(t, b.name) })
	}
}

func (f *relFixture) act(from, to int64, follow bool) error {
	a := relationapi.RelationActionType_Unfollow
	if follow {
		a = relationapi.RelationActionType_Follow
	}
	_, err := f.svc.RelationAction(context.Background(), &relationapi.RelationActionRequest{UserId: from, ToUserId: to, ActionType: a})
	return err
}

func (f *relFixture) mustAct(t *testing.T, from, to int64, follow bool) {
	t.Helper()
	if err := f.act(from, to, follow); err != nil {
		t.Fatal(err)
	}
}

// assertMatchesRows checks MGetRelations for every viewer against counts derived from the
// follows rows.
func (f *relFixture) assertMatchesRows(t *testing.T, viewers, users []int64) {
	t.Helper()
	var rows []Follow
	if err := f.gdb.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	follows, followers := map[int64]int64{}, map[int64]int64{}
	edge := map[[2]int64]bool{}
	for _, r := range rows {
		follows[r.FollowerID]++
		followers[r.FolloweeID]++
		edge[[2]int64{r.FollowerID, r.FolloweeID}] = true
	}
	for _, viewer := range viewers {
		resp, err := f.svc.MGetRelations(context.Background(), &relationapi.MGetRelationsRequest{ViewerId: viewer, UserIds: users})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			got := resp.Users[u]
			want := relationapi.UserRelationInfo{FollowCount: follows[u], FollowerCount: followers[u], IsFollow: edge[[2]int64{viewer, u}]}
			if *got != want {
				t.Errorf("viewer %d, user %d: %+v, rows say %+v", viewer, u, *got, want)
			}
		}
	}
}

func (f *relFixture) rawCounts(t *testing.T, u int64) string {
	t.Helper()
	return f.r.Client().Get(context.Background(), f.rc.countsKey(u)).Val()
}

// assertCacheHoldsRows checks that the cache itself (not a reload behind it) holds every
// user's counters and every viewer's following set, equal to the follows rows.
func (f *relFixture) assertCacheHoldsRows(t *testing.T, viewers, users []int64) {
	t.Helper()
	stored, err := NewSQLStore(f.gdb).Counts(context.Background(), users)
	if err != nil {
		t.Fatal(err)
	}
	for _, viewer := range viewers {
		view, err := f.c.Relations(context.Background(), viewer, users)
		if err != nil {
			t.Fatal(err)
		}
		if len(view.MissingCounts) > 0 || !view.FollowingLoaded {
			t.Fatalf("viewer %d: cache lost counters %v or the set (loaded: %v)", viewer, view.MissingCounts, view.FollowingLoaded)
		}
		edges, err := NewSQLStore(f.gdb).FollowedAmong(context.Background(), viewer, users)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			want := Counts{UserID: u, FollowCount: stored[u].FollowCount, FollowerCount: stored[u].FollowerCount}
			if got := view.Counts[u]; got != want {
				t.Errorf("cached counters of user %d = %+v, SQL says %+v", u, got, want)
			}
			if view.Following[u] != edges[u] {
				t.Errorf("cached set of %d says follows %d = %v, SQL says %v", viewer, u, view.Following[u], edges[u])
			}
		}
	}
}

func TestRelationCacheFollowFlow(t *testing.T) {
	forEachRelCache(t, testRelationCacheFollowFlow)
}

func testRelationCacheFollowFlow(t *testing.T, backend string) {
	ctx := context.Background()
	f := newRelFixture(t, backend, 10)
	users := []int64{1, 2, 3, 4, 5}
	f.assertMatchesRows(t, []int64{1, 2}, users) // cold: loads counters and both viewers' sets

	steps := []struct {
		from, to int64
		follow   bool
	}{{1, 2, true}, {1, 2, true}, {1, 3, true}, {2, 1, true}, {3, 2, true}, {1, 2, false}, {1, 2, false}, {4, 5, false}, {1, 4, true}}
	for i, s := range steps {
		f.mustAct(t, s.from, s.to, s.follow)
		f.assertMatchesRows(t, []int64{1, 2, 3}, users)
		if i == 4 {
			f.flush(t)
			f.assertMatchesRows(t, []int64{1, 2, 3}, users)
		}
	}
	// Counters and sets stay cached and are moved in place, not reloaded.
	f.assertCacheHoldsRows(t, []int64{1, 2, 3}, users)
	if f.r != nil {
		if got := f.rawCounts(t, 1); got != "2:1" {
			t.Fatalf("cached counters of user 1 = %s", got)
		}
		// Moved in place, they keep the expiry of their fill.
		if ttl := f.r.Client().PTTL(context.Background(), f.rc.countsKey(1)).Val(); ttl <= 0 {
			t.Fatalf("cached counters of user 1 have TTL %v after the steps, want their fill's", ttl)
		}
	}

	// Warm batch read: no SQL (and on Redis one round trip).
	f.store.reads.Store(0)
	var before int64
	if f.rt != nil {
		before = f.rt.Count()
	}
	if _, err := f.svc.MGetRelations(ctx, &relationapi.MGetRelationsRequest{ViewerId: 1, UserIds: users}); err != nil {
		t.Fatal(err)
	}
	if f.rt != nil {
		if n := f.rt.Count() - before; n != 1 {
			t.Fatalf("warm MGetRelations took %d Redis round trips, want 1", n)
		}
	}
	if n := f.store.reads.Load(); n != 0 {
		t.Fatalf("warm MGetRelations made %d SQL reads", n)
	}

	// Cold batch read: one SQL read for the counters, one for the viewer's set.
	f.flush(t)
	if _, err := f.svc.MGetRelations(ctx, &relationapi.MGetRelationsRequest{ViewerId: 1, UserIds: users}); err != nil {
		t.Fatal(err)
	}
	if n := f.store.reads.Load(); n != 2 {
		t.Fatalf("cold MGetRelations made %d SQL reads, want 2", n)
	}
	// ...which it cached: the next read makes none.
	if _, err := f.svc.MGetRelations(ctx, &relationapi.MGetRelationsRequest{ViewerId: 1, UserIds: users}); err != nil {
		t.Fatal(err)
	}
	if n := f.store.reads.Load(); n != 2 {
		t.Fatalf("MGetRelations after the reload made %d more SQL reads, want 0", n-2)
	}
}

// When the post-commit step fails, the keys are dropped and the next read reloads from SQL.
// Redis only: the in-process cache has no failing step.
func TestRelationCacheFailureDropsKeys(t *testing.T) {
	ctx := context.Background()
	f := newRelFixture(t, "redis", 10)
	f.assertMatchesRows(t, []int64{1}, []int64{1, 2})
	// A corrupt counter makes the script fail on the real server.
	f.r.Client().Set(ctx, f.rc.countsKey(2), "not a number", 0)
	f.mustAct(t, 1, 2, true)
	for _, k := range []string{f.rc.followingKey(1), f.rc.countsKey(1), f.rc.countsKey(2)} {
		if f.r.Client().Exists(ctx, k).Val() != 0 {
			t.Fatalf("key %s survived a failed cache update", k)
		}
	}
	f.assertMatchesRows(t, []int64{1, 2}, []int64{1, 2})
}

func TestRelationCacheConcurrentFollowsMatchSQL(t *testing.T) {
	forEachRelCache(t, testRelationCacheConcurrentFollowsMatchSQL)
}

func testRelationCacheConcurrentFollowsMatchSQL(t *testing.T, backend string) {
	f := newRelFixture(t, backend, 40)
	var followers, targets []int64
	for u := int64(1); u <= 20; u++ {
		followers = append(followers, u)
	}
	for u := int64(21); u <= 25; u++ {
		targets = append(targets, u)
	}
	everyone := append(slices.Clone(followers), targets...)
	f.assertMatchesRows(t, followers, everyone) // counters and sets cached before the storm

	var wg sync.WaitGroup
	for _, from := range followers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(from), 3))
			for range 15 {
				if err := f.act(from, targets[rng.IntN(len(targets))], rng.IntN(2) == 0); err != nil {
					t.Error(err)
					return
				}
				// Reads race the writes, as the feed does.
				if _, err := f.svc.MGetRelations(context.Background(), &relationapi.MGetRelationsRequest{ViewerId: from, UserIds: targets}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// The cached counters and sets equal the store's, which equal the rows.
	f.assertCacheHoldsRows(t, followers, everyone)
	if f.r != nil {
		stored, err := NewSQLStore(f.gdb).Counts(context.Background(), everyone)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range everyone {
			want := fmt.Sprintf("%d:%d", stored[u].FollowCount, stored[u].FollowerCount)
			if got := f.rawCounts(t, u); got != want {
				t.Errorf("redis counters of user %d = %s, SQL says %s", u, got, want)
			}
		}
	}
	f.assertMatchesRows(t, followers, everyone)
}

func TestRelationCacheDownDegradesToSQL(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	gdb := dbtest.OpenMigrated(t, Migrate)
	s := New(NewSQLStore(gdb), fakeUsers{n: 5}, WithCache(NewRedisCache(cache.NewRedis(dead, "x:"), time.Hour, time.Minute)))
	if _, err := s.RelationAction(context.Background(), &relationapi.RelationActionRequest{UserId: 1, ToUserId: 2, ActionType: relationapi.RelationActionType_Follow}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.MGetRelations(context.Background(), &relationapi.MGetRelationsRequest{ViewerId: 1, UserIds: []int64{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if u := resp.Users[2]; u.FollowerCount != 1 || !u.IsFollow || resp.Users[1].FollowCount != 1 {
		t.Fatalf("read with Redis down = %v", resp.Users)
	}
	following := make([]bool, 2)
	if err := s.FollowingAmong(context.Background(), 1, []int64{1, 2}, following); err != nil || !slices.Equal(following, []bool{false, true}) {
		t.Fatalf("following flags with Redis down = %v, %v", following, err)
	}
}
