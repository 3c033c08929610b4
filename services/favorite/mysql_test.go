package favorite

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

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
					e := LikeEvent{UserID: user, VideoID: video, AuthorID: authorOf(video), Liked: liked, Seq: int64(seq + 1), At: int64(seq + 1)}
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
		_, errs := st.ApplyLikes(ctx, []LikeEvent{
			{UserID: 7, VideoID: 1, AuthorID: 2, Liked: true, Seq: 5, At: 5},
			{UserID: 8, VideoID: 3, AuthorID: 2, Liked: true, Seq: 5, At: 5},
		})
		return errors.Join(errs...)
	})
}
