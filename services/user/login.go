package user

import (
	"context"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// Login checks the credentials and returns the user id.
func (s *Service) Login(ctx context.Context, req *userapi.LoginRequest) (*userapi.LoginResponse, error) {
	name, password := req.GetUsername(), req.GetPassword()
	if name == "" {
		return nil, errs.Invalid("username is required")
	}
	if password == "" {
		return nil, errs.Invalid("password is required")
	}
	hash := ""
	var id int64
	// Only a well-formed name can exist; skipping the lookup otherwise keeps junk out of the
	// query, and the dummy hash check below keeps the timing the same.
	if len(name) <= maxUsernameLen && usernamePattern.MatchString(name) {
		a, err := s.store.AccountByUsernameKey(ctx, usernameKey(name))
		if err != nil {
			return nil, err
		}
		if a != nil {
			hash, id = a.PasswordHash, a.ID
		}
	}
	// Unknown user and wrong password fail alike, in the same time, so logins cannot be
	// used to find out which usernames exist.
	if !auth.CheckPassword(hash, password) {
		return nil, errs.New(base.ErrCode_LoginFailed, "wrong username or password")
	}
	return &userapi.LoginResponse{UserId: id}, nil
}
