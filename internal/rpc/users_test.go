package rpc

import (
	"context"
	"sync"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// accounts is a user service kept in memory: enough to carry results and typed business
// errors over a real Kitex hop, without the plumbing depending on the user service itself.
type accounts struct {
	mu     sync.Mutex
	byName map[string]int64
	names  map[int64]string
}

func newUserService() userapi.UserService {
	return &accounts{byName: map[string]int64{}, names: map[int64]string{}}
}

func (a *accounts) Register(_ context.Context, req *userapi.RegisterRequest) (*userapi.RegisterResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, taken := a.byName[req.Username]; taken {
		return nil, errs.New(base.ErrCode_UserAlreadyExists, "username already exists")
	}
	id := int64(len(a.names) + 1)
	a.byName[req.Username], a.names[id] = id, req.Username
	return &userapi.RegisterResponse{UserId: id}, nil
}

func (a *accounts) Login(_ context.Context, req *userapi.LoginRequest) (*userapi.LoginResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.byName[req.Username]
	if !ok {
		return nil, errs.New(base.ErrCode_UserNotFound, "user not found")
	}
	return &userapi.LoginResponse{UserId: id}, nil
}

func (a *accounts) MGetUsers(_ context.Context, req *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	users := map[int64]*userapi.UserProfile{}
	for _, id := range req.UserIds {
		if name, ok := a.names[id]; ok {
			users[id] = &userapi.UserProfile{Id: id, Name: name}
		}
	}
	return &userapi.MGetUsersResponse{Users: users}, nil
}
