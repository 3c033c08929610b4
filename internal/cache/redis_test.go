package cache_test

import (
	"context"
	"flag"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/config"
)

// testKV runs the KV contract against an implementation.
func testKV(t *testing.T, kv cache.KV) {
	ctx := context.Background()
	if _, ok, err := kv.Get(ctx, "a"); ok || err != nil {
		t.Fatalf("Get on empty = %v, %v; want a miss", ok, err)
	}
	if err := kv.Set(ctx, "a", "1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := kv.Get(ctx, "a"); !ok || v != "1" || err != nil {
		t.Fatalf("Get = %q %v %v", v, ok, err)
	}
	cases := []struct {
		set  int64
		want int64
	}{
		{5, 5}, {3, 5}, {9, 9}, {9, 9}, {-1, 9},
		// Beyond 2^53 doubles cannot tell these apart; the comparison must stay exact.
		{math.MaxInt64 - 1, math.MaxInt64 - 1}, {math.MaxInt64 - 2, math.MaxInt64 - 1}, {math.MaxInt64, math.MaxInt64},
	}
	for _, c := range cases {
		if err := kv.SetIfGreater(ctx, "t", c.set, time.Minute); err != nil {
			t.Fatal(err)
		}
		if v, ok, _ := cache.GetInt(ctx, kv, "t"); !ok || v != c.want {
			t.Fatalf("after SetIfGreater(%d) = %d, want %d", c.set, v, c.want)
		}
	}
	for _, c := range []struct{ set, want int64 }{{-10, -10}, {-20, -10}, {-3, -3}, {-100, -3}, {0, 0}} {
		if err := kv.SetIfGreater(ctx, "neg", c.set, time.Minute); err != nil {
			t.Fatal(err)
		}
		if v, _, _ := cache.GetInt(ctx, kv, "neg"); v != c.want {
			t.Fatalf("negative: after SetIfGreater(%d) = %d, want %d", c.set, v, c.want)
		}
	}
	// A malformed value is replaced, as the in-memory cache does.
	_ = kv.Set(ctx, "junk", "abc", time.Minute)
	_ = kv.SetIfGreater(ctx, "junk", 4, time.Minute)
	if v, _, _ := cache.GetInt(ctx, kv, "junk"); v != 4 {
		t.Fatalf("SetIfGreater over junk = %d, want 4", v)
	}
	if err := kv.Delete(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := kv.Get(ctx, "t"); ok {
		t.Fatal("deleted key still there")
	}
}

func TestMemoryKVContract(t *testing.T) { testKV(t, cache.NewMemory(100)) }

func TestRedisKVContract(t *testing.T) {
	r, _ := cachetest.New(t)
	testKV(t, r)
	ctx := context.Background()
	// Keys live under the prefix and expire.
	if ttl := r.Client().PTTL(ctx, r.Key("a")).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("PTTL = %v, want (0, 1m]", ttl)
	}
	if err := r.SetIfGreater(ctx, "forever", 1, 0); err != nil {
		t.Fatal(err)
	}
	if ttl := r.Client().PTTL(ctx, r.Key("forever")).Val(); ttl != -1 {
		t.Fatalf("SetIfGreater with ttl 0: PTTL = %v, want no expiry", ttl)
	}
}

func TestRedisSetIfGreaterConcurrent(t *testing.T) {
	r, _ := cachetest.New(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if err := r.SetIfGreater(ctx, "latest", int64(1_700_000_000_000+i), time.Minute); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if v, _, _ := cache.GetInt(ctx, r, "latest"); v != 1_700_000_000_049 {
		t.Fatalf("latest = %d, want the largest value written", v)
	}
}

func TestTTLJitter(t *testing.T) {
	base := time.Hour
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := cache.TTL(base)
		if d < 54*time.Minute || d > 66*time.Minute {
			t.Fatalf("TTL(1h) = %v, outside ±10%%", d)
		}
		seen[d] = true
	}
	if len(seen) < 900 {
		t.Fatalf("TTL(1h) gave only %d distinct values in 1000 calls: no jitter", len(seen))
	}
	if got := cache.TTL(0); got != 0 {
		t.Fatalf("TTL(0) = %v", got)
	}
	if got := cache.TTL(5 * time.Nanosecond); got != 5*time.Nanosecond {
		t.Fatalf("TTL(5ns) = %v", got)
	}
}

func TestFillSet(t *testing.T) {
	r, _ := cachetest.New(t)
	ctx := context.Background()
	c := r.Client()

	// Empty sets are cacheable through the sentinel.
	if n, err := cache.FillSet(ctx, c, r.Key("empty"), nil, time.Minute).Int(); err != nil || n != 1 {
		t.Fatalf("FillSet(empty) = %d, %v", n, err)
	}
	if members := c.SMembers(ctx, r.Key("empty")).Val(); !slices.Equal(members, []string{cache.SetLoaded}) {
		t.Fatalf("empty set members = %v", members)
	}

	// More members than one unpack chunk.
	big := make([]int64, 12_345)
	for i := range big {
		big[i] = int64(i + 1)
	}
	if err := cache.FillSet(ctx, c, r.Key("big"), big, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if n := c.SCard(ctx, r.Key("big")).Val(); n != int64(len(big))+1 {
		t.Fatalf("SCARD = %d, want %d", n, len(big)+1)
	}
	// A set that exists is newer than any SQL read: a second fill must not touch it.
	c.SRem(ctx, r.Key("big"), "7")
	if n, _ := cache.FillSet(ctx, c, r.Key("big"), big, time.Minute).Int(); n != 0 {
		t.Fatal("FillSet overwrote an existing set")
	}
	if c.SIsMember(ctx, r.Key("big"), "7").Val() {
		t.Fatal("FillSet re-added a removed member")
	}
	if ttl := c.PTTL(ctx, r.Key("big")).Val(); ttl <= 0 {
		t.Fatalf("filled set has no expiry: %v", ttl)
	}

	// ParseCounter reads GET and MGET replies: an integer, or nothing for a missing key.
	c.Set(ctx, r.Key("n"), 1, time.Minute)
	vals := c.MGet(ctx, r.Key("n"), r.Key("absent")).Val()
	if n, ok := cache.ParseCounter(vals[0]); !ok || n != 1 {
		t.Fatalf("ParseCounter(n) = %d %v", n, ok)
	}
	if _, ok := cache.ParseCounter(vals[1]); ok {
		t.Fatal("ParseCounter(nil) reported a value")
	}
}

// TestMembersOfLoaded: a filled set answers each id's membership; a set never filled, or one
// holding members but not the sentinel (left by an increment-style step), is a miss.
func TestMembersOfLoaded(t *testing.T) {
	r, _ := cachetest.New(t)
	ctx := context.Background()
	c := r.Client()
	if err := cache.FillSet(ctx, c, r.Key("filled"), []int64{2, 4}, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	c.SAdd(ctx, r.Key("partial"), 2)
	ids := []int64{1, 2, 3, 4, 2}
	for key, want := range map[string][]bool{"filled": {false, true, false, true, true}, "partial": nil, "absent": nil} {
		cmd := cache.MembersOfLoaded(ctx, c, r.Key(key), ids)
		if err := cmd.Err(); err != nil {
			t.Fatal(err)
		}
		got, loaded := cache.LoadedMembers(cmd, len(ids))
		if loaded != (want != nil) || !slices.Equal(got, want) {
			t.Errorf("%s: members %v loaded %v, want %v", key, got, loaded, want)
		}
	}
}

func TestRedisUnreachableFails(t *testing.T) {
	cfg := cache.RedisConfig{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond}
	if _, err := cache.NewRedisClient(cfg); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("NewRedisClient(unreachable) = %v, want an error naming the address", err)
	}
}

func TestConfig(t *testing.T) {
	var cfg cache.Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if cfg.Backend != cache.BackendMemory || cfg.Redis.KeyPrefix != "douyin:" {
		t.Fatalf("defaults: %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	env := map[string]string{"DOUYIN_CACHE_REDIS_PASSWORD": "pw", "DOUYIN_CACHE_BACKEND": "redis"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if err := config.Load(fs, []string{"-cache.redis.addr", "10.0.0.1:6380", "-cache.redis.db", "2"}, lookup, cfg.SecretFlags()); err != nil {
		t.Fatal(err)
	}
	if cfg.Backend != cache.BackendRedis || cfg.Redis.Password != "pw" || cfg.Redis.Addr != "10.0.0.1:6380" || cfg.Redis.DB != 2 {
		t.Fatalf("loaded: %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// The password is a secret: never from the command line.
	fs2 := flag.NewFlagSet("test", flag.ContinueOnError)
	var cfg2 cache.Config
	cfg2.RegisterFlags(fs2)
	if err := config.Load(fs2, []string{"-" + cache.RedisPasswordFlag, "x"}, lookup, cfg2.SecretFlags()); err == nil {
		t.Fatal("password accepted on the command line")
	}

	bad := map[string]func(c *cache.Config){
		"backend":      func(c *cache.Config) { c.Backend = "memcached" },
		"addr":         func(c *cache.Config) { c.Redis.Addr = "localhost" },
		"db":           func(c *cache.Config) { c.Redis.DB = -1 },
		"prefix glob":  func(c *cache.Config) { c.Redis.KeyPrefix = "a*" },
		"pool":         func(c *cache.Config) { c.Redis.PoolSize = -1 },
		"dial timeout": func(c *cache.Config) { c.Redis.DialTimeout = 0 },
		"ttl":          func(c *cache.Config) { c.TTL = 0 },
	}
	for name, mutate := range bad {
		c := cfg
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
}

func TestOpen(t *testing.T) {
	var cfg cache.Config
	cfg.RegisterFlags(flag.NewFlagSet("test", flag.ContinueOnError))
	kv, r, err := cache.Open(cfg, 10)
	if err != nil || r != nil {
		t.Fatalf("Open(memory) = %v, %v, %v", kv, r, err)
	}
	if _, ok := kv.(*cache.Memory); !ok {
		t.Fatalf("Open(memory) returned %T", kv)
	}

	cfg.Backend = cache.BackendRedis
	cfg.Redis.Addr = cachetest.Addr()
	cfg.Redis.KeyPrefix = "douyintest:open:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	kv, r, err = cache.Open(cfg, 10)
	if err != nil {
		t.Fatalf("Open(redis at %s) = %v: run scripts/deps.sh to start Redis", cfg.Redis.Addr, err)
	}
	t.Cleanup(func() {
		_ = cachetest.Flush(context.Background(), r)
		_ = r.Close()
	})
	if kv != cache.KV(r) || r.Prefix() != cfg.Redis.KeyPrefix {
		t.Fatalf("Open(redis) = %T, prefix %q", kv, r.Prefix())
	}
	ctx := context.Background()
	if err := kv.Set(ctx, "k", "v", time.Minute); err != nil {
		t.Fatal(err)
	}
	if v := r.Client().Get(ctx, cfg.Redis.KeyPrefix+"k").Val(); v != "v" {
		t.Fatalf("key not stored under the prefix: %q", v)
	}

	cfg.Redis.Addr = "127.0.0.1:1"
	cfg.Redis.DialTimeout = 200 * time.Millisecond
	if _, _, err := cache.Open(cfg, 10); err == nil {
		t.Fatal("Open(unreachable redis) succeeded")
	}
}

func TestRedisGetMany(t *testing.T) {
	r, _ := cachetest.New(t)
	ctx := context.Background()
	if err := r.Set(ctx, "one", "1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := r.SetIfGreater(ctx, "three", 3, time.Minute); err != nil {
		t.Fatal(err)
	}
	vals, found, err := r.GetMany(ctx, "one", "two", "three")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(vals, []string{"1", "", "3"}) || !slices.Equal(found, []bool{true, false, true}) {
		t.Fatalf("GetMany = %q %v, want [1 '' 3] [true false true]", vals, found)
	}
}

// IDKey builds what Key of the concatenation does, in one allocation for keys that fit its
// buffer, and stays right for those that do not.
func TestIDKey(t *testing.T) {
	r := cache.NewRedis(nil, "douyin:douyin_up:")
	for _, c := range []struct {
		id    int64
		names []string
	}{
		{0, nil}, {7, []string{"rel:c:"}}, {-12, []string{"fav:", "ev", ":"}},
		{math.MaxInt64, []string{strings.Repeat("x", 120), ":"}},
	} {
		if got, want := r.IDKey(c.id, c.names...), r.Key(strings.Join(c.names, "")+strconv.FormatInt(c.id, 10)); got != want {
			t.Errorf("IDKey(%d, %q) = %q, want %q", c.id, c.names, got, want)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = r.IDKey(1234567, "fav:", "v", ":") }); allocs != 1 {
		t.Errorf("IDKey allocates %v times, want 1", allocs)
	}
}
