package cache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// minRedisVersion is the oldest server with every command the caches use (SMISMEMBER: 6.2).
var minRedisVersion = [2]int{6, 2}

// NewRedisClient connects to the Redis primary of cfg and checks that it answers and is
// recent enough. It returns a single-node client on purpose: the caches' Lua steps touch keys
// of several users and videos at once, which Redis Cluster would refuse (CROSSSLOT).
func NewRedisClient(cfg RedisConfig) (redis.UniversalClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client := redis.NewClient(&redis.Options{
		Addr:         cfg.Addr,
		Username:     cfg.Username,
		Password:     cfg.Password,
		DB:           cfg.DB,
		PoolSize:     cfg.PoolSize,
		DialTimeout:  cfg.DialTimeout,
		ReadTimeout:  cfg.ReadTimeout,
		WriteTimeout: cfg.ReadTimeout,
		// The reply timeouts above are the budget; a context deadline shorter than them wins.
		ContextTimeoutEnabled: true,
		// RESP2: nothing here subscribes to RESP3's push notifications, and with RESP3 the
		// client looks for pending ones before reading every reply, 5-6 % of the CPU of a
		// service reading a page of counters from Redis.
		Protocol: 2,
	})
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout+cfg.ReadTimeout)
	defer cancel()
	if err := checkServer(ctx, client); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("connect to redis at %s: %w", cfg.Addr, err)
	}
	return client, nil
}

func checkServer(ctx context.Context, client redis.UniversalClient) error {
	if err := client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	info, err := client.Info(ctx, "server").Result()
	if err != nil {
		return fmt.Errorf("read server info: %w", err)
	}
	version := ""
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			version = v
		}
	}
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return fmt.Errorf("unrecognised redis_version %q", version)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("unrecognised redis_version %q", version)
	}
	if major < minRedisVersion[0] || (major == minRedisVersion[0] && minor < minRedisVersion[1]) {
		return fmt.Errorf("redis %s is too old: need %d.%d or later", version, minRedisVersion[0], minRedisVersion[1])
	}
	return nil
}

// Open builds the configured backend: the in-process cache bounded to memEntries keys, or
// Redis. r is nil for the memory backend; with Redis, kv is r, and the services build their
// Redis read models on r. The caller closes r.
func Open(cfg Config, memEntries int) (kv KV, r *Redis, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	switch cfg.Backend {
	case BackendRedis:
		client, err := NewRedisClient(cfg.Redis)
		if err != nil {
			return nil, nil, err
		}
		r = NewRedis(client, cfg.Redis.KeyPrefix)
		return r, r, nil
	default:
		return NewMemory(memEntries), nil, nil
	}
}

// TTL returns base with ±10% random jitter, so keys filled together do not expire together
// and send their reloads to SQL at the same moment. A non-positive base is returned as is.
func TTL(base time.Duration) time.Duration {
	spread := base / 10
	if spread <= 0 {
		return base
	}
	return base - spread + rand.N(2*spread+1)
}

// Redis is the Redis-backed KV. Every key is stored under a prefix, so deployments (and
// tests) sharing one server never see each other's keys.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

var _ KV = (*Redis)(nil)

// NewRedis returns the KV over client with every key under prefix.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// Close closes the connection pool.
func (r *Redis) Close() error { return r.client.Close() }

// Client returns the connection, for the services' own Redis read models.
func (r *Redis) Client() redis.UniversalClient { return r.client }

// Key returns name under the prefix; every service builds its keys with it.
func (r *Redis) Key(name string) string { return r.prefix + name }

// IDKey is Key of the names joined and then id in decimal, built in one allocation where
// concatenating takes three: the read models build dozens of keys for every page.
func (r *Redis) IDKey(id int64, names ...string) string {
	var buf [96]byte // most keys fit: the bytes are copied once, by the string conversion
	b := append(buf[:0], r.prefix...)
	for _, n := range names {
		b = append(b, n...)
	}
	return string(strconv.AppendInt(b, id, 10))
}

// Prefix returns the key prefix.
func (r *Redis) Prefix() string { return r.prefix }

// Get returns the value of key; a missing key is a miss, not an error.
func (r *Redis) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := r.client.Get(ctx, r.Key(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redis get %s: %w", key, err)
	}
	return v, true, nil
}

// GetMany returns the value of each key (found false for a missing one) in one round trip.
func (r *Redis) GetMany(ctx context.Context, keys ...string) ([]string, []bool, error) {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.Key(k)
	}
	vals, err := r.client.MGet(ctx, full...).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("redis mget %v: %w", keys, err)
	}
	out, found := make([]string, len(keys)), make([]bool, len(keys))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i], found[i] = s, true
		}
	}
	return out, found, nil
}

// Set stores value for ttl (0: no expiry).
func (r *Redis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := r.client.Set(ctx, r.Key(key), value, ttl).Err(); err != nil {
		return fmt.Errorf("redis set %s: %w", key, err)
	}
	return nil
}

// setIfGreaterScript compares the decimal strings exactly (sign, then length, then digits)
// rather than with tonumber: Lua numbers are doubles and lose int64 precision above 2^53.
var setIfGreaterScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local new = ARGV[1]
if cur and string.match(cur, '^%-?%d+$') then
  local cneg, nneg = cur:sub(1, 1) == '-', new:sub(1, 1) == '-'
  local greater
  if cneg ~= nneg then
    greater = nneg
  elseif #cur ~= #new then
    greater = (#cur > #new) ~= cneg
  else
    greater = (cur > new) ~= cneg and cur ~= new
  end
  if greater then return 0 end
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], new, 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], new)
end
return 1
`)

// SetIfGreater stores value unless the key holds a larger integer, in one atomic step.
func (r *Redis) SetIfGreater(ctx context.Context, key string, value int64, ttl time.Duration) error {
	err := setIfGreaterScript.Run(ctx, r.client, []string{r.Key(key)}, formatInt(value), ttl.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redis set-if-greater %s: %w", key, err)
	}
	return nil
}

// Delete removes key.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.Key(key)).Err(); err != nil {
		return fmt.Errorf("redis delete %s: %w", key, err)
	}
	return nil
}
