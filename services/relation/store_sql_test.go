package relation

import (
	"context"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"testing"
)

func TestSQLStoreFollowReportsChanges(t *testing.T) { dbtest.Run(t, testSQLStoreFollowReportsChanges) }

func testSQLStoreFollowReportsChanges(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	store := NewSQLStore(openOn(t, open))
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
