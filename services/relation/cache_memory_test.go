package relation

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"
)

// memView reads the cache and fails the test on an error (MemoryCache never returns one).
func memView(t *testing.T, c *MemoryCache, viewer int64, users ...int64) CachedRelations {
	t.Helper()
	v, err := c.Relations(context.Background(), viewer, users)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func memFillCounts(t *testing.T, c *MemoryCache, counts ...Counts) {
	t.Helper()
	m := map[int64]Counts{}
	for _, n := range counts {
		m[n.UserID] = n
	}
	if err := c.FillCounts(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func memFillFollowing(t *testing.T, c *MemoryCache, user int64, followees ...int64) {
	t.Helper()
	if err := c.FillFollowing(context.Background(), user, followees); err != nil {
		t.Fatal(err)
	}
}

func memApply(t *testing.T, c *MemoryCache, from, to int64, follow bool) {
	t.Helper()
	if err := c.ApplyFollow(context.Background(), from, to, follow); err != nil {
		t.Fatal(err)
	}
}

// wantCounts checks the cached counters of user; nil means not cached.
func wantCounts(t *testing.T, c *MemoryCache, user int64, want *Counts) {
	t.Helper()
	v := memView(t, c, 0, user)
	got, ok := v.Counts[user]
	switch {
	case want == nil && (ok || !slices.Equal(v.MissingCounts, []int64{user})):
		t.Fatalf("counters of %d = %+v (missing %v), want not cached", user, got, v.MissingCounts)
	case want != nil && (!ok || got != *want || len(v.MissingCounts) != 0):
		t.Fatalf("counters of %d = %+v (cached: %v), want %+v", user, got, ok, *want)
	}
}

// wantFollowing checks the cached set of user over ids; nil means not cached.
func wantFollowing(t *testing.T, c *MemoryCache, user int64, ids []int64, want map[int64]bool) {
	t.Helper()
	v := memView(t, c, user, ids...)
	switch {
	case want == nil && (v.FollowingLoaded || v.Following != nil):
		t.Fatalf("set of %d = %v (loaded: %v), want not cached", user, v.Following, v.FollowingLoaded)
	case want != nil && (!v.FollowingLoaded || !maps.Equal(v.Following, want)):
		t.Fatalf("set of %d over %v = %v (loaded: %v), want %v", user, ids, v.Following, v.FollowingLoaded, want)
	}
}

func TestMemoryCacheRelations(t *testing.T) {
	c := NewMemoryCache(time.Hour, time.Hour, 100)
	memFillCounts(t, c, Counts{UserID: 1, FollowCount: 3, FollowerCount: 4}, Counts{UserID: 3})

	// No viewer: counters found and missing, in request order; no following flags.
	v := memView(t, c, 0, 1, 2, 3, 4)
	wantFound := map[int64]Counts{1: {UserID: 1, FollowCount: 3, FollowerCount: 4}, 3: {UserID: 3}}
	if !maps.Equal(v.Counts, wantFound) || !slices.Equal(v.MissingCounts, []int64{2, 4}) {
		t.Fatalf("Relations counts = %v missing %v, want %v missing [2 4]", v.Counts, v.MissingCounts, wantFound)
	}
	if v.FollowingLoaded || v.Following != nil {
		t.Fatalf("viewer 0 got following %v (loaded: %v)", v.Following, v.FollowingLoaded)
	}

	// A viewer whose set is not loaded: counters still served, flags not.
	wantFollowing(t, c, 7, []int64{1, 2}, nil)

	// Loaded: only the requested users the viewer follows.
	memFillFollowing(t, c, 7, 1, 3, 9)
	wantFollowing(t, c, 7, []int64{1, 2, 3, 4}, map[int64]bool{1: true, 3: true})
	// An empty set is a loaded set: nothing followed, no reload.
	memFillFollowing(t, c, 8)
	wantFollowing(t, c, 8, []int64{1, 2}, map[int64]bool{})

	// Results are copies: changing them changes nothing cached.
	v = memView(t, c, 7, 1, 2)
	v.Following[2] = true
	v.Counts[1] = Counts{UserID: 1, FollowCount: 99}
	wantFollowing(t, c, 7, []int64{1, 2}, map[int64]bool{1: true})
	wantCounts(t, c, 1, &Counts{UserID: 1, FollowCount: 3, FollowerCount: 4})

	// No users: empty, not nil, counts.
	if v := memView(t, c, 7); v.Counts == nil || len(v.Counts) != 0 || len(v.MissingCounts) != 0 || !v.FollowingLoaded {
		t.Fatalf("Relations of no users = %+v", v)
	}
}

func TestMemoryCacheFillsKeepCachedValues(t *testing.T) {
	c := NewMemoryCache(time.Hour, time.Hour, 100)
	memFillCounts(t, c, Counts{UserID: 1, FollowCount: 1}, Counts{UserID: 2, FollowerCount: 1})
	memFillFollowing(t, c, 1, 2)
	memApply(t, c, 1, 3, true) // moves the cached set and user 1's counter

	// Fills carrying SQL reads older than the cache lose; a new user's counters are added.
	memFillCounts(t, c, Counts{UserID: 1}, Counts{UserID: 2}, Counts{UserID: 5, FollowerCount: 7})
	memFillFollowing(t, c, 1)
	wantCounts(t, c, 1, &Counts{UserID: 1, FollowCount: 2})
	wantCounts(t, c, 2, &Counts{UserID: 2, FollowerCount: 1})
	wantCounts(t, c, 5, &Counts{UserID: 5, FollowerCount: 7})
	wantFollowing(t, c, 1, []int64{2, 3}, map[int64]bool{2: true, 3: true})

	// The cache keeps no reference to the filled slice.
	ids := []int64{4}
	memFillFollowing(t, c, 6, ids...)
	ids[0] = 5
	wantFollowing(t, c, 6, []int64{4, 5}, map[int64]bool{4: true})
}

func TestMemoryCacheApplyFollow(t *testing.T) {
	one := func(id, follows, followers int64) *Counts {
		return &Counts{UserID: id, FollowCount: follows, FollowerCount: followers}
	}
	t.Run("set and counters cached", func(t *testing.T) {
		c := NewMemoryCache(time.Hour, time.Hour, 100)
		memFillCounts(t, c, *one(1, 0, 0), *one(2, 0, 0))
		memFillFollowing(t, c, 1)
		memApply(t, c, 1, 2, true)
		wantFollowing(t, c, 1, []int64{2}, map[int64]bool{2: true})
		wantCounts(t, c, 1, one(1, 1, 0))
		wantCounts(t, c, 2, one(2, 0, 1))
		// The set says the follow is already there: nothing moves.
		memApply(t, c, 1, 2, true)
		wantCounts(t, c, 1, one(1, 1, 0))
		wantCounts(t, c, 2, one(2, 0, 1))
		memApply(t, c, 1, 2, false)
		wantFollowing(t, c, 1, []int64{2}, map[int64]bool{})
		wantCounts(t, c, 1, one(1, 0, 0))
		wantCounts(t, c, 2, one(2, 0, 0))
		memApply(t, c, 1, 2, false)
		wantCounts(t, c, 1, one(1, 0, 0))
		wantCounts(t, c, 2, one(2, 0, 0))
	})
	t.Run("set already holds the change", func(t *testing.T) {
		// A set filled from SQL after the commit: the counters (filled too) are already right.
		c := NewMemoryCache(time.Hour, time.Hour, 100)
		memFillCounts(t, c, *one(1, 1, 0), *one(2, 0, 1))
		memFillFollowing(t, c, 1, 2)
		memApply(t, c, 1, 2, true)
		wantCounts(t, c, 1, one(1, 1, 0))
		wantCounts(t, c, 2, one(2, 0, 1))
	})
	t.Run("set not cached", func(t *testing.T) {
		// The commit's report that SQL changed decides: the counters move, the set stays out.
		c := NewMemoryCache(time.Hour, time.Hour, 100)
		memFillCounts(t, c, *one(1, 5, 0), *one(2, 0, 5))
		memApply(t, c, 1, 2, true)
		wantCounts(t, c, 1, one(1, 6, 0))
		wantCounts(t, c, 2, one(2, 0, 6))
		wantFollowing(t, c, 1, []int64{2}, nil)
		memApply(t, c, 1, 2, false)
		wantCounts(t, c, 1, one(1, 5, 0))
		wantCounts(t, c, 2, one(2, 0, 5))
	})
	t.Run("counters not cached", func(t *testing.T) {
		// A delta never creates a counter; the set still moves, the cached counter too.
		c := NewMemoryCache(time.Hour, time.Hour, 100)
		memFillCounts(t, c, *one(2, 0, 3))
		memFillFollowing(t, c, 1)
		memApply(t, c, 1, 2, true)
		wantCounts(t, c, 1, nil)
		wantCounts(t, c, 2, one(2, 0, 4))
		wantFollowing(t, c, 1, []int64{2}, map[int64]bool{2: true})
		memApply(t, c, 3, 4, true)
		wantCounts(t, c, 3, nil)
		wantCounts(t, c, 4, nil)
	})
	t.Run("Forget drops what a follow touches", func(t *testing.T) {
		c := NewMemoryCache(time.Hour, time.Hour, 100)
		memFillCounts(t, c, *one(1, 1, 1), *one(2, 1, 1), *one(3, 1, 1))
		memFillFollowing(t, c, 1, 2)
		memFillFollowing(t, c, 2, 1)
		if err := c.Forget(context.Background(), 1, 2); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, c, 1, nil)
		wantCounts(t, c, 2, nil)
		wantFollowing(t, c, 1, []int64{2}, nil)
		// The followee's set and a bystander's counters stay.
		wantFollowing(t, c, 2, []int64{1}, map[int64]bool{1: true})
		wantCounts(t, c, 3, one(3, 1, 1))
	})
}

func TestMemoryCacheBounded(t *testing.T) {
	const bound = 50
	c := NewMemoryCache(time.Hour, time.Hour, bound)
	for u := int64(1); u <= 10*bound; u++ {
		memFillCounts(t, c, Counts{UserID: u, FollowCount: u})
		memFillFollowing(t, c, u, u+1)
		if n := c.counts.Len(); n > bound {
			t.Fatalf("after %d fills the counters hold %d users, bound %d", u, n, bound)
		}
		if n := c.following.Len(); n > bound {
			t.Fatalf("after %d fills the sets hold %d users, bound %d", u, n, bound)
		}
		// What was just filled is served.
		wantCounts(t, c, u, &Counts{UserID: u, FollowCount: u})
		wantFollowing(t, c, u, []int64{u + 1}, map[int64]bool{u + 1: true})
	}
	// One fill of many users at once respects the bound too.
	many := map[int64]Counts{}
	for u := int64(1000); u < 1000+10*bound; u++ {
		many[u] = Counts{UserID: u}
	}
	if err := c.FillCounts(context.Background(), many); err != nil {
		t.Fatal(err)
	}
	if n := c.counts.Len(); n > bound {
		t.Fatalf("after a batch fill the counters hold %d users, bound %d", n, bound)
	}
}

// Many users following one target at once, with reads in between, end at exact counters.
func TestMemoryCacheConcurrentApplyFollow(t *testing.T) {
	const followers = 32
	c := NewMemoryCache(time.Hour, time.Hour, 1000)
	target := int64(1000)
	memFillCounts(t, c, Counts{UserID: target})
	var wg sync.WaitGroup
	for u := int64(1); u <= followers; u++ {
		wg.Go(func() {
			ctx := context.Background()
			if err := c.FillFollowing(ctx, u, nil); err != nil {
				t.Error(err)
			}
			if err := c.FillCounts(ctx, map[int64]Counts{u: {UserID: u}}); err != nil {
				t.Error(err)
			}
			for range 3 { // repeats change nothing: the set is cached
				if err := c.ApplyFollow(ctx, u, target, true); err != nil {
					t.Error(err)
				}
				if _, err := c.Relations(ctx, u, []int64{u, target}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	wantCounts(t, c, target, &Counts{UserID: target, FollowerCount: followers})
	for u := int64(1); u <= followers; u++ {
		wantCounts(t, c, u, &Counts{UserID: u, FollowCount: 1})
		wantFollowing(t, c, u, []int64{target}, map[int64]bool{target: true})
	}
}

// A warm read allocates nothing beyond its result maps.
func TestMemoryCacheRelationsAllocations(t *testing.T) {
	c := NewMemoryCache(time.Hour, time.Hour, 1000)
	users := make([]int64, 30)
	fill := map[int64]Counts{}
	for i := range users {
		users[i] = int64(i + 1)
		fill[users[i]] = Counts{UserID: users[i]}
	}
	memFillCounts(t, c, slices.Collect(maps.Values(fill))...)
	memFillFollowing(t, c, 500, users...)
	ctx := context.Background()
	var sink CachedRelations
	got := testing.AllocsPerRun(100, func() { sink, _ = c.Relations(ctx, 500, users) })
	results := testing.AllocsPerRun(100, func() {
		sink = CachedRelations{Counts: make(map[int64]Counts, len(users)), Following: make(map[int64]bool, len(users))}
	})
	_ = sink
	if got > results {
		t.Fatalf("a warm Relations of %d users allocates %.0f times, its result maps %.0f", len(users), got, results)
	}
}

func BenchmarkMemoryCacheRelations(b *testing.B) {
	c := NewMemoryCache(time.Hour, time.Hour, 100_000)
	ctx := context.Background()
	users := make([]int64, 30)
	fill := map[int64]Counts{}
	for i := range users {
		users[i] = int64(i*7 + 1)
		fill[users[i]] = Counts{UserID: users[i], FollowCount: int64(i)}
	}
	if err := c.FillCounts(ctx, fill); err != nil {
		b.Fatal(err)
	}
	for v := int64(1); v <= 1000; v++ {
		if err := c.FillFollowing(ctx, v, users[:v%30]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		v := int64(0)
		for pb.Next() {
			v = v%1000 + 1
			if _, err := c.Relations(ctx, v, users); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
