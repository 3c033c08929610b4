package user

import (
	"context"
	"log/slog"
	"time"

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

// WithProfileCache puts c in front of the profile reads. Without it
// every read goes to SQL.
func WithProfileCache(c ProfileCache) Option {
	return func(s *Service) { s.profiles = c }
}

// WithLogger sets where degraded cache operations are reported (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// noProfileCache holds nothing: every read goes to SQL.
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
	records *cache.Records[cachedProfile]
}

var _ ProfileCache = (*RedisProfileCache)(nil)

// NewRedisProfileCache returns the cache on r; each profile lives for ttl with jitter.
// Lookups are counted by o when it is not nil.
func NewRedisProfileCache(r *cache.Redis, ttl time.Duration, o cache.LookupObserver) *RedisProfileCache {
	records := cache.NewRecords(r, "user:p", ttl, func(p cachedProfile) int64 { return p.ID })
	if o != nil {
		records.Observe(o)
	}
	return &RedisProfileCache{records: records}
}

// cachedProfile is the stored form: the raw columns, so the configured defaults still apply
// at read time and a changed default shows at once. The password hash is never cached.
type cachedProfile struct {
	ID              int64  `json:"id"`
	Name            string `json:"n"`
	Avatar          string `json:"a,omitempty"`
	BackgroundImage string `json:"b,omitempty"`
	Signature       string `json:"s,omitempty"`
}

// MGet reads all ids with one MGET.
func (c *RedisProfileCache) MGet(ctx context.Context, ids []int64) (map[int64]Account, []int64, error) {
	cached, missing, err := c.records.MGet(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	found := make(map[int64]Account, len(cached))
	for id, p := range cached {
		found[id] = Account{ID: p.ID, Name: p.Name, Avatar: p.Avatar, BackgroundImage: p.BackgroundImage, Signature: p.Signature}
	}
	return found, missing, nil
}

// MSet writes the profiles in one pipeline.
func (c *RedisProfileCache) MSet(ctx context.Context, accounts []Account) error {
	cached := make([]cachedProfile, len(accounts))
	for i, a := range accounts {
		cached[i] = cachedProfile{ID: a.ID, Name: a.Name, Avatar: a.Avatar, BackgroundImage: a.BackgroundImage, Signature: a.Signature}
	}
	return c.records.MSet(ctx, cached)
}

// Delete drops the profiles of ids.
func (c *RedisProfileCache) Delete(ctx context.Context, ids []int64) error {
	return c.records.Delete(ctx, ids)
}

// MemoryProfileCache is the ProfileCache of the embedded mode: profiles in process memory,
// without the password hash (as in Redis: a cache never holds credentials).
type MemoryProfileCache struct {
	records *cache.LocalRecords[Account]
}

var _ ProfileCache = (*MemoryProfileCache)(nil)

// NewMemoryProfileCache holds at most maxEntries profiles, each for ttl with jitter.
func NewMemoryProfileCache(ttl time.Duration, maxEntries int, o cache.LookupObserver) *MemoryProfileCache {
	records := cache.NewLocalRecords("user:p", ttl, maxEntries, func(a Account) int64 { return a.ID })
	if o != nil {
		records.Observe(o)
	}
	return &MemoryProfileCache{records: records}
}

// MGet returns the cached profiles among ids.
func (c *MemoryProfileCache) MGet(ctx context.Context, ids []int64) (map[int64]Account, []int64, error) {
	return c.records.MGet(ctx, ids)
}

// MSet caches the profiles.
func (c *MemoryProfileCache) MSet(ctx context.Context, accounts []Account) error {
	profiles := make([]Account, len(accounts))
	for i, a := range accounts {
		a.PasswordHash = ""
		profiles[i] = a
	}
	return c.records.MSet(ctx, profiles)
}

// Delete drops the profiles of ids.
func (c *MemoryProfileCache) Delete(ctx context.Context, ids []int64) error {
	return c.records.Delete(ctx, ids)
}
