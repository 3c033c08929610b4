package user

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// Limits of the credentials. The app labels the username "Email", so the characters of an
// e-mail address are allowed.
const (
	maxUsernameLen = 32
	minPasswordLen = 8
	maxPasswordLen = 32
	// maxPasswordBytes is bcrypt's input limit: 32 multi-byte characters can exceed it.
	maxPasswordBytes = 72
)

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9@.+_-]+$`)

// Register creates an account and returns its id.
func (s *Service) Register(ctx context.Context, req *userapi.RegisterRequest) (*userapi.RegisterResponse, error) {
	name, password := req.GetUsername(), req.GetPassword()
	if len(name) > maxUsernameLen || !usernamePattern.MatchString(name) {
		return nil, errs.Invalid("username must be 1-%d characters of letters, digits and @ . + - _", maxUsernameLen)
	}
	if n := utf8.RuneCountInString(password); n < minPasswordLen || n > maxPasswordLen || !utf8.ValidString(password) {
		return nil, errs.Invalid("password must be %d-%d characters", minPasswordLen, maxPasswordLen)
	}
	if len(password) > maxPasswordBytes {
		return nil, errs.Invalid("password is too long: at most %d bytes", maxPasswordBytes)
	}
	if weakPassword(name, password) {
		return nil, errs.Invalid("this password is too common or too easy to guess, please choose another")
	}
	key := usernameKey(name)
	// The lookup only spares a bcrypt hash for the common duplicate; the unique key decides.
	existing, err := s.store.AccountByUsernameKey(ctx, key)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return nil, errUsernameExists()
	}
	hash, err := auth.HashPassword(password, s.cfg.PasswordCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	a := &Account{Name: name, UsernameKey: key, PasswordHash: hash, CreatedAt: db.NowMillis()}
	if err := s.store.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, ErrUsernameTaken) {
			return nil, errUsernameExists()
		}
		return nil, err
	}
	return &userapi.RegisterResponse{UserId: a.ID}, nil
}

// usernameKey is the case-insensitive identity of a username (ASCII by the pattern).
func usernameKey(name string) string { return strings.ToLower(name) }

func errUsernameExists() error {
	return errs.New(base.ErrCode_UserAlreadyExists, "username already exists")
}
