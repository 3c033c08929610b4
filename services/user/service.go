// Package user is the user service: registration, login and the profiles it owns.
package user

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
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

// Config holds the profile defaults shown for fields a user has not set. They are applied at
// read time, so changing one updates every profile still using it. Relative URLs are made
// absolute by the gateway.
type Config struct {
	DefaultAvatar          string
	DefaultBackgroundImage string
	DefaultSignature       string
	// PasswordCost is the bcrypt cost of new password hashes (0: auth.PasswordCost).
	PasswordCost int
}

// DefaultConfig returns the defaults served by the embedded static files.
func DefaultConfig() Config {
	return Config{
		DefaultAvatar:          "/static/avatar.png",
		DefaultBackgroundImage: "/static/background.png",
		DefaultSignature:       "这个人很懒，什么也没有留下",
	}
}

// Service implements the user service.
type Service struct {
	store    Store
	cfg      Config
	profiles ProfileCache
	log      *slog.Logger
}

var _ userapi.UserService = (*Service)(nil)

// New returns the user service over store; opts add a profile cache (production) or a logger.
func New(store Store, cfg Config, opts ...Option) *Service {
	s := &Service{store: store, cfg: cfg, profiles: noProfileCache{}, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

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

// MGetUsers returns the profiles of the ids that exist, with defaults filled in.
func (s *Service) MGetUsers(ctx context.Context, req *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	userIDs := ids.Unique(req.GetUserIds())
	if len(userIDs) > ids.MaxBatch {
		return nil, errs.Invalid("user_ids must hold at most %d ids", ids.MaxBatch)
	}
	resp := &userapi.MGetUsersResponse{Users: make(map[int64]*userapi.UserProfile, len(userIDs))}
	if len(userIDs) == 0 {
		return resp, nil
	}
	accounts, err := s.accountsByIDs(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		resp.Users[a.ID] = s.profile(a)
	}
	return resp, nil
}

func (s *Service) profile(a Account) *userapi.UserProfile {
	return &userapi.UserProfile{
		Id:              a.ID,
		Name:            a.Name,
		Avatar:          orDefault(a.Avatar, s.cfg.DefaultAvatar),
		BackgroundImage: orDefault(a.BackgroundImage, s.cfg.DefaultBackgroundImage),
		Signature:       orDefault(a.Signature, s.cfg.DefaultSignature),
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// usernameKey is the case-insensitive identity of a username (ASCII by the pattern).
func usernameKey(name string) string { return strings.ToLower(name) }

func errUsernameExists() error {
	return errs.New(base.ErrCode_UserAlreadyExists, "username already exists")
}
