// Package message is the message service: chat between users, with polling answered from the
// cache when nothing is new.
package message

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// The cache of each conversation's latest created_at, which lets idle polls skip the database.
const (
	// latestKeyPrefix + conversation key caches the conversation's latest created_at.
	latestKeyPrefix = "msg:last:"
	// sentTTL keeps a time written by a send, which is exact.
	sentTTL = 24 * time.Hour
	// learntTTL keeps a time learnt from a read briefly: the read may be older than a send
	// whose own cache write was lost (eviction, cache outage), and a short life bounds how
	// long such a stale value can hide a message from pollers.
	learntTTL = 5 * time.Minute
)

// Service implements the message service.
type Service struct {
	store Store
	kv    cache.KV
	users userapi.UserService
	log   *slog.Logger
}

var _ messageapi.MessageService = (*Service)(nil)

// New returns the message service. kv caches each conversation's latest message time so idle
// polls skip the database; users is asked whether a recipient exists.
func New(store Store, kv cache.KV, users userapi.UserService, opts ...Option) *Service {
	s := &Service{store: store, kv: kv, users: users, log: slog.Default()}
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

// conversationKey names the conversation of two users, the same in both directions.
func conversationKey(a, b int64) string {
	return fmt.Sprintf("%d_%d", min(a, b), max(a, b))
}
