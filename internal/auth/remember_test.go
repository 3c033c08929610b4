package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

// fakeStore is a revocation store in memory that counts its reads; with held set, a read
// takes its values, then waits for held before answering (a slow store overtaken by a write).
type fakeStore struct {
	mu     sync.Mutex
	values map[string]int64
	reads  int
	held   chan struct{}
	taken  chan struct{} // closed once a held read has taken its values
}

func newFakeStore() *fakeStore { return &fakeStore{values: map[string]int64{}} }

func (s *fakeStore) Get(ctx context.Context, key string) (int64, bool, error) {
	v, f, err := s.getMany(ctx, key)
	return v[0], f[0], err
}

func (s *fakeStore) getMany(_ context.Context, keys ...string) ([]int64, []bool, error) {
	s.mu.Lock()
	s.reads++
	values, found := make([]int64, len(keys)), make([]bool, len(keys))
	for i, k := range keys {
		values[i], found[i] = s.values[k]
	}
	held, taken := s.held, s.taken
	s.mu.Unlock()
	if held != nil {
		close(taken)
		<-held
	}
	return values, found, nil
}

func (s *fakeStore) SetIfGreater(_ context.Context, key string, value int64, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[key] = max(s.values[key], value)
	return nil
}

func (s *fakeStore) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

func testTokens(t *testing.T, store RevocationStore) (*Tokens, string) {
	t.Helper()
	tokens := NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, WithRevocations(store))
	token, err := tokens.Issue(7)
	if err != nil {
		t.Fatal(err)
	}
	return tokens, token
}

// A token's check reads its user's and its own revocation in one call of the store, and not
// at all while both are remembered.
func TestVerifyReadsBothRevocationsInOneStoreCall(t *testing.T) {
	store := newFakeStore()
	tokens, token := testTokens(t, newRememberedRevocations(store, time.Hour))
	for range 3 {
		if _, err := tokens.Verify(context.Background(), token); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.readCount(); n != 1 {
		t.Errorf("three checks read the store %d times, want once", n)
	}
}

// verifies reports whether token verifies; a failure other than a refusal ends the test.
func verifies(t *testing.T, tokens *Tokens, token string) bool {
	t.Helper()
	_, err := tokens.Verify(context.Background(), token)
	if err != nil && !errors.Is(err, ErrInvalidToken) {
		t.Fatal(err)
	}
	return err == nil
}

// A revocation made through this process is refused at once, however long reads are
// remembered; one written elsewhere shows when the remembered read expires.
func TestRememberedRevocations(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, open dbtest.Opener) {
		ctx := context.Background()
		gdb := open.Migrated(t, Migrate)
		here := newRememberedRevocations(&sqlRevocations{gdb: gdb, now: time.Now}, time.Minute)
		tokens, token := testTokens(t, here)
		elsewhere, _ := testTokens(t, NewSQLRevocations(gdb, time.Minute))
		// One clock for issuing, revoking and remembering, moved on by hand: revocations
		// count by the millisecond, so each step below moves it on by two.
		now := time.Now().Add(time.Millisecond) // after the tokens above were issued
		clock := func() time.Time { return now }
		here.now, tokens.now, elsewhere.now = clock, clock, clock

		if !verifies(t, tokens, token) {
			t.Fatal("a fresh token was refused")
		}
		now = now.Add(2 * time.Millisecond)
		if err := elsewhere.RevokeUser(ctx, 7); err != nil {
			t.Fatal(err)
		}
		if !verifies(t, tokens, token) {
			t.Fatal("a revocation from another process showed before the remembered read expired: the read was not remembered")
		}
		now = now.Add(time.Minute + time.Second)
		if verifies(t, tokens, token) {
			t.Fatal("a revocation from another process did not show once the remembered read expired")
		}

		now = now.Add(2 * time.Millisecond)
		later, err := tokens.Issue(7)
		if err != nil {
			t.Fatal(err)
		}
		if !verifies(t, tokens, later) {
			t.Fatal("a token issued after the revocation was refused")
		}
		if err := tokens.Revoke(ctx, later); err != nil {
			t.Fatal(err)
		}
		if verifies(t, tokens, later) {
			t.Fatal("a token logged out through this process still verifies")
		}
		now = now.Add(2 * time.Millisecond)
		last, err := tokens.Issue(7)
		if err != nil {
			t.Fatal(err)
		}
		if !verifies(t, tokens, last) {
			t.Fatal("a fresh token was refused")
		}
		if err := tokens.RevokeUser(ctx, 7); err != nil {
			t.Fatal(err)
		}
		if verifies(t, tokens, last) {
			t.Fatal("a token of a user revoked through this process still verifies")
		}
	})
}

// A store read that this process's revocation overtook may hold the value from before it:
// it is answered but not remembered, so the next check sees the revocation.
func TestReadOvertakenByRevocationIsNotRemembered(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	tokens, token := testTokens(t, newRememberedRevocations(store, time.Hour))

	held, taken := make(chan struct{}), make(chan struct{})
	store.mu.Lock()
	store.held, store.taken = held, taken
	store.mu.Unlock()
	checked := make(chan error, 1)
	go func() {
		_, err := tokens.Verify(ctx, token)
		checked <- err
	}()
	<-taken // the check has read "not revoked" and not yet remembered it
	store.mu.Lock()
	store.held, store.taken = nil, nil
	store.mu.Unlock()
	if err := tokens.Revoke(ctx, token); err != nil {
		t.Fatal(err)
	}
	close(held)
	if err := <-checked; err != nil {
		t.Fatalf("the check that read before the logout = %v, want the token accepted", err)
	}
	if verifies(t, tokens, token) {
		t.Fatal("a token logged out through this process verifies: a read from before the logout was remembered")
	}
}
