package favorite

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

func TestBatchReadsUseConstantQueries(t *testing.T) {
	s, gdb := newService(t)
	ctx := context.Background()
	act(t, s, 1, 10, favoriteapi.FavoriteActionType_Like)
	many := make([]int64, 200)
	for i := range many {
		many[i] = int64(i + 1)
	}
	queries := countQueries(t, gdb)
	vf, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: many})
	if err != nil {
		t.Fatal(err)
	}
	if *queries > 2 || len(vf.Videos) != len(many) || !vf.Videos[10].IsFavorite {
		t.Fatalf("MGetVideoFavorites(%d ids): %d queries, %d results", len(many), *queries, len(vf.Videos))
	}
	*queries = 0
	stats, err := s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: many})
	if err != nil {
		t.Fatal(err)
	}
	if *queries != 1 || len(stats.Users) != len(many) {
		t.Fatalf("MGetUserFavoriteStats(%d ids): %d queries, %d results", len(many), *queries, len(stats.Users))
	}
	if vf.IsSetUsers() {
		t.Errorf("MGetVideoFavorites without user_ids answered users %v", vf.Users)
	}
	// With user_ids, one call answers what the two calls above did, in their queries.
	*queries = 0
	both, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: many, UserIds: many})
	if err != nil {
		t.Fatal(err)
	}
	if *queries > 3 || len(both.Videos) != len(many) || !both.Videos[10].IsFavorite || len(both.Users) != len(many) {
		t.Fatalf("MGetVideoFavorites(%d videos and users): %d queries, %d videos, %d users", len(many), *queries, len(both.Videos), len(both.Users))
	}
	for id, want := range stats.Users {
		if got := both.Users[id]; got == nil || *got != *want {
			t.Errorf("user %d: %+v with the videos, %+v alone", id, got, want)
		}
	}
	if stats.Users[1].FavoriteCount != 1 {
		t.Errorf("user 1 liked one video, stats say %d", stats.Users[1].FavoriteCount)
	}
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetVideoFavorites(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	if _, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: many, UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetVideoFavorites(%d user ids) = %v, want InvalidParam", len(tooMany), err)
	}
	if _, err := s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetUserFavoriteStats(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	if _, err := s.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("FavoriteList without user = %v, want InvalidParam", err)
	}
}

// countingReadModel counts the reads of its memory read model.
type countingReadModel struct {
	*MemoryReadModel
	videoReads, userReads int
}

func (m *countingReadModel) VideoFavorites(ctx context.Context, viewerID int64, videoIDs, userIDs []int64) (CachedVideoFavorites, error) {
	m.videoReads++
	return m.MemoryReadModel.VideoFavorites(ctx, viewerID, videoIDs, userIDs)
}

func (m *countingReadModel) UserStats(ctx context.Context, userIDs []int64) (CachedUserStats, error) {
	m.userReads++
	return m.MemoryReadModel.UserStats(ctx, userIDs)
}

// A page's video favorites and its authors' counters are one read of a warm read model, and
// the counters are those MGetUserFavoriteStats answers.
func TestVideoFavoritesWithUsersReadTheReadModelOnce(t *testing.T) {
	s, gdb := newService(t)
	act(t, s, 1, 10, favoriteapi.FavoriteActionType_Like)
	rm := &countingReadModel{MemoryReadModel: newTestMemoryReadModel()}
	cached := New(NewSQLStore(gdb), testVideos, mq.NewMemory(), WithReadModel(rm))
	ctx := context.Background()
	req := &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: []int64{10, 11}, UserIds: []int64{1, 2, 3}}
	if _, err := cached.MGetVideoFavorites(ctx, req); err != nil { // fills the read model
		t.Fatal(err)
	}
	rm.videoReads, rm.userReads = 0, 0
	queries := countQueries(t, gdb)
	vf, err := cached.MGetVideoFavorites(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if rm.videoReads != 1 || rm.userReads != 0 || *queries != 0 {
		t.Fatalf("warm MGetVideoFavorites with user_ids: %d video reads, %d user reads, %d queries; want 1, 0, 0", rm.videoReads, rm.userReads, *queries)
	}
	if !vf.Videos[10].IsFavorite || vf.Videos[10].FavoriteCount != 1 || vf.Videos[11].FavoriteCount != 0 {
		t.Errorf("videos %v / %v, want video 10 liked once by the viewer, 11 not", vf.Videos[10], vf.Videos[11])
	}
	alone, err := cached.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: req.UserIds})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range req.UserIds {
		if got, want := vf.Users[id], alone.Users[id]; got == nil || *got != *want {
			t.Errorf("user %d: %+v with the videos, %+v alone", id, got, want)
		}
	}
	if vf.Users[1].FavoriteCount != 1 || vf.Users[2].TotalFavorited != 1 {
		t.Errorf("users 1/2: %+v / %+v, want user 1 to have liked one video of user 2", vf.Users[1], vf.Users[2])
	}
}

// settlingReadModel is a read model on which a commit settles between every read and fill
// (fills take nothing), or whose fills fail (failFills), counting the reads.
type settlingReadModel struct {
	countingReadModel
	failFills bool
}

var errFillFailed = errors.New("fill failed")

func (m *settlingReadModel) FillVideoCounts(context.Context, map[int64]int64, map[int64]int64) (map[int64]int64, error) {
	if m.failFills {
		return nil, errFillFailed
	}
	return map[int64]int64{}, nil
}

func (m *settlingReadModel) FillUserStats(context.Context, map[int64]UserCount, map[int64]int64) (map[int64]UserCount, error) {
	if m.failFills {
		return nil, errFillFailed
	}
	return map[int64]UserCount{}, nil
}

// Counters whose fills keep meeting commits are read again a bounded number of times and
// then served as SQL has them; so are counters the read model fails to take.
func TestCountersServedFromSQLWhenFillsDoNotTake(t *testing.T) {
	s, gdb := newService(t)
	act(t, s, 1, 10, favoriteapi.FavoriteActionType_Like)
	for _, failFills := range []bool{false, true} {
		rm := &settlingReadModel{countingReadModel: countingReadModel{MemoryReadModel: newTestMemoryReadModel()}, failFills: failFills}
		cached := New(NewSQLStore(gdb), testVideos, mq.NewMemory(), WithReadModel(rm))
		ctx := context.Background()
		vf, err := cached.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: []int64{10, 11}})
		if err != nil {
			t.Fatal(err)
		}
		if vf.Videos[10].FavoriteCount != 1 || vf.Videos[11].FavoriteCount != 0 {
			t.Fatalf("failFills=%v: counts %v/%v, want SQL's 1/0", failFills, vf.Videos[10], vf.Videos[11])
		}
		stats, err := cached.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: []int64{1, 2}})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Users[1].FavoriteCount != 1 || stats.Users[2].TotalFavorited != 1 {
			t.Fatalf("failFills=%v: stats %v/%v, want SQL's", failFills, stats.Users[1], stats.Users[2])
		}
		// A failed fill serves SQL at once; fills that take nothing are retried until the bound.
		wantReads := maxFillAttempts
		if failFills {
			wantReads = 1
		}
		if rm.videoReads != wantReads || rm.userReads != wantReads {
			t.Fatalf("failFills=%v: %d video and %d user reads of the read model, want %d each", failFills, rm.videoReads, rm.userReads, wantReads)
		}
	}
}

// TestLikedAmong: the flags alone are MGetVideoFavorites' is_favorite. A viewer whose set is
// not cached is read from SQL in one query and cached; the viewer's own like and unlike show
// on their next read before the queue commits them; the anonymous viewer likes nothing.
func TestLikedAmong(t *testing.T) { eachReadModel(t, testLikedAmong) }

func testLikedAmong(t *testing.T, kind string) {
	ctx := context.Background()
	q := &heldQueue{}
	f := newRMFixture(t, kind, q, q)
	f.mustAct(t, 1, 10, like)
	f.mustAct(t, 2, 20, like)
	q.deliver(t)
	f.flush(t) // what a restart leaves: the likes are in SQL alone
	queries := countQueries(t, f.gdb)
	videos := []int64{20, 10, 11, 10}
	check := func(what string, viewer int64, wantQueries int, want ...bool) {
		t.Helper()
		*queries = 0
		liked := []bool{true, true, true, true}
		if err := f.svc.LikedAmong(ctx, viewer, videos, liked); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(liked, want) || *queries != wantQueries {
			t.Fatalf("%s: viewer %d likes %v in %d queries, want %v in %d", what, viewer, liked, *queries, want, wantQueries)
		}
		full, err := f.svc.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: viewer, VideoIds: videos})
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range videos {
			if full.Videos[id].IsFavorite != liked[i] {
				t.Fatalf("%s: video %d liked %v, MGetVideoFavorites says %v", what, id, liked[i], full.Videos[id].IsFavorite)
			}
		}
	}
	check("set not cached", 1, 1, false, true, false, true)
	check("set cached by the miss", 1, 0, false, true, false, true)
	check("anonymous", 0, 0, false, false, false, false)
	f.mustAct(t, 1, 11, like)
	check("after a like still queued", 1, 0, false, true, true, true)
	f.mustAct(t, 1, 10, unlike)
	check("after an unlike still queued", 1, 0, false, false, true, false)
	q.deliver(t)
	check("after the commits", 1, 0, false, false, true, false)

	tooMany := make([]int64, ids.MaxBatch+1)
	if err := f.svc.LikedAmong(ctx, 1, tooMany, make([]bool, len(tooMany))); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("LikedAmong(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
}
