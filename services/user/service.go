// Package user is the user service: registration, login and the profiles it owns.
package user

import (
	"log/slog"

	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

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
	profiles ProfileCache // nil: every read goes to SQL
	log      *slog.Logger
}

var _ userapi.UserService = (*Service)(nil)

// New returns the user service over store; opts add a profile cache (production) or a logger.
func New(store Store, cfg Config, opts ...Option) *Service {
	s := &Service{store: store, cfg: cfg, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Option configures the service.
type Option func(*Service)

// WithLogger sets where the service reports degraded operations (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// WithProfileCache puts c in front of the profile reads. Without it every read goes to SQL.
func WithProfileCache(c ProfileCache) Option {
	return func(s *Service) { s.profiles = c }
}
