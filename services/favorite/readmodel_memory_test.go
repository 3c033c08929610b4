package favorite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/polltest"
)

// lens returns how many keys each kind of state holds, expired ones included.
func (m *MemoryReadModel) lens() (liked, videos, stats int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.liked.Len(), m.videos.Len(), m.stats.Len()
}

// TestMemoryReadModelMatchesRedis runs one random sequence of every operation against both
// read models and requires the same answers after each: the in-process one mirrors the Lua.
// Videos 10 and 11 belong to user 1, so self-likes (one user's two counters in one step)
// are covered.
func TestMemoryReadModelMatchesRedis(t *testing.T) {
	ctx := context.Background()
	r, _ := cachetest.New(t)
	impls := []struct {
		name string
		rm   ReadModel
	}{
		{"redis", NewRedisReadModel(r, time.Hour, time.Hour)},
		{"memory", NewMemoryReadModel(time.Hour, time.Hour, 1000)},
	}
	users := []int64{1, 2, 3}
	videos := []int64{10, 11, 12, 13}
	authors := map[int64]int64{10: 1, 11: 1, 12: 2, 13: 3}
	rng := rand.New(rand.NewPCG(42, 7))
	pick := func(ids []int64) int64 { return ids[rng.IntN(len(ids))] }
	subset := func(ids []int64) []int64 {
		var out []int64
		for _, id := range ids {
			if rng.IntN(2) == 0 {
				out = append(out, id)
			}
		}
		return out
	}
	reserved := make([][]int64, len(impls)) // every seq each model handed out, in order
	for step := range 600 {
		// Each operation runs on both models; its results, rendered, must be equal.
		var results [2]any
		var what string
		switch op := rng.IntN(10); op {
		case 0, 1, 2, 3:
			v := pick(videos)
			c := Change{UserID: pick(users), VideoID: v, AuthorID: authors[v], Liked: rng.IntN(2) == 0}
			// Mostly a fresh seq; sometimes one handed out earlier, as a step that reaches
			// Apply after newer ones of its pair (the same earlier one in both models).
			stale := -1
			if n := len(reserved[0]); n > 0 && rng.IntN(4) == 0 {
				stale = rng.IntN(n)
			}
			what = fmt.Sprintf("Apply %v (stale seq #%d)", c, stale)
			for i, impl := range impls {
				seq, err := impl.rm.Reserve(ctx, c.UserID)
				if err != nil && !errors.Is(err, ErrNotLoaded) {
					t.Fatalf("%s: %s: %v", impl.name, what, err)
				}
				if err == nil {
					if n := len(reserved[i]); n > 0 && seq <= reserved[i][n-1] {
						t.Fatalf("%s: %s: seq %d after %d", impl.name, what, seq, reserved[i][n-1])
					}
					reserved[i] = append(reserved[i], seq)
					if stale >= 0 {
						seq = reserved[i][stale]
					}
				}
				var a Applied
				if err == nil {
					a, err = impl.rm.Apply(ctx, c, seq)
				}
				if err != nil && !errors.Is(err, ErrNotLoaded) {
					t.Fatalf("%s: %s: %v", impl.name, what, err)
				}
				results[i] = []any{a.Changed, errors.Is(err, ErrNotLoaded)}
			}
		case 4:
			u, liked := pick(users), subset(videos)
			what = "FillLiked " + fmt.Sprint([]any{u, liked})
			for _, impl := range impls {
				if err := impl.rm.FillLiked(ctx, u, liked); err != nil {
					t.Fatal(err)
				}
			}
		case 5:
			counts := map[int64]int64{}
			for _, v := range subset(videos) {
				counts[v] = rng.Int64N(5)
			}
			what = "FillVideoCounts " + fmt.Sprint(counts)
			for i, impl := range impls {
				filled, err := impl.rm.FillVideoCounts(ctx, counts, nil)
				if err != nil {
					t.Fatal(err)
				}
				results[i] = filled
			}
		case 6:
			stats := map[int64]UserCount{}
			for _, u := range subset(users) {
				stats[u] = UserCount{UserID: u, FavoriteCount: rng.Int64N(5), TotalFavorited: rng.Int64N(5)}
			}
			what = "FillUserStats " + fmt.Sprint(stats)
			for i, impl := range impls {
				filled, err := impl.rm.FillUserStats(ctx, stats, nil)
				if err != nil {
					t.Fatal(err)
				}
				results[i] = filled
			}
		case 7, 8, 9:
			v := pick(videos)
			c := Change{UserID: pick(users), VideoID: v, AuthorID: authors[v], Liked: rng.IntN(2) == 0}
			settle := op != 9
			// A commit older than any step (0) or newer than every one: the two read models
			// take their seqs from different clocks.
			committed := Committed{Flipped: rng.IntN(2) == 0, Liked: rng.IntN(2) == 0}
			if rng.IntN(2) == 0 {
				committed.Seq = math.MaxInt64
			}
			what = "Forget " + fmt.Sprint(c)
			if settle {
				what = fmt.Sprintf("Settle %v %+v", c, committed)
			}
			for _, impl := range impls {
				var err error
				if settle {
					err = impl.rm.Settle(ctx, c, committed)
				} else {
					err = impl.rm.Forget(ctx, c)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if !reflect.DeepEqual(results[0], results[1]) {
			t.Fatalf("step %d %s: redis %v, memory %v", step, what, results[0], results[1])
		}
		// Then everything either model holds must read the same.
		for _, viewer := range append([]int64{0}, users...) {
			var views [2]CachedVideoFavorites
			for i, impl := range impls {
				v, err := impl.rm.VideoFavorites(ctx, viewer, videos, users)
				if err != nil {
					t.Fatal(err)
				}
				views[i] = v
			}
			if !reflect.DeepEqual(views[0], views[1]) {
				t.Fatalf("step %d %s: viewer %d reads redis %+v, memory %+v", step, what, viewer, views[0], views[1])
			}
		}
		var found [2]map[int64]UserCount
		var missing [2][]int64
		for i, impl := range impls {
			u, err := impl.rm.UserStats(ctx, users)
			if err != nil {
				t.Fatal(err)
			}
			found[i], missing[i] = u.Found, u.Missing
		}
		if !reflect.DeepEqual(found[0], found[1]) || !slices.Equal(missing[0], missing[1]) {
			t.Fatalf("step %d %s: user stats redis %v missing %v, memory %v missing %v", step, what, found[0], missing[0], found[1], missing[1])
		}
	}
}

func TestMemoryReadModelIsBounded(t *testing.T) {
	ctx := context.Background()
	const bound = 50
	m := NewMemoryReadModel(time.Hour, time.Hour, bound)
	for id := int64(1); id <= 10*bound; id++ {
		if err := m.FillLiked(ctx, id, []int64{id}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.FillVideoCounts(ctx, map[int64]int64{id: id}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := m.FillUserStats(ctx, map[int64]UserCount{id: {UserID: id, FavoriteCount: id}}, nil); err != nil {
			t.Fatal(err)
		}
		if liked, videos, stats := m.lens(); liked > bound || videos > bound || stats > bound {
			t.Fatalf("after %d fills: %d sets, %d counts, %d stats held, bound %d", id, liked, videos, stats, bound)
		}
		// What was just filled is there: eviction makes room before a write.
		v, _ := m.VideoFavorites(ctx, id, []int64{id}, nil)
		if !v.LikedLoaded || !v.Liked[id] || v.Counts[id] != id {
			t.Fatalf("fill %d not readable right after: %+v", id, v)
		}
	}
	// Every user is either evicted (a miss, reloaded from SQL) or exact; an evicted set is
	// not silently recreated by a step.
	loaded := 0
	for id := int64(1); id <= 10*bound; id++ {
		v, _ := m.VideoFavorites(ctx, id, []int64{id, id + 1}, nil)
		if !v.LikedLoaded {
			if _, err := step(ctx, m, Change{UserID: id, VideoID: id + 1, AuthorID: 1, Liked: true}); !errors.Is(err, ErrNotLoaded) {
				t.Fatalf("Apply on the evicted set of user %d = %v, want ErrNotLoaded", id, err)
			}
			continue
		}
		loaded++
		if want := map[int64]bool{id: true}; !reflect.DeepEqual(v.Liked, want) {
			t.Fatalf("user %d liked %v, want %v", id, v.Liked, want)
		}
	}
	if loaded == 0 || loaded > bound {
		t.Fatalf("%d sets still loaded, want 1..%d", loaded, bound)
	}
}

func TestMemoryReadModelEntriesExpire(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryReadModel(100*time.Millisecond, 100*time.Millisecond, 100)
	if err := m.FillLiked(ctx, 1, []int64{10}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.FillVideoCounts(ctx, map[int64]int64{10: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.FillUserStats(ctx, map[int64]UserCount{1: {UserID: 1, FavoriteCount: 1}, 2: {UserID: 2, TotalFavorited: 5}}, nil); err != nil {
		t.Fatal(err)
	}
	polltest.Until(t, 10*time.Second, "the set and the counters expire", func() bool {
		v, _ := m.VideoFavorites(ctx, 1, []int64{10}, nil)
		u, _ := m.UserStats(ctx, []int64{1, 2})
		return !v.LikedLoaded && slices.Equal(v.MissingCounts, []int64{10}) && len(u.Missing) == 2
	})

	// An expired set is not loaded: a step is refused, and a fill replaces it.
	if _, err := step(ctx, m, Change{UserID: 1, VideoID: 11, AuthorID: 2, Liked: true}); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("Apply on an expired set = %v, want ErrNotLoaded", err)
	}
	if err := m.FillLiked(ctx, 1, []int64{20}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.FillVideoCounts(ctx, map[int64]int64{10: 8}, nil); err != nil {
		t.Fatal(err)
	}
	a, err := step(ctx, m, Change{UserID: 1, VideoID: 10, AuthorID: 2, Liked: true})
	if err != nil || !a.Changed {
		t.Fatalf("Apply after the refill = %+v, %v", a, err)
	}
	v, _ := m.VideoFavorites(ctx, 1, []int64{10, 20}, nil)
	if !v.LikedLoaded || !reflect.DeepEqual(v.Liked, map[int64]bool{10: true, 20: true}) || v.Counts[10] != 9 {
		t.Fatalf("after refilling the expired entries and a like: %+v", v)
	}
	// The expired user counters were not recreated from the step's delta.
	if u, _ := m.UserStats(ctx, []int64{1, 2}); len(u.Found) != 0 || len(u.Missing) != 2 {
		t.Fatalf("expired stats came back from a delta: found %v, missing %v", u.Found, u.Missing)
	}
}

// An action renews its user's set: a set filled together with another one outlives it by
// the time between the fill and the action.
func TestMemoryReadModelActionRenewsSet(t *testing.T) {
	ctx := context.Background()
	const ttl = time.Second // entries live 0.9s..1.1s (jitter)
	m := NewMemoryReadModel(ttl, time.Hour, 100)
	clock := time.Unix(1000, 0)
	m.liked.SetClock(func() time.Time { return clock })
	for _, u := range []int64{1, 2} {
		if err := m.FillLiked(ctx, u, nil); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(ttl / 2)
	if _, err := step(ctx, m, Change{UserID: 1, VideoID: 10, AuthorID: 2, Liked: true}); err != nil {
		t.Fatal(err)
	}
	// Set 2 expired by 1.1s; set 1, renewed at 0.5s, lives until 1.4s at least.
	clock = clock.Add(ttl * 3 / 4)
	m.mu.Lock()
	_, renewed := m.liked.Get(1)
	_, other := m.liked.Get(2)
	m.mu.Unlock()
	if other {
		t.Fatal("a set outlived its TTL")
	}
	if !renewed {
		t.Fatal("the set of a user who acted expired with its first TTL: actions must renew it")
	}
}

// TestMemoryReadModelSeqStrictlyIncreasesUnderConcurrency: every step, from any goroutine,
// changed or not, gets a seq no other step got, increasing in the order they were reserved.
func TestMemoryReadModelSeqStrictlyIncreasesUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryReadModel(time.Hour, time.Hour, 1000)
	const workers, steps = 8, 300
	for u := int64(1); u <= workers/2; u++ {
		if err := m.FillLiked(ctx, u, nil); err != nil {
			t.Fatal(err)
		}
	}
	seqs := make([][]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		user := int64(w/2 + 1) // two workers per user: their steps race on one set
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range steps {
				seq, err := m.Reserve(ctx, user)
				if err == nil {
					_, err = m.Apply(ctx, Change{UserID: user, VideoID: 10 + rng.Int64N(3), AuthorID: 99, Liked: rng.IntN(2) == 0}, seq)
				}
				if err != nil {
					t.Error(err)
					return
				}
				seqs[w] = append(seqs[w], seq)
				if _, err := m.VideoFavorites(ctx, user, []int64{10, 11, 12}, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for w, s := range seqs {
		if len(s) != steps {
			t.Fatalf("worker %d took %d steps", w, len(s))
		}
		for i, seq := range s {
			if i > 0 && seq <= s[i-1] {
				t.Fatalf("worker %d: seq %d after %d", w, seq, s[i-1])
			}
			if seq <= 0 || seen[seq] {
				t.Fatalf("seq %d handed out twice (or not positive)", seq)
			}
			seen[seq] = true
		}
	}
}

// The read model never hands out its sets nor keeps the caller's slices: what a caller does
// with a result or an argument afterwards changes nothing inside.
func TestMemoryReadModelSharesNoState(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryReadModel(time.Hour, time.Hour, 100)
	ids := []int64{10, 11}
	if err := m.FillLiked(ctx, 1, ids); err != nil {
		t.Fatal(err)
	}
	ids[0] = 99
	before, _ := m.VideoFavorites(ctx, 1, []int64{10, 11, 12, 99}, nil)
	if want := map[int64]bool{10: true, 11: true}; !reflect.DeepEqual(before.Liked, want) {
		t.Fatalf("liked %v, want %v", before.Liked, want)
	}
	before.Liked[12] = true
	delete(before.Liked, 10)
	if _, err := step(ctx, m, Change{UserID: 1, VideoID: 13, AuthorID: 2, Liked: true}); err != nil {
		t.Fatal(err)
	}
	after, _ := m.VideoFavorites(ctx, 1, []int64{10, 11, 12, 13}, nil)
	if want := map[int64]bool{10: true, 11: true, 13: true}; !reflect.DeepEqual(after.Liked, want) {
		t.Fatalf("liked %v after the caller edited a result, want %v", after.Liked, want)
	}
	if want := map[int64]bool{11: true, 12: true}; !reflect.DeepEqual(before.Liked, want) {
		t.Fatalf("an earlier result changed under its caller: %v, want %v", before.Liked, want)
	}
}

var sinkVideoFavorites CachedVideoFavorites

// feedPage is a feed page of 30 videos (ids 100..129) and their counts.
func feedPage() ([]int64, map[int64]int64) {
	videos := make([]int64, 30)
	counts := map[int64]int64{}
	for i := range videos {
		videos[i] = int64(100 + i)
		counts[videos[i]] = int64(i)
	}
	return videos, counts
}

// The feed's read allocates no more than its result maps.
func TestMemoryReadModelVideoFavoritesAllocatesOnlyTheResult(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryReadModel(time.Hour, time.Hour, 1000)
	videos, counts := feedPage()
	if _, err := m.FillVideoCounts(ctx, counts, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.FillLiked(ctx, 1, videos[:10]); err != nil {
		t.Fatal(err)
	}
	got := testing.AllocsPerRun(200, func() {
		sinkVideoFavorites, _ = m.VideoFavorites(ctx, 1, videos, nil)
	})
	// The same result maps built by hand.
	want := testing.AllocsPerRun(200, func() {
		out := CachedVideoFavorites{Counts: make(map[int64]int64, len(videos)), LikedLoaded: true}
		out.Liked = make(map[int64]bool, 10)
		for i, id := range videos {
			out.Counts[id] = counts[id]
			if i < 10 {
				out.Liked[id] = true
			}
		}
		sinkVideoFavorites = out
	})
	if got > want {
		t.Fatalf("VideoFavorites allocates %v times per call, its result alone %v", got, want)
	}
}

func BenchmarkMemoryReadModelVideoFavorites(b *testing.B) {
	ctx := context.Background()
	m := NewMemoryReadModel(time.Hour, time.Hour, 100_000)
	videos, counts := feedPage()
	if _, err := m.FillVideoCounts(ctx, counts, nil); err != nil {
		b.Fatal(err)
	}
	for u := int64(1); u <= 1000; u++ {
		if err := m.FillLiked(ctx, u, videos[:u%30]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		u := int64(0)
		for pb.Next() {
			u = u%1000 + 1
			if _, err := m.VideoFavorites(ctx, u, videos, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
