package user

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
)

// ProfileCache keeps the profile columns of accounts in front of SQL. It is only a cache:
// profiles missing from it are read from SQL, and the service stays correct when it is empty.
type ProfileCache interface {
	// MGet returns the cached accounts among ids and, in request order, the ids it lacks.
	MGet(ctx context.Context, ids []int64) (found map[int64]Account, missing []int64, err error)
	// MSet caches the profile columns of accounts (never their password hashes).
	MSet(ctx context.Context, accounts []Account) error
	// Delete drops the cached profiles of ids, for writers that change a profile.
	Delete(ctx context.Context, ids []int64) error
}

// Option configures the service.
type Option func(*Service)

// WithProfileCache puts c in front of the profile reads. Without it (the embedded mode)
// every read goes to SQL.
func WithProfileCache(c ProfileCache) Option {
	return func(s *Service) { s.profiles = c }
}

// WithLogger sets where degraded cache operations are reported (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// noProfileCache is the embedded mode's cache: it holds nothing.
type noProfileCache struct{}

func (noProfileCache) MGet(_ context.Context, ids []int64) (map[int64]Account, []int64, error) {
	return nil, ids, nil
}
func (noProfileCache) MSet(context.Context, []Account) error { return nil }
func (noProfileCache) Delete(context.Context, []int64) error { return nil }

// accountsByIDs is the cache-aside read: cached profiles first, the misses from SQL in one
// query, then the misses written back. A failing cache costs speed, never the answer.
func (s *Service) accountsByIDs(ctx context.Context, ids []int64) ([]Account, error) {
	found, missing, err := s.profiles.MGet(ctx, ids)
	if err != nil {
		s.log.WarnContext(ctx, "profile cache read failed; reading SQL", "err", err)
		found, missing = nil, ids
	}
	out := make([]Account, 0, len(ids))
	for _, a := range found {
		out = append(out, a)
	}
	if len(missing) == 0 {
		return out, nil
	}
	loaded, err := s.store.AccountsByIDs(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(loaded) > 0 {
		if err := s.profiles.MSet(ctx, loaded); err != nil {
			s.log.WarnContext(ctx, "profile cache fill failed", "err", err)
		}
	}
	return append(out, loaded...), nil
}

// RedisProfileCache is the ProfileCache on Redis: one JSON string per user under
// "user:p:{id}", read with one MGET and written with one pipeline.
type RedisProfileCache struct {
	r   *cache.Redis
	ttl time.Duration
}

var _ ProfileCache = (*RedisProfileCache)(nil)

// NewRedisProfileCache returns the cache on r; each profile lives for ttl with jitter.
func NewRedisProfileCache(r *cache.Redis, ttl time.Duration) *RedisProfileCache {
	return &RedisProfileCache{r: r, ttl: ttl}
}

// cachedProfile is the stored form: the raw columns, so the configured defaults still apply
// at read time and a changed default shows at once.
type cachedProfile struct {
	ID              int64  `json:"id"`
	Name            string `json:"n"`
	Avatar          string `json:"a,omitempty"`
	BackgroundImage string `json:"b,omitempty"`
	Signature       string `json:"s,omitempty"`
}

func (c *RedisProfileCache) key(id int64) string {
	return c.r.Key("user:p:" + strconv.FormatInt(id, 10))
}

// MGet reads all ids with one MGET; an undecodable value counts as a miss and is refilled.
func (c *RedisProfileCache) MGet(ctx context.Context, ids []int64) (map[int64]Account, []int64, error) {
	if len(ids) == 0 {
		return map[int64]Account{}, nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.key(id)
	}
	vals, err := c.r.Client().MGet(ctx, keys...).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("redis mget profiles: %w", err)
	}
	found := make(map[int64]Account, len(ids))
	var missing []int64
	for i, v := range vals {
		var p cachedProfile
		s, ok := v.(string)
		if !ok || json.Unmarshal([]byte(s), &p) != nil || p.ID != ids[i] {
			missing = append(missing, ids[i])
			continue
		}
		found[p.ID] = Account{ID: p.ID, Name: p.Name, Avatar: p.Avatar, BackgroundImage: p.BackgroundImage, Signature: p.Signature}
	}
	return found, missing, nil
}

// MSet writes the profiles in one pipeline, each with its own jittered expiry.
func (c *RedisProfileCache) MSet(ctx context.Context, accounts []Account) error {
	if len(accounts) == 0 {
		return nil
	}
	_, err := c.r.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, a := range accounts {
			body, err := json.Marshal(cachedProfile{ID: a.ID, Name: a.Name, Avatar: a.Avatar, BackgroundImage: a.BackgroundImage, Signature: a.Signature})
			if err != nil {
				return err
			}
			p.Set(ctx, c.key(a.ID), body, cache.TTL(c.ttl))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis set profiles: %w", err)
	}
	return nil
}

// Delete drops the profiles of ids in one DEL.
func (c *RedisProfileCache) Delete(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.key(id)
	}
	if err := c.r.Client().Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("redis delete profiles: %w", err)
	}
	return nil
}
