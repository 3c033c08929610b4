package relation

import (
	"context"
	"slices"
	"testing"

	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
)

func TestLists(t *testing.T) {
	s, _, gdb := newService(t)
	// 1 follows 2, 3, 4, 5 in that order; 3, 5 and 6 follow 1 back (5 before 3).
	for _, to := range []int64{2, 3, 4, 5} {
		mustAct(t, s, 1, to, follow)
	}
	for _, from := range []int64{5, 6, 3} {
		mustAct(t, s, from, 1, follow)
	}
	// Follows made in the same millisecond are ordered by id; spread the times so the order
	// by time is tested too: make 1->2 the newest follow of user 1.
	gdb.Model(&Follow{}).Where("follower_id = 1 AND followee_id = 2").Update("created_at", db.NowMillis()+10_000)

	list := func(f func(context.Context, *relationapi.ListRequest) (*relationapi.ListResponse, error), user int64) []int64 {
		t.Helper()
		resp, err := f(context.Background(), &relationapi.ListRequest{UserId: user})
		if err != nil {
			t.Fatal(err)
		}
		if resp.UserIds == nil {
			t.Fatal("nil list")
		}
		return resp.UserIds
	}
	cases := []struct {
		name string
		got  []int64
		want []int64
	}{
		{"follow list", list(s.FollowList, 1), []int64{2, 5, 4, 3}},
		{"follower list", list(s.FollowerList, 1), []int64{3, 6, 5}},
		// Friendship time is the later follow: 3 followed back last.
		{"friend list", list(s.FriendList, 1), []int64{3, 5}},
		{"friend list of 5", list(s.FriendList, 5), []int64{1}},
		{"empty follow list", list(s.FollowList, 42), []int64{}},
		{"empty friend list", list(s.FriendList, 6), []int64{}},
	}
	for _, c := range cases {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, f := range []func(context.Context, *relationapi.ListRequest) (*relationapi.ListResponse, error){s.FollowList, s.FollowerList, s.FriendList} {
		if _, err := f(context.Background(), &relationapi.ListRequest{UserId: 0}); !errs.Is(err, base.ErrCode_InvalidParam) {
			t.Errorf("user_id 0: %v, want InvalidParam", err)
		}
	}
}

func TestListsAreCapped(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	s := New(NewSQLStore(gdb), fakeUsers{n: 5000})
	rows := make([]Follow, 0, listLimit+5)
	for i := range listLimit + 5 {
		rows = append(rows, Follow{FollowerID: int64(i + 2), FolloweeID: 1, CreatedAt: int64(i + 1)})
	}
	if err := gdb.CreateInBatches(rows, 200).Error; err != nil {
		t.Fatal(err)
	}
	resp, err := s.FollowerList(context.Background(), &relationapi.ListRequest{UserId: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.UserIds) != listLimit || resp.UserIds[0] != listLimit+6 || resp.UserIds[listLimit-1] != 7 {
		t.Fatalf("got %d ids from %d to %d; want the newest %d", len(resp.UserIds), resp.UserIds[0], resp.UserIds[len(resp.UserIds)-1], listLimit)
	}
}

// TestFolloweeIDsReachesPastTheListCap: the following feed sees more authors than a follow
// list page shows.
func TestFolloweeIDsReachesPastTheListCap(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	s := New(NewSQLStore(gdb), fakeUsers{n: 5000})
	rows := make([]Follow, 0, listLimit+5)
	for i := range listLimit + 5 {
		rows = append(rows, Follow{FollowerID: 1, FolloweeID: int64(i + 2), CreatedAt: int64(i + 1)})
	}
	if err := gdb.CreateInBatches(rows, 200).Error; err != nil {
		t.Fatal(err)
	}
	resp, err := s.FolloweeIDs(context.Background(), &relationapi.FolloweeIDsRequest{UserId: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(resp.UserIds))
	if len(got) != listLimit+5 || got[0] != 2 || got[len(got)-1] != listLimit+6 {
		t.Fatalf("got %d followee ids; want all %d", len(got), listLimit+5)
	}
	none, err := s.FolloweeIDs(context.Background(), &relationapi.FolloweeIDsRequest{UserId: 42})
	if err != nil || none.UserIds == nil || len(none.UserIds) != 0 {
		t.Fatalf("followees of a user following nobody = %v, %v; want a non-nil empty list", none, err)
	}
	if _, err := s.FolloweeIDs(context.Background(), &relationapi.FolloweeIDsRequest{}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("user_id 0: %v, want InvalidParam", err)
	}
}
