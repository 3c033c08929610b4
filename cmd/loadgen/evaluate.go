package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/douyin-backend/douyin/services/recommend"
)

// evalConfig is the synthetic data set of the offline evaluation: users in taste groups, each
// group liking mostly its own videos, everybody sometimes liking what is globally popular.
type evalConfig struct {
	Users          int
	Groups         int
	VideosPerGroup int
	LikesPerUser   int
	// Noise is the fraction of each user's likes drawn from the whole catalogue by global
	// popularity instead of from the group's videos.
	Noise float64
	// Holdout is the fraction of each user's likes hidden from the model and then looked for
	// in its top K.
	Holdout float64
	K       int
	// Measured is how many users (the first ones) are measured; 0: all. The model is trained
	// on every user either way, so a large data set's memory is measured without ranking for
	// each of its users.
	Measured int
	Seed     uint64
	JSON     bool
}

func (c *evalConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.Users, "users", 2000, "users in the synthetic data set")
	fs.IntVar(&c.Groups, "groups", 20, "taste groups; each user belongs to one")
	fs.IntVar(&c.VideosPerGroup, "videos-per-group", 50, "videos each group mostly likes")
	fs.IntVar(&c.LikesPerUser, "likes-per-user", 20, "likes per user")
	fs.Float64Var(&c.Noise, "noise", 0.3, "fraction of likes drawn from the whole catalogue by global popularity")
	fs.Float64Var(&c.Holdout, "holdout", 0.2, "fraction of each user's likes held out")
	fs.IntVar(&c.K, "k", 10, "hit rate at this many recommendations")
	fs.IntVar(&c.Measured, "measure-users", 0, "measure the hit rates on this many users (0: all)")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed")
	fs.BoolVar(&c.JSON, "json", false, "print the result as JSON")
}

func (c *evalConfig) Validate() error {
	switch {
	case c.Users < 1 || c.Groups < 1 || c.VideosPerGroup < 1 || c.K < 1 || c.Measured < 0:
		return fmt.Errorf("users, groups, videos-per-group and k must be positive, measure-users not negative")
	case c.LikesPerUser < 2 || c.LikesPerUser > c.VideosPerGroup:
		return fmt.Errorf("likes-per-user must be 2..videos-per-group")
	case c.Noise < 0 || c.Noise >= 1 || c.Holdout <= 0 || c.Holdout >= 1:
		return fmt.Errorf("noise must be in [0,1) and holdout in (0,1)")
	}
	return nil
}

// evalResult is what the evaluation reports.
type evalResult struct {
	Users           int     `json:"users"`
	Measured        int     `json:"measured_users"`
	Videos          int     `json:"videos"`
	TrainLikes      int     `json:"train_likes"`
	HeldOut         int     `json:"held_out_likes"`
	K               int     `json:"k"`
	HitRate         float64 `json:"hit_rate_recommender"`
	HitRatePopular  float64 `json:"hit_rate_popularity"`
	ModelHeapBytes  uint64  `json:"model_heap_bytes"`
	RankMicrosP50   float64 `json:"rank_us_p50"`
	EvaluateSeconds float64 `json:"evaluate_seconds"`
}

func evaluateCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg evalConfig
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	res := evaluate(cfg)
	if cfg.JSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "hit rate at %d: recommender %.3f, popularity %.3f (%d of %d users measured, %d videos, %d training likes, %d held out; model heap %.1f MiB; rank p50 %.0f µs)\n",
		res.K, res.HitRate, res.HitRatePopular, res.Measured, res.Users, res.Videos, res.TrainLikes, res.HeldOut,
		float64(res.ModelHeapBytes)/(1<<20), res.RankMicrosP50)
	return nil
}

// evaluate plants the taste groups, trains the model on all but the held-out likes and
// measures, per user with a held-out like, whether one is in the top K of the recommender and
// of popularity alone (videos by training likes).
func evaluate(cfg evalConfig) evalResult {
	started := time.Now()
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	videos := cfg.Groups * cfg.VideosPerGroup
	// Global popularity: Zipf-like weights over a random permutation of the catalogue, so
	// some videos of every group are popular with everybody.
	weights := make([]float64, videos)
	for i, v := range rng.Perm(videos) {
		weights[v] = 1 / float64(i+1)
	}
	global := newSampler(weights)
	groupSamplers := make([]*sampler, cfg.Groups)
	for g := range groupSamplers {
		groupSamplers[g] = newSampler(weights[g*cfg.VideosPerGroup : (g+1)*cfg.VideosPerGroup])
	}
	videoID := func(i int) int64 { return int64(i + 1) }
	userID := func(i int) int64 { return int64(videos + i + 1) }

	now := time.Now().UnixMilli()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	model := recommend.NewModel(now)
	for i := range videos {
		// Authors are outside the users, so nobody's own videos are excluded.
		model.AddVideo(videoID(i), int64(1<<40+i), now-time.Hour.Milliseconds())
	}
	heldOut := make([][]int64, cfg.Users)
	train := make([]map[int64]bool, cfg.Users)
	trainCount := map[int64]int{}
	res := evalResult{Users: cfg.Users, Videos: videos, K: cfg.K}
	for u := range cfg.Users {
		group := u % cfg.Groups
		liked := map[int64]bool{}
		for len(liked) < cfg.LikesPerUser {
			var v int
			if rng.Float64() < cfg.Noise {
				v = global.draw(rng)
			} else {
				v = group*cfg.VideosPerGroup + groupSamplers[group].draw(rng)
			}
			liked[videoID(v)] = true
		}
		ids := make([]int64, 0, len(liked))
		for id := range liked {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		hold := max(1, int(float64(len(ids))*cfg.Holdout))
		heldOut[u] = ids[:hold]
		train[u] = map[int64]bool{}
		for _, id := range ids[hold:] {
			train[u][id] = true
			trainCount[id]++
			model.ApplyLike(userID(u), id, true, 1, now)
			res.TrainLikes++
		}
		res.HeldOut += hold
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if after.HeapAlloc > before.HeapAlloc {
		res.ModelHeapBytes = after.HeapAlloc - before.HeapAlloc
	}

	popular := make([]int64, 0, videos)
	for i := range videos {
		popular = append(popular, videoID(i))
	}
	slices.SortStableFunc(popular, func(a, b int64) int { return cmp.Compare(trainCount[b], trainCount[a]) })

	var hits, popularHits int
	res.Measured = cfg.Users
	if cfg.Measured > 0 {
		res.Measured = min(cfg.Measured, cfg.Users)
	}
	rankTimes := make([]time.Duration, 0, res.Measured)
	for u := range res.Measured {
		t0 := time.Now()
		recs := model.Rank(userID(u), now, cfg.K)
		rankTimes = append(rankTimes, time.Since(t0))
		if anyIn(recs, heldOut[u]) {
			hits++
		}
		top := make([]int64, 0, cfg.K)
		for _, id := range popular {
			if len(top) == cfg.K {
				break
			}
			if !train[u][id] {
				top = append(top, id)
			}
		}
		if anyIn(top, heldOut[u]) {
			popularHits++
		}
	}
	slices.Sort(rankTimes)
	res.RankMicrosP50 = float64(rankTimes[len(rankTimes)/2].Microseconds())
	res.HitRate = float64(hits) / float64(res.Measured)
	res.HitRatePopular = float64(popularHits) / float64(res.Measured)
	res.EvaluateSeconds = time.Since(started).Seconds()
	runtime.KeepAlive(model)
	return res
}

func anyIn(list, wanted []int64) bool {
	for _, id := range wanted {
		if slices.Contains(list, id) {
			return true
		}
	}
	return false
}

// sampler draws indexes in proportion to weights (cumulative sums, binary search).
type sampler struct{ cumulative []float64 }

func newSampler(weights []float64) *sampler {
	s := &sampler{cumulative: make([]float64, len(weights))}
	sum := 0.0
	for i, w := range weights {
		sum += w
		s.cumulative[i] = sum
	}
	return s
}

func (s *sampler) draw(rng *rand.Rand) int {
	x := rng.Float64() * s.cumulative[len(s.cumulative)-1]
	i, _ := slices.BinarySearch(s.cumulative, x)
	return min(i, len(s.cumulative)-1)
}
