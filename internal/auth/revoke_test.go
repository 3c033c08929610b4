package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

// testRevocation runs the revocation behaviour against a store: a logout revokes that token
// only, a user revocation every earlier token of that user only, and tokens issued after it
// work. fresh returns another handle on the same store (another gateway or process).
func testRevocation(t *testing.T, store, other auth.RevocationStore) {
	ctx := context.Background()
	key := []byte(strings.Repeat("k", 32))
	tokens := auth.NewTokens(key, time.Hour, auth.WithRevocations(store))
	elsewhere := auth.NewTokens(key, time.Hour, auth.WithRevocations(other))
	issue := func(user int64) string {
		s, err := tokens.Issue(user)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	wantValid := func(tok *auth.Tokens, s string, valid bool, what string) {
		t.Helper()
		_, err := tok.Verify(ctx, s)
		if valid && err != nil {
			t.Errorf("%s: refused: %v", what, err)
		}
		if !valid && !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: Verify = %v, want ErrInvalidToken", what, err)
		}
	}
	phone, browser, bob := issue(1), issue(1), issue(2)
	wantValid(tokens, phone, true, "fresh token")
	if err := tokens.Revoke(ctx, browser); err != nil {
		t.Fatal(err)
	}
	wantValid(tokens, browser, false, "logged-out token")
	wantValid(elsewhere, browser, false, "logged-out token on another gateway")
	wantValid(tokens, phone, true, "the user's other token after a logout")

	time.Sleep(2 * time.Millisecond) // the revocation is by millisecond: keep the issues apart
	if err := elsewhere.RevokeUser(ctx, 1); err != nil {
		t.Fatal(err)
	}
	wantValid(tokens, phone, false, "token of a revoked user (revoked on another gateway)")
	wantValid(tokens, bob, true, "another user's token")
	time.Sleep(2 * time.Millisecond)
	wantValid(tokens, issue(1), true, "token issued after the revocation")
	if err := tokens.Revoke(ctx, "garbage"); err != nil {
		t.Errorf("revoking a token that does not verify: %v", err)
	}
}

func TestRevocationInMemoryCache(t *testing.T) {
	kv := cache.NewMemory(100)
	testRevocation(t, auth.NewKVRevocations(kv), auth.NewKVRevocations(kv))
}

func TestRevocationInRedis(t *testing.T) {
	r, _ := cachetest.New(t)
	testRevocation(t, auth.NewKVRevocations(r), auth.NewKVRevocations(r))
}

func TestRevocationInDatabase(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, open dbtest.Opener) {
		gdb := open.Migrated(t, auth.Migrate)
		// Another process (the operator's `douyin revoke`) writes without going through this
		// one's memory: it must show within the remembered time.
		testRevocation(t, auth.NewSQLRevocations(gdb, time.Millisecond), auth.NewSQLRevocations(gdb, time.Millisecond))
	})
}

func TestRevocationStoreDownIsNotAValidToken(t *testing.T) {
	tokens := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, auth.WithRevocations(failingStore{}))
	s, _ := tokens.Issue(7)
	if _, err := tokens.Verify(context.Background(), s); !errors.Is(err, auth.ErrRevocationUnavailable) {
		t.Fatalf("Verify with the store down = %v, want ErrRevocationUnavailable", err)
	}
}

type failingStore struct{}

func (failingStore) Get(context.Context, string) (int64, bool, error) {
	return 0, false, errors.New("connection refused")
}
func (failingStore) SetIfGreater(context.Context, string, int64, time.Duration) error {
	return errors.New("connection refused")
}

// countingHook counts the Redis round trips (commands and pipelines) of a client.
type countingHook struct{ n atomic.Int32 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// A token check reads its user's and its own revocation in one Redis round trip: it runs on
// every signed-in request.
func TestVerifyReadsRevocationsInOneRoundTrip(t *testing.T) {
	r, _ := cachetest.New(t)
	tokens := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, auth.WithRevocations(auth.NewKVRevocations(r)))
	token, err := tokens.Issue(7)
	if err != nil {
		t.Fatal(err)
	}
	hook := &countingHook{}
	r.Client().AddHook(hook)
	if _, err := tokens.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if n := hook.n.Load(); n != 1 {
		t.Errorf("Verify took %d Redis round trips, want 1", n)
	}
}

func TestTokensReportTheirRememberedEntries(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, open dbtest.Opener) {
		gdb := open.Migrated(t, auth.Migrate)
		tokens := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour,
			auth.WithRevocations(auth.NewSQLRevocations(gdb, time.Minute)))
		s, err := tokens.Issue(7)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tokens.Verify(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		sizes := map[string]cache.Size{}
		for _, size := range tokens.Sizes() {
			sizes[size.Name] = size
		}
		// One verified token; its check read the token's and the user's revocation.
		if v := sizes["auth:verified"]; v.Entries != 1 || v.MaxEntries <= 1 {
			t.Errorf("auth:verified = %+v, want 1 entry of a larger bound", v)
		}
		if r := sizes["auth:revocations"]; r.Entries != 2 || r.MaxEntries <= 2 {
			t.Errorf("auth:revocations = %+v, want 2 entries of a larger bound", r)
		}
	})
	// Revocations on a shared store keep nothing in this process to report.
	tokens := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, auth.WithRevocations(auth.NewKVRevocations(cache.NewMemory(10))))
	if sizes := tokens.Sizes(); len(sizes) != 1 || sizes[0].Name != "auth:verified" {
		t.Errorf("Sizes with revocations in a key-value store = %+v, want auth:verified only", sizes)
	}
}

// redisTokens are tokens whose revocations live on r, and a token of each user 1..users.
func redisTokens(tb testing.TB, r *cache.Redis, users int) (*auth.Tokens, []string) {
	tb.Helper()
	tokens := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, auth.WithRevocations(auth.NewKVRevocations(r)))
	issued := make([]string, users)
	for i := range issued {
		var err error
		if issued[i], err = tokens.Issue(int64(i + 1)); err != nil {
			tb.Fatal(err)
		}
	}
	return tokens, issued
}

// Concurrent token checks on Redis share reads, each gets its own answer, and a check that
// starts after a logout was acknowledged refuses the token even while reads are in flight.
func TestConcurrentVerifiesShareReadsAndSeeLogouts(t *testing.T) {
	r, rt := cachetest.New(t)
	const users, rounds = 40, 5
	tokens, issued := redisTokens(t, r, users)
	ctx := context.Background()

	before := rt.Count()
	var wg sync.WaitGroup
	for i, token := range issued {
		wg.Go(func() {
			for range rounds {
				if user, err := tokens.Verify(ctx, token); err != nil || user != int64(i+1) {
					t.Errorf("Verify(token of %d) = %d, %v", i+1, user, err)
				}
			}
		})
	}
	wg.Wait()
	if trips := rt.Count() - before; trips >= users*rounds {
		t.Errorf("%d checks took %d Redis round trips, want fewer: concurrent checks share reads", users*rounds, trips)
	}

	// Logouts while other checks keep reads in flight: the logged-out token is refused at once.
	stop := make(chan struct{})
	for _, token := range issued[1:] {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := tokens.Verify(ctx, token); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 50 {
		token, err := tokens.Issue(int64(1000 + i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tokens.Verify(ctx, token); err != nil {
			t.Fatal(err)
		}
		if err := tokens.Revoke(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := tokens.Verify(ctx, token); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("Verify right after the logout = %v, want ErrInvalidToken", err)
		}
	}
	close(stop)
	wg.Wait()
}
