package relation

import (
	"context"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
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
	gdb := dbtest.OpenMigrated(t, Migrate)
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
