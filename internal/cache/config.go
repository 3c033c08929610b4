package cache

import (
	"flag"
	"fmt"
	"net"
	"strings"
	"time"
)

// Backends.
const (
	BackendMemory = "memory"
	BackendRedis  = "redis"
)

// RedisPasswordFlag names the Redis password setting; it is accepted only from the environment.
const RedisPasswordFlag = "cache.redis.password"

// Config selects and tunes the cache.
type Config struct {
	// Backend is memory (in-process, the embedded mode) or redis.
	Backend string
	// TTL is the base lifetime of cached records and sets; each key gets it with jitter.
	TTL time.Duration
	// CounterTTL is the base lifetime of cached counters. It bounds how long a counter that
	// missed a concurrent update can stay wrong before it is reloaded from SQL.
	CounterTTL time.Duration
	Redis      RedisConfig
}

// RedisConfig is the connection to one Redis primary.
type RedisConfig struct {
	Addr     string
	Username string
	// Password comes only from the environment (DOUYIN_CACHE_REDIS_PASSWORD).
	Password    string
	DB          int
	KeyPrefix   string
	PoolSize    int
	DialTimeout time.Duration
	ReadTimeout time.Duration
}

// RegisterFlags registers the cache settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Backend, "cache.backend", BackendMemory, "cache backend: memory (in-process, embedded mode) or redis")
	fs.DurationVar(&c.TTL, "cache.ttl", time.Hour, "base lifetime of cached records and sets (each key gets ±10% jitter)")
	fs.DurationVar(&c.CounterTTL, "cache.counter-ttl", 10*time.Minute, "base lifetime of cached counters (±10% jitter); bounds how long a counter that raced a reload stays off")
	c.Redis.RegisterFlags(fs)
}

// RegisterFlags registers the Redis connection settings.
func (c *RedisConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "cache.redis.addr", "127.0.0.1:6379", "host:port of the Redis primary (one node: the Lua steps touch keys of several users, so Redis Cluster is not supported)")
	fs.StringVar(&c.Username, "cache.redis.username", "", "Redis ACL user (empty: the default user)")
	fs.StringVar(&c.Password, RedisPasswordFlag, "", "Redis password (environment only: DOUYIN_CACHE_REDIS_PASSWORD)")
	fs.IntVar(&c.DB, "cache.redis.db", 0, "Redis database number")
	fs.StringVar(&c.KeyPrefix, "cache.redis.key-prefix", "douyin:", "prefix of every key, so several deployments can share one Redis")
	fs.IntVar(&c.PoolSize, "cache.redis.pool-size", 0, "connections per process (0: 10 per CPU)")
	fs.DurationVar(&c.DialTimeout, "cache.redis.dial-timeout", 2*time.Second, "timeout of a new connection")
	fs.DurationVar(&c.ReadTimeout, "cache.redis.read-timeout", 500*time.Millisecond, "timeout of one command's reply (also used for writes); a slow cache must fail fast so reads fall back to SQL")
}

// SecretFlags lists the cache settings accepted only from the environment.
func (c *Config) SecretFlags() []string { return []string{RedisPasswordFlag} }

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.TTL <= 0 || c.CounterTTL <= 0 {
		return fmt.Errorf("cache.ttl and cache.counter-ttl must be positive")
	}
	switch c.Backend {
	case BackendMemory:
		return nil
	case BackendRedis:
	default:
		return fmt.Errorf("cache.backend %q: want memory or redis", c.Backend)
	}
	return c.Redis.Validate()
}

// Validate checks the Redis settings.
func (c *RedisConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("cache.redis.addr %q: want host:port: %w", c.Addr, err)
	}
	if c.DB < 0 {
		return fmt.Errorf("cache.redis.db must not be negative")
	}
	if strings.ContainsAny(c.KeyPrefix, " \t\r\n*?[") {
		return fmt.Errorf("cache.redis.key-prefix %q must not contain spaces or glob characters", c.KeyPrefix)
	}
	if c.PoolSize < 0 {
		return fmt.Errorf("cache.redis.pool-size must not be negative")
	}
	if c.DialTimeout <= 0 || c.ReadTimeout <= 0 {
		return fmt.Errorf("cache.redis.dial-timeout and cache.redis.read-timeout must be positive")
	}
	return nil
}
