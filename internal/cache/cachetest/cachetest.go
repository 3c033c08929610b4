// Package cachetest connects tests to the real Redis started by scripts/deps.sh, each test
// under its own key prefix, and counts the round trips a test makes.
package cachetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/cache"
)

// AddrEnv names the variable holding the test server's host:port.
const AddrEnv = "DOUYIN_TEST_REDIS_ADDR"

// DefaultAddr is where scripts/deps.sh starts Redis.
const DefaultAddr = "127.0.0.1:6379"

// Addr returns the test server's address.
func Addr() string {
	if a := os.Getenv(AddrEnv); a != "" {
		return a
	}
	return DefaultAddr
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// New connects to the test Redis with a fresh client and a key prefix unique to this test run,
// and deletes every key under the prefix when the test ends. An unreachable server fails the
// test: a missing backend must never pass as a skip.
func New(t testing.TB) (*cache.Redis, *RoundTrips) {
	t.Helper()
	cfg := cache.RedisConfig{Addr: Addr(), DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second}
	client, err := cache.NewRedisClient(cfg)
	if err != nil {
		t.Fatalf("Redis at %s is unreachable (%v): run scripts/deps.sh to start it, or set %s", cfg.Addr, err, AddrEnv)
	}
	rt := &RoundTrips{}
	client.AddHook(rt)
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	name := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	r := cache.NewRedis(client, "douyintest:"+name+":"+hex.EncodeToString(buf)+":")
	t.Cleanup(func() {
		if err := Flush(context.Background(), r); err != nil {
			t.Errorf("delete the test's keys: %v", err)
		}
		_ = client.Close()
	})
	return r, rt
}

// Flush deletes every key under r's prefix: the test's stand-in for FLUSHALL or a restart of
// Redis, which other tests sharing the server must not see.
func Flush(ctx context.Context, r *cache.Redis) error {
	iter := r.Client().Scan(ctx, 0, r.Prefix()+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := r.Client().Del(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return r.Client().Del(ctx, batch...).Err()
	}
	return nil
}

// Keys returns the keys under r's prefix, without it.
func Keys(ctx context.Context, r *cache.Redis) ([]string, error) {
	var out []string
	iter := r.Client().Scan(ctx, 0, r.Prefix()+"*", 1000).Iterator()
	for iter.Next(ctx) {
		out = append(out, iter.Val()[len(r.Prefix()):])
	}
	return out, iter.Err()
}

// RoundTrips is a go-redis hook counting network round trips: one per command sent alone,
// one per pipeline however many commands it carries.
type RoundTrips struct {
	n atomic.Int64
}

// Count returns the round trips so far.
func (c *RoundTrips) Count() int64 { return c.n.Load() }

// DialHook passes dials through.
func (c *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook counts a single command.
func (c *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts a pipeline once.
func (c *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// ServerCPU returns the CPU time, user and system, in nanoseconds, the Redis server has used
// (INFO cpu): a benchmark that moves work into Redis reports it beside its own. Redis serves
// every test on the box, so a reading covers theirs too.
func ServerCPU(tb testing.TB, r *cache.Redis) int64 {
	tb.Helper()
	info, err := r.Client().Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var total float64
	for line := range strings.SplitSeq(info, "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && (name == "used_cpu_user" || name == "used_cpu_sys") {
			seconds, err := strconv.ParseFloat(value, 64)
			if err != nil {
				tb.Fatalf("INFO cpu %s: %v", line, err)
			}
			total += seconds
		}
	}
	return int64(total * 1e9)
}

// CommandStat is one command's count and time in Redis (INFO commandstats). A script's
// EVALSHA counts the commands it calls, which are also counted on their own.
type CommandStat struct {
	Calls, Usec int64
}

// CommandStats returns what the Redis server has run, by command (lower case, as INFO names
// them): a benchmark diffs two readings to say where Redis's CPU went. Redis serves every test
// on the box, so a reading covers theirs too.
func CommandStats(tb testing.TB, r *cache.Redis) map[string]CommandStat {
	tb.Helper()
	info, err := r.Client().Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]CommandStat{}
	for line := range strings.SplitSeq(info, "\r\n") {
		name, fields, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":")
		if !ok || len(name) == len(line) {
			continue
		}
		var st CommandStat
		for field := range strings.SplitSeq(fields, ",") {
			key, value, _ := strings.Cut(field, "=")
			switch key {
			case "calls":
				st.Calls, err = strconv.ParseInt(value, 10, 64)
			case "usec":
				st.Usec, err = strconv.ParseInt(value, 10, 64)
			}
			if err != nil {
				tb.Fatalf("INFO commandstats %s: %v", line, err)
			}
		}
		out[name] = st
	}
	return out
}
