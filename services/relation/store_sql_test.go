package relation

import (
	"context"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

func TestSQLStoreFollowReportsChanges(t *testing.T) { dbtest.Run(t, testSQLStoreFollowReportsChanges) }

func testSQLStoreFollowReportsChanges(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	store := NewSQLStore(open.Migrated(t, Migrate))
	steps := []struct {
		name        string
		do          func(context.Context, int64, int64) (bool, error)
		wantChanged bool
		wantFollows bool
	}{
		{"follow", store.Follow, true, true},
		{"follow again", store.Follow, false, true},
		{"unfollow", store.Unfollow, true, false},
		{"unfollow again", store.Unfollow, false, false},
		{"follow after unfollow", store.Follow, true, true},
	}
	for _, st := range steps {
		changed, err := st.do(ctx, 7, 8)
		if err != nil || changed != st.wantChanged {
			t.Fatalf("%s: changed=%v err=%v, want changed=%v", st.name, changed, err, st.wantChanged)
		}
		followed, err := store.FollowedAmong(ctx, 7, []int64{8, 9})
		if err != nil || followed[8] != st.wantFollows || followed[9] {
			t.Fatalf("%s: followed=%v err=%v", st.name, followed, err)
		}
		counts, err := store.Counts(ctx, []int64{7, 8})
		var want int64
		if st.wantFollows {
			want = 1
		}
		if err != nil || counts[7].FollowCount != want || counts[8].FollowerCount != want || counts[7].FollowerCount != 0 {
			t.Fatalf("%s: counts=%+v err=%v", st.name, counts, err)
		}
	}
	if counts, err := store.Counts(ctx, nil); err != nil || counts == nil || len(counts) != 0 {
		t.Fatalf("no ids: %v %v", counts, err)
	}
}

// TestConcurrentMutualFollowsKeepExactCounts has 20 goroutines follow and unfollow among
// six users at once, every pair in both directions, so counter rows are locked in crossing
// orders. Counters must equal the counts derived from the rows, on every backend.
func TestConcurrentMutualFollowsKeepExactCounts(t *testing.T) {
	dbtest.Run(t, testConcurrentMutualFollowsKeepExactCounts)
}

func testConcurrentMutualFollowsKeepExactCounts(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := open.Migrated(t, Migrate)
	st := NewSQLStore(gdb)
	const users = 6
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := int64(g%users + 1)
			for to := int64(1); to <= users; to++ {
				if to == from {
					continue
				}
				if _, err := st.Follow(ctx, from, to); err != nil {
					t.Error(err)
					return
				}
				// Goroutines of odd rank unfollow what they followed; the others follow again.
				if g%2 == 1 {
					if _, err := st.Unfollow(ctx, from, to); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()

	var follows []Follow
	if err := gdb.Find(&follows).Error; err != nil {
		t.Fatal(err)
	}
	wantFollow, wantFollower := map[int64]int64{}, map[int64]int64{}
	for _, f := range follows {
		wantFollow[f.FollowerID]++
		wantFollower[f.FolloweeID]++
	}
	ids := []int64{1, 2, 3, 4, 5, 6}
	counts, err := st.Counts(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if c := counts[id]; c.FollowCount != wantFollow[id] || c.FollowerCount != wantFollower[id] {
			t.Errorf("user %d: counters %+v, rows say follow %d follower %d", id, c, wantFollow[id], wantFollower[id])
		}
	}
	if len(follows) == 0 {
		t.Fatal("no follow left: the interleaving proved nothing")
	}
}

// TestHotQueriesUseIndexes checks with EXPLAIN on MariaDB and SQLite that the follow, follower and
// friend lists and the batch reads use their indexes.
func TestHotQueriesUseIndexes(t *testing.T) { dbtest.Run(t, testHotQueriesUseIndexes) }

func testHotQueriesUseIndexes(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := open.Migrated(t, Migrate)
	var follows []Follow
	var counts []Counts
	for u := range int64(100) {
		for k := range int64(20) {
			follows = append(follows, Follow{FollowerID: u + 1, FolloweeID: (u+k*7)%100 + 1, CreatedAt: u*100 + k})
		}
		counts = append(counts, Counts{UserID: u + 1, FollowCount: 20, FollowerCount: 20})
	}
	if err := gdb.CreateInBatches(follows, 500).Error; err != nil {
		t.Fatal(err)
	}
	if err := gdb.CreateInBatches(counts, 500).Error; err != nil {
		t.Fatal(err)
	}
	dbtest.Analyze(t, gdb, Follow{}.TableName(), Counts{}.TableName())
	st := NewSQLStore(gdb)
	dbtest.RequireIndexed(t, gdb, "follower list", func() error {
		_, err := st.FollowerIDs(ctx, 8, 30)
		return err
	})
	dbtest.RequireIndexed(t, gdb, "follow list", func() error {
		_, err := st.FolloweeIDs(ctx, 8, 30)
		return err
	})
	// The friend order is an expression over both rows of a pair: a sort of one user's
	// friends is expected, scanning is not.
	dbtest.RequireIndexed(t, gdb, "friend list", func() error {
		_, err := st.FriendIDs(ctx, 8, 30)
		return err
	}, dbtest.AllowFilesort)
	dbtest.RequireIndexed(t, gdb, "is_follow batch", func() error {
		_, err := st.FollowedAmong(ctx, 8, []int64{1, 2, 3, 15})
		return err
	})
	dbtest.RequireIndexed(t, gdb, "relation counts", func() error {
		_, err := st.Counts(ctx, []int64{1, 2, 3})
		return err
	})
}
