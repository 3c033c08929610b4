package favorite

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// countQueries counts the SELECTs gdb runs from now on.
func countQueries(t *testing.T, gdb *gorm.DB) *int {
	t.Helper()
	n := new(int)
	if err := gdb.Callback().Query().After("gorm:query").Register("test:count_queries", func(*gorm.DB) { *n++ }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrateDeclaresQueryIndexes(t *testing.T) { dbtest.Run(t, testMigrateDeclaresQueryIndexes) }

func testMigrateDeclaresQueryIndexes(t *testing.T, open dbtest.Opener) {
	gdb := open.Migrated(t, Migrate)
	for _, idx := range []string{"uk_favorites_user_video", "idx_favorites_user_liked_updated"} {
		if !gdb.Migrator().HasIndex(&Favorite{}, idx) {
			t.Errorf("index %s missing", idx)
		}
	}
	// A database from an earlier schema loses the index no query reads.
	if err := gdb.Exec("CREATE INDEX " + unusedVideoIndex + " ON favorites (video_id)").Error; err != nil {
		t.Fatal(err)
	}
	if err := Migrate(gdb); err != nil {
		t.Fatalf("second migration: %v", err)
	}
	if gdb.Migrator().HasIndex(&Favorite{}, unusedVideoIndex) {
		t.Errorf("index %s not dropped", unusedVideoIndex)
	}
	if err := Migrate(gdb); err != nil {
		t.Fatalf("third migration: %v", err)
	}
}

func TestApplyLikeIsIdempotentAndOrdered(t *testing.T) {
	dbtest.Run(t, testApplyLikeIsIdempotentAndOrdered)
}

func testApplyLikeIsIdempotentAndOrdered(t *testing.T, open dbtest.Opener) {
	const user, video, author = 1, 10, 2
	ev := func(liked bool, seq int64) event.LikeEvent {
		return event.LikeEvent{UserId: user, VideoId: video, AuthorId: author, Liked: liked, Seq: seq, At: seq}
	}
	like, unlike := true, false
	cases := []struct {
		name      string
		events    []event.LikeEvent
		wantLiked bool
		wantFlips int
	}{
		{"like", []event.LikeEvent{ev(like, 1)}, true, 1},
		{"redelivered like", []event.LikeEvent{ev(like, 1), ev(like, 1)}, true, 1},
		{"liking twice counts once", []event.LikeEvent{ev(like, 1), ev(like, 2)}, true, 1},
		{"unlike of nothing", []event.LikeEvent{ev(unlike, 1)}, false, 0},
		{"like then unlike", []event.LikeEvent{ev(like, 1), ev(unlike, 2)}, false, 2},
		{"older unlike after newer like is ignored", []event.LikeEvent{ev(like, 2), ev(unlike, 1)}, true, 1},
		{"older like after newer unlike is ignored", []event.LikeEvent{ev(unlike, 2), ev(like, 1)}, false, 0},
		{"like unlike like", []event.LikeEvent{ev(like, 1), ev(unlike, 2), ev(like, 3)}, true, 3},
		{"redelivered unlike", []event.LikeEvent{ev(like, 1), ev(unlike, 2), ev(unlike, 2)}, false, 2},
	}
	// Each case applied event by event, then as one group-committed batch: the same outcome.
	apply := map[string]func(st Store, events []event.LikeEvent) ([]Committed, []error){
		"one by one": func(st Store, events []event.LikeEvent) ([]Committed, []error) {
			out, errs := make([]Committed, len(events)), make([]error, len(events))
			for i, e := range events {
				out[i], errs[i] = st.ApplyLike(context.Background(), e)
			}
			return out, errs
		},
		"one batch": func(st Store, events []event.LikeEvent) ([]Committed, []error) {
			return st.ApplyLikes(context.Background(), events)
		},
	}
	for _, tc := range cases {
		for mode, applyAll := range apply {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				ctx := context.Background()
				st := NewSQLStore(open.Migrated(t, Migrate))
				flips := 0
				committed, errs := applyAll(st, tc.events)
				maxSeq := int64(0)
				for i, e := range tc.events {
					if errs[i] != nil {
						t.Fatal(errs[i])
					}
					if committed[i].Flipped {
						flips++
					}
					maxSeq = max(maxSeq, e.Seq)
				}
				// The last result reports the pair's final state, whatever its event did.
				if last := committed[len(committed)-1]; last.Liked != tc.wantLiked || last.Seq != maxSeq {
					t.Errorf("last event reports the pair at liked=%v seq=%d, want liked=%v seq=%d", last.Liked, last.Seq, tc.wantLiked, maxSeq)
				}
				if flips != tc.wantFlips {
					t.Errorf("%d flips, want %d", flips, tc.wantFlips)
				}
				want := int64(0)
				if tc.wantLiked {
					want = 1
				}
				liked, _ := st.LikedAmong(ctx, user, []int64{video})
				vc, _ := st.MGetVideoCounts(ctx, []int64{video})
				uc, _ := st.MGetUserCounts(ctx, []int64{user, author})
				if liked[video] != tc.wantLiked || vc[video] != want || uc[user].FavoriteCount != want || uc[author].TotalFavorited != want {
					t.Fatalf("liked=%v video count=%d user favorite_count=%d author total_favorited=%d; want liked=%v counts %d",
						liked[video], vc[video], uc[user].FavoriteCount, uc[author].TotalFavorited, tc.wantLiked, want)
				}
				if uc[user].TotalFavorited != 0 || uc[author].FavoriteCount != 0 {
					t.Fatalf("counters crossed users: %+v", uc)
				}
			})
		}
	}
}

func TestApplyLikeOfOwnVideo(t *testing.T) { dbtest.Run(t, testApplyLikeOfOwnVideo) }

func testApplyLikeOfOwnVideo(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	st := NewSQLStore(open.Migrated(t, Migrate))
	if _, err := st.ApplyLike(ctx, event.LikeEvent{UserId: 3, VideoId: 30, AuthorId: 3, Liked: true, Seq: 1, At: 1}); err != nil {
		t.Fatal(err)
	}
	uc, err := st.MGetUserCounts(ctx, []int64{3})
	if err != nil {
		t.Fatal(err)
	}
	if uc[3].FavoriteCount != 1 || uc[3].TotalFavorited != 1 {
		t.Fatalf("self like counters %+v, want favorite_count 1 total_favorited 1", uc[3])
	}
}

func TestListLikedVideosNewestLikeFirst(t *testing.T) {
	dbtest.Run(t, testListLikedVideosNewestLikeFirst)
}

func testListLikedVideosNewestLikeFirst(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	st := NewSQLStore(open.Migrated(t, Migrate))
	apply := func(video int64, liked bool, at int64) {
		t.Helper()
		if _, err := st.ApplyLike(ctx, event.LikeEvent{UserId: 1, VideoId: video, AuthorId: 9, Liked: liked, Seq: at, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	apply(100, true, 10)
	apply(200, true, 20)
	apply(300, true, 30)
	apply(200, false, 40) // unliked: leaves the list
	apply(100, true, 50)  // already liked: a repeat like still moves it to the top
	if _, err := st.ApplyLike(ctx, event.LikeEvent{UserId: 2, VideoId: 400, AuthorId: 9, Liked: true, Seq: 1, At: 60}); err != nil {
		t.Fatal(err)
	}
	got, err := st.ListLikedVideos(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 100 || got[1] != 300 {
		t.Fatalf("liked list %v, want [100 300]", got)
	}
	if got, _ := st.ListLikedVideos(ctx, 1, 1); len(got) != 1 || got[0] != 100 {
		t.Fatalf("capped list %v, want [100]", got)
	}
}

// A differential test of group commit: the same random stream of events (redeliveries, stale
// seqs, self-likes, pairs repeated within a batch) applied one by one and in batches of
// random sizes must leave the same rows, the same flips and the same counters.
func TestApplyLikesBatchesMatchOneByOne(t *testing.T) {
	dbtest.Run(t, testApplyLikesBatchesMatchOneByOne)
}

func testApplyLikesBatchesMatchOneByOne(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	events := make([]event.LikeEvent, 600)
	seq := map[[2]int64]int64{}
	for i := range events {
		user, video := rng.Int64N(6)+1, rng.Int64N(8)+1
		p := [2]int64{user, video}
		s := seq[p] + 1
		switch rng.IntN(6) {
		case 0:
			s = max(1, seq[p]) // redelivered
		case 1:
			s = max(1, seq[p]-1) // late
		}
		seq[p] = max(seq[p], s)
		events[i] = event.LikeEvent{UserId: user, VideoId: video, AuthorId: video%3 + 1, Liked: rng.IntN(3) > 0, Seq: s, At: int64(i)}
	}
	one, batched := NewSQLStore(open.Migrated(t, Migrate)), NewSQLStore(open.Migrated(t, Migrate))
	var flipsOne, flipsBatched []bool
	for _, e := range events {
		f, err := one.ApplyLike(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		flipsOne = append(flipsOne, f.Flipped)
	}
	for rest := events; len(rest) > 0; {
		n := min(len(rest), rng.IntN(40)+1)
		fs, errs := batched.ApplyLikes(ctx, rest[:n])
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range fs {
			flipsBatched = append(flipsBatched, f.Flipped)
		}
		rest = rest[n:]
	}
	if !slices.Equal(flipsOne, flipsBatched) {
		t.Fatalf("flips differ between one-by-one and batched application")
	}
	users, videos := []int64{1, 2, 3, 4, 5, 6}, []int64{1, 2, 3, 4, 5, 6, 7, 8}
	for _, st := range []Store{one, batched} {
		for _, u := range users {
			liked, _ := st.LikedVideoIDs(ctx, u)
			slices.Sort(liked)
			want, _ := one.LikedVideoIDs(ctx, u)
			slices.Sort(want)
			if !slices.Equal(liked, want) {
				t.Fatalf("user %d likes %v, one by one %v", u, liked, want)
			}
		}
	}
	vcOne, _ := one.MGetVideoCounts(ctx, videos)
	vcBatched, _ := batched.MGetVideoCounts(ctx, videos)
	ucOne, _ := one.MGetUserCounts(ctx, users)
	ucBatched, _ := batched.MGetUserCounts(ctx, users)
	for _, v := range videos {
		if vcOne[v] != vcBatched[v] {
			t.Fatalf("video %d count %d batched, %d one by one", v, vcBatched[v], vcOne[v])
		}
	}
	for _, u := range users {
		if ucOne[u] != ucBatched[u] {
			t.Fatalf("user %d counters %+v batched, %+v one by one", u, ucBatched[u], ucOne[u])
		}
	}
	// And the counters are the rows': no drift in either.
	for _, u := range users {
		liked, _ := one.LikedVideoIDs(ctx, u)
		if ucOne[u].FavoriteCount != int64(len(liked)) {
			t.Fatalf("user %d favorite_count %d, likes %d rows", u, ucOne[u].FavoriteCount, len(liked))
		}
	}
}

// TestConcurrentApplyLikeKeepsExactCounts applies like, unlike, like for every (user,
// video) pair from 20 goroutines, two per user and with users liking each other's videos,
// so counter rows are locked in crossing orders (deadlocks on MySQL, retried by the store).
// Every counter must equal the count derived from the favorite rows.
func TestConcurrentApplyLikeKeepsExactCounts(t *testing.T) {
	dbtest.Run(t, testConcurrentApplyLikeKeepsExactCounts)
}

func testConcurrentApplyLikeKeepsExactCounts(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := open.Migrated(t, Migrate)
	st := NewSQLStore(gdb)
	const users, videos = 5, 10
	authorOf := func(video int64) int64 { return video%users + 1 }
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := int64(g%users + 1)
			for v := range int64(videos) {
				video := v + 1
				for seq, liked := range []bool{true, false, true} {
					e := event.LikeEvent{UserId: user, VideoId: video, AuthorId: authorOf(video), Liked: liked, Seq: int64(seq + 1), At: int64(seq + 1)}
					if _, err := st.ApplyLike(ctx, e); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()

	var favs []Favorite
	if err := gdb.Where("liked = ?", true).Find(&favs).Error; err != nil {
		t.Fatal(err)
	}
	if len(favs) != users*videos {
		t.Fatalf("%d liked rows, want %d", len(favs), users*videos)
	}
	wantVideo, wantFav, wantTotal := map[int64]int64{}, map[int64]int64{}, map[int64]int64{}
	for _, f := range favs {
		wantVideo[f.VideoID]++
		wantFav[f.UserID]++
		wantTotal[f.AuthorID]++
	}
	videoIDs := make([]int64, 0, videos)
	for v := range int64(videos) {
		videoIDs = append(videoIDs, v+1)
	}
	vc, err := st.MGetVideoCounts(ctx, videoIDs)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range videoIDs {
		if vc[v] != wantVideo[v] {
			t.Errorf("video %d: favorite_count %d, rows %d", v, vc[v], wantVideo[v])
		}
	}
	uc, err := st.MGetUserCounts(ctx, []int64{1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	for u := range int64(users) {
		u++
		if uc[u].FavoriteCount != wantFav[u] || uc[u].TotalFavorited != wantTotal[u] {
			t.Errorf("user %d: counters %+v, rows say favorite_count %d total_favorited %d", u, uc[u], wantFav[u], wantTotal[u])
		}
	}
}

// TestHotQueriesUseIndexes checks with EXPLAIN on MariaDB and SQLite that the favorite list and
// the batch reads of the feed use their indexes.
func TestHotQueriesUseIndexes(t *testing.T) { dbtest.Run(t, testHotQueriesUseIndexes) }

func testHotQueriesUseIndexes(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := open.Migrated(t, Migrate)
	var favs []Favorite
	for i := range 2000 {
		user, video := int64(i%50+1), int64(i/50+1)
		favs = append(favs, Favorite{UserID: user, VideoID: video, AuthorID: video % 9, Liked: i%3 != 0, Seq: 1, UpdatedAt: int64(i)})
	}
	if err := gdb.CreateInBatches(favs, 500).Error; err != nil {
		t.Fatal(err)
	}
	var videoCounts []VideoCount
	var userCounts []UserCount
	for i := range 500 {
		videoCounts = append(videoCounts, VideoCount{VideoID: int64(i + 1), FavoriteCount: 3})
		userCounts = append(userCounts, UserCount{UserID: int64(i + 1), FavoriteCount: 3, TotalFavorited: 4})
	}
	if err := gdb.CreateInBatches(videoCounts, 500).Error; err != nil {
		t.Fatal(err)
	}
	if err := gdb.CreateInBatches(userCounts, 500).Error; err != nil {
		t.Fatal(err)
	}
	dbtest.Analyze(t, gdb, Favorite{}.TableName(), VideoCount{}.TableName(), UserCount{}.TableName())
	st := NewSQLStore(gdb)
	dbtest.RequireIndexed(t, gdb, "favorite list", func() error {
		_, err := st.ListLikedVideos(ctx, 7, 30)
		return err
	})
	dbtest.RequireIndexed(t, gdb, "is_favorite batch", func() error {
		_, err := st.LikedAmong(ctx, 7, []int64{1, 2, 3, 30})
		return err
	})
	dbtest.RequireIndexed(t, gdb, "video favorite counts", func() error {
		_, err := st.MGetVideoCounts(ctx, []int64{1, 2, 3})
		return err
	})
	dbtest.RequireIndexed(t, gdb, "user favorite counts", func() error {
		_, err := st.MGetUserCounts(ctx, []int64{1, 2, 3})
		return err
	})
	// The consumer reads every pair of a batch in one query, each pair by the unique index.
	dbtest.RequireIndexed(t, gdb, "like batch rows", func() error {
		_, errs := st.ApplyLikes(ctx, []event.LikeEvent{
			{UserId: 7, VideoId: 1, AuthorId: 2, Liked: true, Seq: 5, At: 5},
			{UserId: 8, VideoId: 3, AuthorId: 2, Liked: true, Seq: 5, At: 5},
		})
		return errors.Join(errs...)
	})
}

// On SQLite a batch updates its changed rows in one statement, which must find each row by its
// id, not scan the table.
func TestBatchUpdateFindsRowsByID(t *testing.T) {
	gdb := dbtest.Opener(dbtest.OpenSQLite).Migrated(t, Migrate)
	dbtest.RequireIndexedOnSQLite(t, gdb, "like batch update", dbtest.Query{SQL: updateLikeRowsSQLite, Vars: []any{"[[1,1,2,3,1]]"}})
}
