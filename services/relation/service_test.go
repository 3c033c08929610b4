package relation

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	"gorm.io/gorm"
)

// fakeUsers is a user service knowing the ids 1..n.
type fakeUsers struct{ n int64 }

func (f fakeUsers) Register(context.Context, *userapi.RegisterRequest) (*userapi.RegisterResponse, error) {
	panic("not used")
}

func (f fakeUsers) Login(context.Context, *userapi.LoginRequest) (*userapi.LoginResponse, error) {
	panic("not used")
}

func (f fakeUsers) MGetUsers(_ context.Context, req *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	out := map[int64]*userapi.UserProfile{}
	for _, id := range req.UserIds {
		if id >= 1 && id <= f.n {
			out[id] = &userapi.UserProfile{Id: id}
		}
	}
	return &userapi.MGetUsersResponse{Users: out}, nil
}

func openDB(t *testing.T) *gorm.DB {
	t.Helper()
	// SQLite by default; DOUYIN_TEST_DB=mysql runs the package on MariaDB.
	gdb := dbtest.Open(t)
	if err := Migrate(gdb); err != nil {
		t.Fatal(err)
	}
	return gdb
}

// countingStore counts store reads so batch calls can be shown to use a constant number.
type countingStore struct {
	Store
	mu    sync.Mutex
	reads int
}

func (c *countingStore) count() {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
}

func (c *countingStore) Counts(ctx context.Context, userIDs []int64) (map[int64]Counts, error) {
	c.count()
	return c.Store.Counts(ctx, userIDs)
}

func (c *countingStore) FollowedAmong(ctx context.Context, followerID int64, userIDs []int64) (map[int64]bool, error) {
	c.count()
	return c.Store.FollowedAmong(ctx, followerID, userIDs)
}

func newService(t *testing.T) (*Service, *countingStore, *gorm.DB) {
	gdb := openDB(t)
	store := &countingStore{Store: NewSQLStore(gdb)}
	return New(store, fakeUsers{n: 100}), store, gdb
}

func act(ctx context.Context, s *Service, from, to int64, a relationapi.RelationActionType) error {
	_, err := s.RelationAction(ctx, &relationapi.RelationActionRequest{UserId: from, ToUserId: to, ActionType: a})
	return err
}

func mustAct(t *testing.T, s *Service, from, to int64, a relationapi.RelationActionType) {
	t.Helper()
	if err := act(context.Background(), s, from, to, a); err != nil {
		t.Fatalf("action %v %d->%d: %v", a, from, to, err)
	}
}

const (
	follow   = relationapi.RelationActionType_Follow
	unfollow = relationapi.RelationActionType_Unfollow
)

func relations(t *testing.T, s *Service, viewer int64, userIDs ...int64) map[int64]*relationapi.UserRelationInfo {
	t.Helper()
	resp, err := s.MGetRelations(context.Background(), &relationapi.MGetRelationsRequest{ViewerId: viewer, UserIds: userIDs})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Users
}

func TestRelationActionValidation(t *testing.T) {
	s, _, _ := newService(t)
	cases := []struct {
		name     string
		from, to int64
		action   relationapi.RelationActionType
		wantCode base.ErrCode
		wantMsg  string
	}{
		{"zero user", 0, 2, follow, base.ErrCode_InvalidParam, "user_id must be a positive integer"},
		{"negative target", 1, -2, follow, base.ErrCode_InvalidParam, "to_user_id must be a positive integer"},
		{"bad action", 1, 2, 3, base.ErrCode_InvalidParam, "action_type must be 1 (follow) or 2 (unfollow)"},
		{"zero action", 1, 2, 0, base.ErrCode_InvalidParam, "action_type must be 1 (follow) or 2 (unfollow)"},
		{"self", 1, 1, follow, base.ErrCode_FollowSelf, "you cannot follow yourself"},
		{"unknown target", 1, 101, follow, base.ErrCode_UserNotFound, "user not found"},
		{"unknown target unfollow", 1, 101, unfollow, base.ErrCode_UserNotFound, "user not found"},
		{"unfollow when not following", 1, 2, unfollow, base.ErrCode_Success, ""},
		{"follow", 1, 2, follow, base.ErrCode_Success, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, msg := errs.Code(act(context.Background(), s, c.from, c.to, c.action))
			if code != c.wantCode || msg != c.wantMsg {
				t.Fatalf("RelationAction = %v %q, want %v %q", code, msg, c.wantCode, c.wantMsg)
			}
		})
	}
	// Only the last case changed anything.
	got := relations(t, s, 0, 1, 2)
	if got[1].FollowCount != 1 || got[1].FollowerCount != 0 || got[2].FollowCount != 0 || got[2].FollowerCount != 1 {
		t.Fatalf("counts after validation cases: %+v %+v", got[1], got[2])
	}
}

func TestFollowIsIdempotent(t *testing.T) {
	s, _, _ := newService(t)
	mustAct(t, s, 1, 2, follow)
	mustAct(t, s, 1, 2, follow)
	got := relations(t, s, 1, 1, 2)
	if got[1].FollowCount != 1 || got[2].FollowerCount != 1 || !got[2].IsFollow {
		t.Fatalf("after following twice: %+v %+v", got[1], got[2])
	}
	mustAct(t, s, 1, 2, unfollow)
	mustAct(t, s, 1, 2, unfollow)
	got = relations(t, s, 1, 1, 2)
	if got[1].FollowCount != 0 || got[2].FollowerCount != 0 || got[2].IsFollow {
		t.Fatalf("after unfollowing twice: %+v %+v", got[1], got[2])
	}
}

// Twenty users follow one target at once, each twice; then half unfollow at once. Counters
// must match the rows exactly.
func TestConcurrentFollowsKeepExactCounts(t *testing.T) {
	s, _, gdb := newService(t)
	const target, n = 100, 20
	run := func(action relationapi.RelationActionType, users int) {
		var wg sync.WaitGroup
		for i := range users {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := act(context.Background(), s, int64(i+1), target, action); err != nil {
						t.Error(err)
					}
				}()
			}
		}
		wg.Wait()
	}
	run(follow, n)
	if got := relations(t, s, 0, target)[target]; got.FollowerCount != n {
		t.Fatalf("follower_count = %d, want %d", got.FollowerCount, n)
	}
	run(unfollow, n/2)
	var rows int64
	gdb.Model(&Follow{}).Where("followee_id = ?", target).Count(&rows)
	got := relations(t, s, 0, target, 1, n)
	if got[target].FollowerCount != n/2 || rows != n/2 {
		t.Fatalf("follower_count = %d, rows = %d, want %d", got[target].FollowerCount, rows, n/2)
	}
	if got[1].FollowCount != 0 || got[n].FollowCount != 1 {
		t.Fatalf("follow_count of 1 = %d (unfollowed), of %d = %d", got[1].FollowCount, n, got[n].FollowCount)
	}
}

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
	gdb := openDB(t)
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

func TestMGetRelations(t *testing.T) {
	s, store, _ := newService(t)
	mustAct(t, s, 1, 2, follow)
	mustAct(t, s, 1, 3, follow)
	mustAct(t, s, 2, 1, follow)

	store.reads = 0
	got := relations(t, s, 1, 1, 2, 3, 4, 2, 0, 999)
	if store.reads != 2 {
		t.Fatalf("%d store reads, want 2", store.reads)
	}
	want := map[int64]relationapi.UserRelationInfo{
		1:   {FollowCount: 2, FollowerCount: 1, IsFollow: false}, // the viewer never follows themself
		2:   {FollowCount: 1, FollowerCount: 1, IsFollow: true},
		3:   {FollowCount: 0, FollowerCount: 1, IsFollow: true},
		4:   {},
		999: {},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %v", len(got), len(want), got)
	}
	for id, w := range want {
		if g := got[id]; g == nil || *g != w {
			t.Errorf("user %d = %+v, want %+v", id, g, w)
		}
	}

	store.reads = 0
	anon := relations(t, s, 0, 2, 3)
	if store.reads != 1 || anon[2].IsFollow || anon[3].IsFollow || anon[2].FollowerCount != 1 {
		t.Fatalf("anonymous: %d reads, %+v %+v", store.reads, anon[2], anon[3])
	}

	store.reads = 0
	if empty := relations(t, s, 1); empty == nil || len(empty) != 0 || store.reads != 0 {
		t.Fatalf("empty request: %v, %d reads", empty, store.reads)
	}
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := s.MGetRelations(context.Background(), &relationapi.MGetRelationsRequest{UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("over-limit batch: %v, want InvalidParam", err)
	}
	if _, err := s.MGetRelations(context.Background(), &relationapi.MGetRelationsRequest{ViewerId: -1, UserIds: []int64{1}}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("negative viewer: %v, want InvalidParam", err)
	}
}

// TestFolloweeIDsReachesPastTheListCap: the following feed sees more authors than a follow
// list page shows.
func TestFolloweeIDsReachesPastTheListCap(t *testing.T) {
	gdb := openDB(t)
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
