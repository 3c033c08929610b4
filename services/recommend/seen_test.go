package recommend

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/benchtest"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/polltest"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
)

// TestSeenStores runs one scenario against both seen stores: they must answer alike.
func TestSeenStores(t *testing.T) {
	r, _ := cachetest.New(t)
	for name, store := range map[string]SeenStore{
		"memory": NewMemorySeen(5, 100),
		"redis":  NewRedisSeen(r, 5, time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			take := func(candidates []int64, limit int, now int64) []int64 {
				t.Helper()
				// Version 0: checked against everything held.
				got, err := store.Take(ctx, 1, 0, candidates, limit, now, now-1000)
				if err != nil {
					t.Fatal(err)
				}
				return got.ids
			}
			if got := take([]int64{1, 2, 3}, 2, testNow); !slices.Equal(got, []int64{1, 2}) {
				t.Errorf("first take %v, want [1 2] (stops at the limit)", got)
			}
			if got := take([]int64{1, 2, 3, 3, 4}, 5, testNow+1); !slices.Equal(got, []int64{3, 4}) {
				t.Errorf("second take %v, want [3 4] (seen and repeated candidates skipped)", got)
			}
			// Another viewer is unaffected.
			if got, _ := store.Take(ctx, 2, 0, []int64{1}, 1, testNow, testNow-1000); !slices.Equal(got.ids, []int64{1}) {
				t.Errorf("another viewer took %v, want [1]", got)
			}
			// At most 5 are kept, the oldest forgotten first.
			take([]int64{5, 6}, 2, testNow+2)
			if _, err := store.Seen(ctx, 1, testNow-1000, func(seen *idSet) {
				if seen.Len() != 5 || !seen.Has(6) || seen.Has(1) || seen.Has(7) {
					t.Errorf("seen %d videos, 6: %v, 1: %v, 7: %v; want 5 videos, 6 but not 1 (the oldest) or 7", seen.Len(), seen.Has(6), seen.Has(1), seen.Has(7))
				}
			}); err != nil {
				t.Fatal(err)
			}
			// Past the window everything is new again.
			if got := take([]int64{6, 1}, 2, testNow+5000); !slices.Equal(got, []int64{6, 1}) {
				t.Errorf("after the window %v, want [6 1]", got)
			}
			if err := store.Reset(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Seen(ctx, 1, 0, func(seen *idSet) {
				if seen.Len() != 0 || seen.Has(6) {
					t.Errorf("after a reset: %d seen, 6: %v; want nothing", seen.Len(), seen.Has(6))
				}
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestConcurrentRedisTakesShareRoundTrips: the Takes of concurrent pages share pipelined
// round trips, and each still runs alone: one viewer's concurrent takes never hand out a
// video twice, and each viewer gets its own.
func TestConcurrentRedisTakesShareRoundTrips(t *testing.T) {
	r, rt := cachetest.New(t)
	store := NewRedisSeen(r, 1000, time.Hour)
	ctx := context.Background()
	const viewers, takesEach, limit = 20, 10, 3
	candidates := span(1, 100)
	before := rt.Count()
	var mu sync.Mutex
	served := map[int64]map[int64]int{} // viewer → video → times served
	for viewer := int64(1); viewer <= viewers; viewer++ {
		served[viewer] = map[int64]int{}
	}
	var wg sync.WaitGroup
	for viewer := int64(1); viewer <= viewers; viewer++ {
		for range takesEach {
			wg.Go(func() {
				t1, err := store.Take(ctx, viewer, 0, candidates, limit, testNow, testNow-1000)
				if err != nil {
					t.Error(err)
					return
				}
				got := t1.ids
				if len(got) != limit {
					t.Errorf("viewer %d took %v, want %d videos", viewer, got, limit)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, id := range got {
					served[viewer][id]++
				}
			})
		}
	}
	wg.Wait()
	for viewer, videos := range served {
		if len(videos) != takesEach*limit {
			t.Errorf("viewer %d was served %d distinct videos, want %d", viewer, len(videos), takesEach*limit)
		}
		for id, n := range videos {
			if n > 1 {
				t.Errorf("viewer %d was served video %d %d times", viewer, id, n)
			}
		}
	}
	if trips := rt.Count() - before; trips >= viewers*takesEach {
		t.Errorf("%d takes took %d Redis round trips, want fewer: concurrent takes share them", viewers*takesEach, trips)
	}
}

// TestPagesContinueAcrossInstances: two recommend instances sharing Redis serve one viewer
// in turn, and no page repeats what the other served.
func TestPagesContinueAcrossInstances(t *testing.T) {
	r, _ := cachetest.New(t)
	var instances []*Service
	for range 2 {
		s, err := New(context.Background(), DefaultConfig(), nil, WithLogger(quietLog()),
			withClock(func() int64 { return testNow }),
			WithState(NewRedisState(r, quietLog())), WithSeen(NewRedisSeen(r, 1000, time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		instances = append(instances, s)
	}
	for v := int64(1); v <= 100; v++ {
		if err := instances[0].state.Apply(context.Background(), Event{Kind: EventVideo, Video: v, Author: 1000, At: testNow - v*1000}); err != nil {
			t.Fatal(err)
		}
	}
	polltest.Until(t, 10*time.Second, "the second instance never saw the videos", func() bool { return instances[1].Model().Stats().Videos == 100 })
	seen := map[int64]bool{}
	for page := range 3 {
		resp, err := instances[page%2].Recommend(context.Background(), &recommendapi.RecommendRequest{ViewerId: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.VideoIds) != 30 {
			t.Fatalf("page %d: %d videos, want 30", page, len(resp.VideoIds))
		}
		for _, id := range resp.VideoIds {
			if seen[id] {
				t.Fatalf("page %d (instance %d) repeats video %d", page, page%2, id)
			}
			seen[id] = true
		}
	}
}

// newRedisSeenService is a recommend instance on a model of 1 000 videos, with its seen videos
// in the test's Redis.
func newRedisSeenService(t *testing.T) (*Service, *RedisSeen) {
	t.Helper()
	r, _ := cachetest.New(t)
	store := NewRedisSeen(r, 5000, time.Hour)
	s, err := New(context.Background(), DefaultConfig(), nil, WithLogger(quietLog()),
		withClock(func() int64 { return testNow }), WithState(NewMemoryState(benchModel(1000, 100, 10))), WithSeen(store))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, store
}

// fullPage is the viewer's next recommended page, which must be a full one.
func fullPage(t *testing.T, s *Service, viewer int64) []int64 {
	t.Helper()
	resp, err := s.Recommend(context.Background(), &recommendapi.RecommendRequest{ViewerId: viewer})
	if err != nil || len(resp.VideoIds) != pageSize {
		t.Fatalf("page: %v, %v; want %d videos", resp, err, pageSize)
	}
	return resp.VideoIds
}

// TestRankingLeavesOutOthersPages: another instance serves the viewer videos from further
// down this instance's ranking. The next page's Take is checked and learns them; the ranking
// leaves them out, so its following pages, appended unchecked, do not repeat them either.
func TestRankingLeavesOutOthersPages(t *testing.T) {
	s, store := newRedisSeenService(t)
	const viewer = 7
	shown := fullPage(t, s, viewer)
	ranked := s.rankings.of(viewer, testNow)
	elsewhere := slices.Clone(ranked.ids[4*pageSize : 5*pageSize]) // the ranking's 5th page
	if _, err := store.Take(context.Background(), viewer, 0, elsewhere, pageSize, testNow, 0); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		shown = append(shown, fullPage(t, s, viewer)...)
	}
	for _, id := range shown {
		if slices.Contains(elsewhere, id) {
			t.Fatalf("video %d, served by another instance, was shown again", id)
		}
	}
	if got := len(distinct(shown)); got != len(shown) {
		t.Fatalf("%d pages repeat videos: %d distinct of %d", len(shown)/pageSize, got, len(shown))
	}
}

// TestRankingBehindRanksAgain: another instance serves the viewer more pages than a Take
// checks against; the next page's Take is behind, and the instance ranks again from the
// seen store instead of repeating them.
func TestRankingBehindRanksAgain(t *testing.T) {
	s, store := newRedisSeenService(t)
	const viewer = 7
	fullPage(t, s, viewer)
	ranked := s.rankings.of(viewer, testNow)
	elsewhere := slices.Clone(ranked.ids[pageSize : pageSize+maxCheckedPages+1])
	var since seenVersion
	for _, id := range elsewhere { // one video a page
		got, err := store.Take(context.Background(), viewer, since, []int64{id}, 1, testNow, 0)
		if err != nil || len(got.ids) != 1 {
			t.Fatalf("page elsewhere: %+v, %v", got, err)
		}
		since = got.version
	}
	for _, id := range fullPage(t, s, viewer) {
		if slices.Contains(elsewhere, id) {
			t.Fatalf("video %d, served by another instance, was shown again", id)
		}
	}
	if ranked.seen != since+1 {
		t.Errorf("the ranking names version %d, want %d: ranked again from the store, then the page", ranked.seen, since+1)
	}
}

// TestRedisSeenLayout: two instances serve one viewer in random turns, each as a ranking
// does: its candidates leave out what it read (Seen), took, and was told others took, and its
// Takes name the version it last knew. Through cutoffs expiring pages, the bound cutting the
// oldest page, resets and either key lost alone (evicted), the store answers as a plain list of
// the returns says, and its keys stay consistent: the list holds the pages of versions b+1..v,
// each id once, n of them and at most maxSeen, none older than the cutoff after a Take, both
// keys expiring a window after the last page. A Take is behind only when the other instance
// recorded more than maxCheckedPages pages since the version it names.
func TestRedisSeenLayout(t *testing.T) {
	const maxSeen, window, catalogue = 120, time.Hour, 400
	r, _ := cachetest.New(t)
	store := NewRedisSeen(r, maxSeen, window)
	ctx := context.Background()
	keys := store.keys(1)
	check := func(step int, cutoff int64) {
		t.Helper()
		pages, err := r.Client().LRange(ctx, keys[0], 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		meta, err := r.Client().HGetAll(ctx, keys[1]).Result()
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]int{}
		for _, page := range pages {
			at, list, err := parsePage(page)
			if err != nil || at < cutoff {
				t.Fatalf("step %d: page %q (%v), cutoff %d", step, page, err, cutoff)
			}
			for _, id := range strings.Split(list, ",") {
				if ids[id]++; ids[id] > 1 {
					t.Fatalf("step %d: %s is in two pages", step, id)
				}
			}
		}
		v, _ := strconv.ParseInt(meta["v"], 10, 64)
		b, _ := strconv.ParseInt(meta["b"], 10, 64)
		if n, _ := strconv.Atoi(meta["n"]); n != len(ids) || n > maxSeen || v-b != int64(len(pages)) {
			t.Fatalf("step %d: meta %v, %d pages of %d ids; want n the ids, at most %d, and v-b the pages", step, meta, len(pages), len(ids), maxSeen)
		}
		for _, key := range keys {
			if ttl := r.Client().PTTL(ctx, key).Val(); ttl <= 0 || ttl > window {
				t.Fatalf("step %d: %s expires in %v, want within %v", step, key, ttl, window)
			}
		}
	}
	// instance is one instance's knowledge of the viewer, as its ranking holds it.
	type instance struct {
		since seenVersion
		known map[int64]bool
		// pagesSince counts the pages recorded since it last knew the version.
		pagesSince int
	}
	var instances [2]instance
	read := func(in *instance, cutoff int64) {
		in.known = map[int64]bool{}
		var err error
		if in.since, err = store.Seen(ctx, 1, cutoff, func(seen *idSet) {
			for id := int64(1); id <= catalogue; id++ {
				if seen.Has(id) {
					in.known[id] = true
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		in.pagesSince = 0
	}
	for i := range instances {
		read(&instances[i], 0)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var want []returned
	var cutoff int64
	behinds, checked := 0, 0
	for step := range 1500 {
		now := testNow + int64(step)*10
		cutoff = max(cutoff, now-int64(rng.IntN(30000)))
		switch rng.IntN(200) {
		case 0:
			if err := store.Reset(ctx, 1); err != nil {
				t.Fatal(err)
			}
			want = nil
		case 1, 2:
			if err := r.Client().Del(ctx, keys[rng.IntN(2)]).Err(); err != nil { // one key evicted
				t.Fatal(err)
			}
			want = nil
		}
		// The second instance serves a page now and then: the first's pages pile up meanwhile.
		in := &instances[0]
		if rng.IntN(50) == 0 {
			in = &instances[1]
		}
		if rng.IntN(4) == 0 {
			read(in, cutoff)
		}
		var candidates []int64
		for range 1 + rng.IntN(60) {
			if id := 1 + rng.Int64N(catalogue); !in.known[id] {
				candidates = append(candidates, id)
			}
		}
		limit := 1 + rng.IntN(2) // small pages: the list holds more than maxCheckedPages
		if rng.IntN(8) == 0 {
			limit = 1 + rng.IntN(pageSize)
		}
		got, err := store.Take(ctx, 1, in.since, candidates, limit, now, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		if got.behind {
			if in.pagesSince <= maxCheckedPages {
				t.Fatalf("step %d: behind after %d pages elsewhere, want only past %d", step, in.pagesSince, maxCheckedPages)
			}
			behinds++
			read(in, cutoff)
			continue
		}
		// The plain list: forget before the cutoff; pick the first limit candidates not in it,
		// each once; keep the newest maxSeen.
		want = slices.DeleteFunc(want, func(r returned) bool { return r.at < cutoff })
		seen := func(id int64) bool { return slices.ContainsFunc(want, func(r returned) bool { return r.id == id }) }
		var picked []int64
		for _, id := range candidates {
			if len(picked) < limit && !seen(id) && !slices.Contains(picked, id) {
				picked = append(picked, id)
			}
		}
		for _, id := range picked {
			want = append(want, returned{id, now})
		}
		want = want[max(len(want)-maxSeen, 0):]
		if !slices.Equal(got.ids, picked) {
			t.Fatalf("step %d: took %v, want %v", step, got.ids, picked)
		}
		if len(got.others) > 0 {
			checked++
		}
		for _, id := range slices.Concat(got.ids, got.others) {
			in.known[id] = true
		}
		in.since, in.pagesSince = got.version, 0
		if len(picked) > 0 {
			instances[0].pagesSince++
			instances[1].pagesSince++
			in.pagesSince = 0
			check(step, cutoff)
		}
		checkSeen(t, store, step, cutoff, want)
	}
	if behinds == 0 || checked == 0 {
		t.Errorf("%d takes behind, %d checked against the other's pages: the scenario missed a path", behinds, checked)
	}
	if err := store.Reset(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := r.Client().Exists(ctx, keys...).Val(); n != 0 {
		t.Errorf("%d keys left after a reset", n)
	}
}

// returned is a video returned to a viewer at a time, in a test's model of a seen set.
type returned struct{ id, at int64 }

// checkSeen fails the test unless viewer 1's seen set since cutoff is exactly want's videos.
func checkSeen(t *testing.T, store SeenStore, step int, cutoff int64, want []returned) {
	t.Helper()
	if _, err := store.Seen(context.Background(), 1, cutoff, func(seen *idSet) {
		if seen.Len() != len(want) {
			t.Fatalf("step %d: %d seen, want %d", step, seen.Len(), len(want))
		}
		for _, r := range want {
			if !seen.Has(r.id) {
				t.Fatalf("step %d: %d not seen", step, r.id)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// TestMemorySeenBound: past its bound over all viewers, the store forgets the sets of the
// viewers idle longest, and reports its size.
func TestMemorySeenBound(t *testing.T) {
	store := NewMemorySeen(10, 30)
	ctx := context.Background()
	for viewer := int64(1); viewer <= 3; viewer++ {
		if _, err := store.Take(ctx, viewer, 0, span(1, 10), 10, testNow+viewer, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.Sizes()[0]; got.Name != "recommend:seen" || got.Entries != 30 || got.MaxEntries != 30 {
		t.Fatalf("sizes %+v, want recommend:seen 30 of 30", got)
	}
	// Viewer 1 comes back; viewer 4 pushes the store over: viewer 2, idle longest, is forgotten.
	if _, err := store.Take(ctx, 1, 0, span(11, 1), 1, testNow+10, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Take(ctx, 4, 0, span(1, 5), 5, testNow+11, 0); err != nil {
		t.Fatal(err)
	}
	for viewer, want := range map[int64]int{1: 10, 2: 0, 3: 10, 4: 5} {
		if _, err := store.Seen(ctx, viewer, 0, func(seen *idSet) {
			if seen.Len() != want {
				t.Errorf("viewer %d has %d seen, want %d", viewer, seen.Len(), want)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.Sizes()[0].Entries; got != 25 {
		t.Errorf("%d ids held, want 25", got)
	}
}

// TestMemorySeenForgetsInOrder: a viewer's set keeps what was returned in the order it was,
// through its ring's growth and wrap: the oldest go first past the bound, and those returned
// before the cutoff are forgotten, as a plain list of the returns would say.
func TestMemorySeenForgetsInOrder(t *testing.T) {
	const maxSeen = 45
	store := NewMemorySeen(maxSeen, 1000)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	var want []returned
	for step := range 400 {
		now := testNow + int64(step)*10
		cutoff := now - int64(rng.IntN(2000))
		candidates := make([]int64, 1+rng.IntN(40))
		for i := range candidates {
			candidates[i] = 1 + rng.Int64N(120)
		}
		limit := 1 + rng.IntN(len(candidates))
		t1, err := store.Take(ctx, 1, 0, candidates, limit, now, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		got := t1.ids
		// The plain list: forget before the cutoff, pick the unseen, each keeping the newest maxSeen.
		want = slices.DeleteFunc(want, func(r returned) bool { return r.at < cutoff })
		var picked []int64
		for _, id := range candidates {
			if len(picked) == limit {
				break
			}
			if !slices.ContainsFunc(want, func(r returned) bool { return r.id == id }) {
				picked = append(picked, id)
				want = append(want, returned{id, now})
				want = want[max(len(want)-maxSeen, 0):]
			}
		}
		if !slices.Equal(got, picked) {
			t.Fatalf("step %d: took %v, want %v", step, got, picked)
		}
		checkSeen(t, store, step, cutoff, want)
	}
}

// BenchmarkMemorySeenTake takes pages for 512 viewers at their bound of 5 000 seen, in turn:
// each viewer's table has gone cold by its next page, as in a loaded server.
func BenchmarkMemorySeenTake(b *testing.B) {
	const viewers, maxSeen = 512, 5000
	store := NewMemorySeen(maxSeen, viewers*maxSeen)
	ctx := context.Background()
	next := make([]int64, viewers+1)
	page := func(viewer int64) {
		ids := make([]int64, pageSize)
		for i := range ids {
			next[viewer]++
			ids[i] = next[viewer]
		}
		if _, err := store.Take(ctx, viewer, 0, ids, pageSize, testNow, 0); err != nil {
			b.Fatal(err)
		}
	}
	for range maxSeen / pageSize {
		for v := int64(1); v <= viewers; v++ {
			page(v)
		}
	}
	b.ResetTimer()
	cpu := benchtest.ProcessCPU(b)
	for i := range b.N {
		page(int64(1 + i%viewers))
	}
	benchtest.ReportCPU(b, cpu)
}

// BenchmarkRedisSeenPages serves pages of the small model to 256 viewers from 64 concurrent
// callers, with the seen sets in the real Redis, as a loaded recommend instance does. Each
// viewer has already been served MaxSeen videos (a page at a time, half the catalogue), so every
// page's Take also forgets the oldest past the bound and every ranking reads a full set, as
// for a deep scroller. cpu-ns/op is this process's CPU per page, redis-cpu-ns/op the Redis
// server's.
func BenchmarkRedisSeenPages(b *testing.B) {
	const viewers = 256
	r, rt := cachetest.New(b)
	cfg := DefaultConfig()
	store := NewRedisSeen(r, cfg.MaxSeen, time.Hour)
	prefillSeen(b, store, viewers, cfg.MaxSeen+pageSize, 10_000)
	s, err := New(context.Background(), cfg, nil, WithLogger(quietLog()),
		withClock(func() int64 { return testNow }), WithState(NewMemoryState(benchModel(10_000, 1000, 100))),
		WithSeen(store))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	trips, cpu, redisCPU, stats := rt.Count(), benchtest.ProcessCPU(b), cachetest.ServerCPU(b, r), cachetest.CommandStats(b, r)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			viewer := 1 + next.Add(1)%viewers
			if _, err := s.Recommend(context.Background(), &recommendapi.RecommendRequest{ViewerId: viewer}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	benchtest.ReportCPU(b, cpu)
	b.ReportMetric(float64(cachetest.ServerCPU(b, r)-redisCPU)/float64(b.N), "redis-cpu-ns/op")
	b.ReportMetric(float64(rt.Count()-trips)/float64(b.N), "round-trips/op")
	logCommandStats(b, stats, cachetest.CommandStats(b, r))
}

// logCommandStats logs, per page, the Redis commands run between two readings, the costliest
// first.
func logCommandStats(b *testing.B, before, after map[string]cachetest.CommandStat) {
	type ran struct {
		name        string
		calls, usec int64
	}
	var all []ran
	for name, st := range after {
		if d := (ran{name, st.Calls - before[name].Calls, st.Usec - before[name].Usec}); d.calls > 0 {
			all = append(all, d)
		}
	}
	slices.SortFunc(all, func(x, y ran) int { return int(y.usec - x.usec) })
	for _, c := range all {
		b.Logf("%-16s %6.3f calls/page %8.2f µs/page %8.2f µs/call", c.name,
			float64(c.calls)/float64(b.N), float64(c.usec)/float64(b.N), float64(c.usec)/float64(c.calls))
	}
}

// prefillSeen serves each of viewers 1..viewers n distinct videos of 1..catalogue, a page at a
// time in the minutes before testNow, from concurrent callers (so the Takes share round trips).
func prefillSeen(b *testing.B, store SeenStore, viewers, n int, catalogue int64) {
	b.Helper()
	var wg sync.WaitGroup
	for v := int64(1); v <= int64(viewers); v++ {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(v), 7))
			ids := rng.Perm(int(catalogue))[:n]
			pages := (n + pageSize - 1) / pageSize
			var since seenVersion
			for p := range pages {
				page := make([]int64, 0, pageSize)
				for _, i := range ids[p*pageSize : min((p+1)*pageSize, n)] {
					page = append(page, int64(i)+1)
				}
				now := testNow - int64(pages-p)*1000
				got, err := store.Take(context.Background(), v, since, page, len(page), now, now-time.Hour.Milliseconds())
				if err != nil {
					b.Error(err)
					return
				}
				if len(got.ids) != len(page) {
					b.Errorf("prefill of viewer %d took %d of %d", v, len(got.ids), len(page))
					return
				}
				since = got.version
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

// TestScriptIDs: the take script's picks and the list's pages come back as comma-separated
// ids, a page after its time; anything but positive ids, or a page without its time, is
// refused, and so is a take reply that is short, has no version or an unknown outcome.
// Repeated candidates are sent once, the first kept.
func TestScriptIDs(t *testing.T) {
	var got []int64
	collect := func(id int64) { got = append(got, id) }
	if err := splitIDs("7,1,1099511627776", collect); err != nil || !slices.Equal(got, []int64{7, 1, 1 << 40}) {
		t.Errorf("split: %v, %v", got, err)
	}
	got = nil
	if err := splitIDs("", collect); err != nil || got != nil {
		t.Errorf("empty reply: %v, %v; want nothing", got, err)
	}
	for _, bad := range []string{"1,x", "0", "1,,2", "-3"} {
		if err := splitIDs(bad, func(int64) {}); err == nil {
			t.Errorf("reply %q accepted", bad)
		}
	}
	if at, ids, err := parsePage("1700000000000:5,6"); err != nil || at != 1700000000000 || ids != "5,6" {
		t.Errorf("page: %d %q %v", at, ids, err)
	}
	for _, bad := range []string{"5,6", "x:5", ":5", "17:"} {
		if _, _, err := parsePage(bad); err == nil {
			t.Errorf("page %q accepted", bad)
		}
	}
	if got, err := parseTake([]any{int64(7), int64(takeChecked), "5,6", "1,2"}, []int64{4, 5, 6}); err != nil ||
		got.version != 7 || !slices.Equal(got.ids, []int64{5, 6}) || !slices.Equal(got.others, []int64{1, 2}) || got.behind {
		t.Errorf("a checked take's reply: %+v, %v", got, err)
	}
	for _, bad := range [][]any{nil, {int64(7), int64(0), ""}, {int64(0), int64(0), "", ""}, {int64(7), int64(9), "", ""}, {int64(7), int64(1), "x", ""}} {
		if got, err := parseTake(bad, []int64{1}); err == nil {
			t.Errorf("take reply %v accepted as %+v", bad, got)
		}
	}
	once := []int64{3, 1, 2}
	if got := distinct(once); !slices.Equal(got, once) || &got[0] != &once[0] {
		t.Errorf("distinct ids: %v, want them as they are", got)
	}
	twice := []int64{3, 1, 3, 2, 1, 1 << 40, 1 << 40}
	if got := distinct(twice); !slices.Equal(got, []int64{3, 1, 2, 1 << 40}) || twice[2] != 3 {
		t.Errorf("repeated ids: %v (the caller's now %v), want [3 1 2 %d] and theirs unchanged", got, twice, int64(1<<40))
	}
	// Many ids, many repeated, wide ones too: against a map, short and long lists alike.
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 2, 63, 64, 65, 200} {
		for range 50 {
			ids, shift := make([]int64, n), rng.IntN(40) // wide ids too
			for i := range ids {
				ids[i] = (1 + rng.Int64N(int64(n)*3/2+1)) << shift
			}
			var want []int64
			kept := map[int64]bool{}
			for _, id := range ids {
				if !kept[id] {
					kept[id] = true
					want = append(want, id)
				}
			}
			if got := distinct(ids); !slices.Equal(got, want) {
				t.Fatalf("distinct(%v) = %v, want %v", ids, got, want)
			}
		}
	}
}
