package recommend

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/douyin-backend/douyin/internal/benchtest"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
)

const testNow = 1_000 * dayMillis

// likeAll has each user like each video, seq 1, at testNow.
func likeAll(m *Model, users, videos []int64) {
	for _, u := range users {
		for _, v := range videos {
			m.ApplyLike(u, v, true, 1, testNow)
		}
	}
}

func span(from, n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = from + int64(i)
	}
	return out
}

func position(list []int64, id int64) int {
	if i := slices.Index(list, id); i >= 0 {
		return i
	}
	return len(list) + 1000
}

// TestTasteBeatsPopularity is the property the recommender exists for: a viewer whose likes
// overlap with a group gets what that group liked before what is merely more popular among
// users unlike them.
func TestTasteBeatsPopularity(t *testing.T) {
	m := NewModel(testNow)
	group := span(1, 10)     // users 1..10
	others := span(100, 100) // users 100..199
	taste := span(1000, 6)   // videos the group likes
	popular := span(2000, 3) // videos everyone else likes
	for _, v := range append(slices.Clone(taste), popular...) {
		m.AddVideo(v, 9000+v, testNow-dayMillis)
	}
	likeAll(m, group, taste)
	likeAll(m, others, popular)
	// One group member also likes a popular video: overlap alone must not make it a taste pick.
	m.ApplyLike(group[0], popular[0], true, 1, testNow)
	viewer := int64(500)
	likeAll(m, []int64{viewer}, taste[:2])

	got := m.Rank(viewer, testNow, 30)
	for _, want := range taste[2:] {
		for _, p := range popular {
			if position(got, want) > position(got, p) {
				t.Errorf("ranking %v: group-liked video %d after merely popular %d", got, want, p)
			}
		}
	}
	for _, liked := range taste[:2] {
		if slices.Contains(got, liked) {
			t.Errorf("ranking %v holds video %d the viewer already likes", got, liked)
		}
	}
	// Anonymous and cold-start viewers get the popular videos first.
	for _, cold := range []int64{0, 777} {
		got := m.Rank(cold, testNow, 30)
		if len(got) < 3 || !slices.Contains(popular, got[0]) || !slices.Contains(popular, got[1]) || !slices.Contains(popular, got[2]) {
			t.Errorf("viewer %d (no likes): ranking %v, want the three popular videos first", cold, got)
		}
	}
}

// TestFreshVideoIsShown: a video nobody liked yet is ranked on its freshness above most of an
// older catalogue, so new videos are shown at all.
func TestFreshVideoIsShown(t *testing.T) {
	m := NewModel(testNow)
	for i := range int64(60) {
		id := 100 + i
		m.AddVideo(id, 1, testNow-3*dayMillis)
		likeAll(m, span(1000, i+1), []int64{id})
	}
	m.AddVideo(999, 2, testNow-1000)
	got := m.Rank(0, testNow, 30)
	if !slices.Contains(got, 999) {
		t.Errorf("first page %v lacks the new video 999", got)
	}
}

func TestOwnVideosAreExcluded(t *testing.T) {
	m := NewModel(testNow)
	m.AddVideo(1, 42, testNow)
	m.AddVideo(2, 43, testNow)
	if got := m.Rank(42, testNow, 30); !slices.Equal(got, []int64{2}) {
		t.Errorf("viewer 42's ranking = %v, want [2] (1 is their own)", got)
	}
}

// TestUpdatesAreIdempotent: redelivered and reordered events leave the same state.
func TestUpdatesAreIdempotent(t *testing.T) {
	m := NewModel(testNow)
	m.AddVideo(1, 9, testNow)
	m.AddVideo(1, 9, testNow) // redelivered
	m.AddVideo(2, 9, testNow)
	if !m.ApplyLike(5, 1, true, 2, testNow) {
		t.Fatal("first like not applied")
	}
	if m.ApplyLike(5, 1, true, 2, testNow) || m.ApplyLike(5, 1, false, 1, testNow) {
		t.Error("a redelivered like or an older unlike changed the model")
	}
	heat := m.videos[1].heat
	if len(m.videos[1].likers) != 1 || m.videos[1].likerCount != 1 || heat <= 0 {
		t.Fatalf("likers %v heat %v after one like", m.videos[1].likers, heat)
	}
	m.ApplyComment(7, 2, true, testNow)
	m.ApplyComment(7, 2, true, testNow)
	if got := m.videos[2].heat; got != commentWeight {
		t.Errorf("heat after a redelivered comment = %v, want %v", got, commentWeight)
	}
	m.ApplyComment(7, 2, false, testNow)
	m.ApplyComment(7, 2, false, testNow)
	m.ApplyComment(7, 2, true, testNow) // a late redelivery of the add
	if got := m.videos[2].heat; got != 0 {
		t.Errorf("heat after the comment was deleted = %v, want 0", got)
	}
	if !m.ApplyLike(5, 1, false, 3, testNow) || len(m.videos[1].likers) != 0 || m.videos[1].likerCount != 0 || m.videos[1].heat != 0 {
		t.Errorf("unlike: likers %v heat %v, want none and 0", m.videos[1].likers, m.videos[1].heat)
	}
	// A like of a video not known yet counts once the video arrives.
	m.ApplyLike(6, 3, true, 1, testNow)
	m.AddVideo(3, 9, testNow)
	if len(m.videos[3].likers) != 1 || m.videos[3].likerCount != 1 || m.videos[3].heat <= 0 {
		t.Errorf("early like lost: likers %v heat %v", m.videos[3].likers, m.videos[3].heat)
	}
	// Follows: the later event wins whatever the order they arrive in.
	m.ApplyFollow(5, 9, false, testNow+2)
	m.ApplyFollow(5, 9, true, testNow+1)
	if m.users[5].followees[9] > 0 {
		t.Error("an older follow overrode a newer unfollow")
	}
}

func TestPopularityDecays(t *testing.T) {
	m := NewModel(testNow)
	m.AddVideo(1, 9, testNow-10*dayMillis)
	m.AddVideo(2, 9, testNow-10*dayMillis)
	// Video 1: ten likes nine days ago; video 2: three likes today.
	for u := range int64(10) {
		m.ApplyLike(100+u, 1, true, 1, testNow-9*dayMillis)
	}
	for u := range int64(3) {
		m.ApplyLike(200+u, 2, true, 1, testNow)
	}
	if got := m.Rank(0, testNow, 2); !slices.Equal(got, []int64{2, 1}) {
		t.Errorf("ranking %v: want the video liked today before the one liked more nine days ago", got)
	}
}

// BenchmarkRank ranks for viewers of a model the size of the small data set (1000 users with
// 100 likes each over 10 000 videos, skewed toward popular ones).
func BenchmarkRank(b *testing.B) {
	m := NewModel(testNow)
	for id := int64(1); id <= 10_000; id++ {
		m.AddVideo(id, 1_000_000+id%500, testNow-id*60_000)
	}
	state := uint64(1)
	next := func(n int64) int64 { // xorshift: deterministic, no shared rand state
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return int64(state % uint64(n))
	}
	for u := int64(1); u <= 1000; u++ {
		for range 100 {
			// Half the likes go to the 500 most popular videos.
			v := 1 + next(10_000)
			if next(2) == 0 {
				v = 1 + next(500)
			}
			m.ApplyLike(u, v, true, 1, testNow)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		m.Rank(int64(1+i%1000), testNow, rankDepth)
	}
}

// benchModel is a model of videos videos and users users with likesPerUser likes each, half
// of them on the 5% most popular videos.
func benchModel(videos, users, likesPerUser int64) *Model {
	m := NewModel(testNow)
	for id := int64(1); id <= videos; id++ {
		m.AddVideo(id, 1_000_000+id%500, testNow-id*60_000)
	}
	state := uint64(1)
	next := func(n int64) int64 { // xorshift: deterministic, no shared rand state
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return int64(state % uint64(n))
	}
	for u := int64(1); u <= users; u++ {
		for range likesPerUser {
			v := 1 + next(videos)
			if next(2) == 0 {
				v = 1 + next(videos/20)
			}
			m.ApplyLike(u, v, true, 1, testNow)
		}
	}
	return m
}

// BenchmarkPage serves pages to 128 viewers: "deep" scrollers as scripts/bench.sh's
// feed-recommend does (each reads far past its ranking and the trending list within
// seconds), and "slow" ones, each back only once its ranking is stale, as a person reading a
// page of thirty videos would be. The clock stands still (a moving one would rebuild the
// trending list every few pages, a cost of time, not of pages): a slow viewer's ranking is
// aged by rankTTL before each of their pages instead.
func BenchmarkPage(b *testing.B) {
	for _, size := range []struct {
		name                 string
		videos, users, likes int64
	}{{"small", 10_000, 1000, 100}, {"large", 100_000, 10_000, 100}} {
		for _, slow := range []bool{false, true} {
			pace := map[bool]string{false: "deep", true: "slow"}[slow]
			b.Run(size.name+"/"+pace, func(b *testing.B) {
				m := benchModel(size.videos, size.users, size.likes)
				s, err := New(context.Background(), DefaultConfig(), nil, WithLogger(quietLog()),
					withClock(func() int64 { return testNow }), WithState(NewMemoryState(m)))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu := benchtest.ProcessCPU(b)
				for i := range b.N {
					viewer := int64(1 + i%128)
					if slow {
						r := s.rankings.of(viewer, testNow)
						r.mu.Lock()
						r.at -= rankTTL.Milliseconds() + 1
						r.tasteAt -= rankTTL.Milliseconds() + 1
						r.mu.Unlock()
					}
					if _, err := s.Recommend(context.Background(), &recommendapi.RecommendRequest{ViewerId: viewer}); err != nil {
						b.Fatal(err)
					}
				}
				// CPU time, not wall time: the machine is shared, and other work stretches ns/op.
				benchtest.ReportCPU(b, cpu)
			})
		}
	}
}

// TestSortByScoreMatchesByScore: the radix sort of a ranking orders candidates exactly as
// byScore does, ties (equal scores, and scores differing only in the bits the index takes)
// included, and falls back to byScore for scores whose bits are out of order.
func TestSortByScoreMatchesByScore(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var work rankWork
	for round := range 300 {
		n := rng.IntN(3000)
		list := make([]scored, n)
		for i := range list {
			s := 0.25*rng.Float64() + 0.4*rng.Float64()*rng.Float64()
			switch rng.IntN(4) {
			case 0:
				s = float64(rng.IntN(5)) / 4 // exact ties, broken by id
			case 1:
				s = math.Nextafter(0.5, float64(rng.IntN(3))) // apart in the lowest bits only
			case 2:
				s = 0.5 + float64(rng.IntN(64))*0x1p-40 // apart beyond the keys' half of the bits
			}
			if round%50 == 49 && i == n/2 {
				s = -s - 1 // a negative score: the general sort
			}
			list[i] = scored{id: rng.Int64N(1 << 40), score: s}
		}
		want := slices.Clone(list)
		slices.SortFunc(want, byScore)
		if got := work.sortByScore(list); !slices.Equal(got, want) {
			t.Fatalf("round %d (%d entries): the sort differs from byScore's", round, n)
		}
	}
}

// TestRankAfterContinues: a ranking that continues from where the last one's walk stopped
// returns what a walk from the head would, given what was returned as seen, with the viewer's
// taste and followed authors' videos merged in as from the head.
func TestRankAfterContinues(t *testing.T) {
	m := benchModel(3000, 200, 20)
	const viewer = 5
	for author := int64(1_000_000); author < 1_000_000+500; author += 50 {
		m.ApplyFollow(viewer, author, true, testNow)
	}
	taste := m.Taste(viewer)
	if len(taste) == 0 {
		t.Fatal("the viewer has no taste scores: the test would not merge any")
	}
	var seen idSet
	var from scored
	returned, continued := 0, 0
	for round := range 12 {
		got, walked := m.RankAfter(viewer, taste, testNow, 200, &seen, from)
		if want := m.RankWithTaste(viewer, taste, testNow, 200, &seen); !slices.Equal(got, want) {
			t.Fatalf("round %d: continuing from %+v returned %d videos, from the head %d; they differ", round, from, len(got), len(want))
		}
		if len(got) != 200 {
			t.Fatalf("round %d: %d videos, want 200", round, len(got))
		}
		if from.id != 0 {
			continued++
		}
		for _, id := range got {
			if !seen.Add(id) {
				t.Fatalf("round %d returned video %d again", round, id)
			}
		}
		returned += len(got)
		from = walked
	}
	if returned != 2400 || continued < 10 {
		t.Errorf("%d returned, want 2400; %d rankings continued a walk, want at least 10", returned, continued)
	}
}

// TestBestScoredSelectsFirstInByScoreOrder: the selection keeps exactly the first n entries in
// byScore order, ties in score included, whatever the order they come in.
func TestBestScoredSelectsFirstInByScoreOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 500 {
		list := make([]scored, rng.IntN(400))
		for i := range list {
			// Few distinct scores: most comparisons are ties broken by id.
			list[i] = scored{int64(i + 1), float64(rng.IntN(1 + round%20))}
		}
		rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
		n := rng.IntN(len(list) + 2)
		want := slices.SortedFunc(slices.Values(list), byScore)[:min(n, len(list))]
		got := slices.Clone(bestScored(slices.Clone(list), n))
		slices.SortFunc(got, byScore)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %d of %d selected %v, want %v", round, n, len(list), got, want)
		}
	}
}

// TestScoreTableSums: the table sums each id's scores as a map would, across resets and past
// the size it starts at.
func TestScoreTableSums(t *testing.T) {
	if scoreTableMinSlots < 2*tasteWalkBound {
		t.Errorf("a score table starts at %d slots, less than twice the walk's bound %d: walks grow it", scoreTableMinSlots, tasteWalkBound)
	}
	var table scoreTable
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 10, 3 * scoreTableMinSlots} {
		table.reset()
		sums := map[int64]float64{}
		for range n {
			id := 1 + rng.Int64N(int64(max(n/3, 1)))
			table.add(id, float64(id%7))
			sums[id] += float64(id % 7)
		}
		if len(table.entries) != len(sums) {
			t.Fatalf("%d adds: %d entries, want %d", n, len(table.entries), len(sums))
		}
		for _, e := range table.entries {
			if sums[e.id] != e.score {
				t.Fatalf("%d adds: id %d sums to %v, want %v", n, e.id, e.score, sums[e.id])
			}
		}
	}
}
