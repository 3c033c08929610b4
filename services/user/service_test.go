package user

import (
	"context"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

func newService(t *testing.T) (*Service, *gorm.DB) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	return New(NewSQLStore(gdb), testConfig()), gdb
}

func register(t *testing.T, s *Service, name, password string) int64 {
	t.Helper()
	resp, err := s.Register(context.Background(), &userapi.RegisterRequest{Username: name, Password: password})
	if err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	return resp.UserId
}

func TestRegisterValidation(t *testing.T) {
	s, _ := newService(t)
	const weakMsg = "this password is too common or too easy to guess, please choose another"
	cases := []struct {
		name, username, password string
		wantCode                 base.ErrCode
		wantMsg                  string
	}{
		{"empty username", "", "secret-pw1", base.ErrCode_InvalidParam, "username must be 1-32 characters of letters, digits and @ . + - _"},
		{"username too long", strings.Repeat("a", 33), "secret-pw1", base.ErrCode_InvalidParam, "username must be 1-32 characters of letters, digits and @ . + - _"},
		{"username with space", "a b", "secret-pw1", base.ErrCode_InvalidParam, "username must be 1-32 characters of letters, digits and @ . + - _"},
		{"username non-ascii", "用户", "secret-pw1", base.ErrCode_InvalidParam, "username must be 1-32 characters of letters, digits and @ . + - _"},
		{"password too short", "alice", "1234567", base.ErrCode_InvalidParam, "password must be 8-32 characters"},
		{"password too long", "alice", strings.Repeat("p", 33), base.ErrCode_InvalidParam, "password must be 8-32 characters"},
		{"password over bcrypt limit", "alice", strings.Repeat("密", 30), base.ErrCode_InvalidParam, "password is too long: at most 72 bytes"},
		{"email username", "a.b+c_d-e@example.com", "secret-pw1", base.ErrCode_Success, ""},
		{"32 chars and 8 char password", strings.Repeat("z", 32), "k9#xTq2m", base.ErrCode_Success, ""},
		{"common password", "dave", "Password123", base.ErrCode_InvalidParam, weakMsg},
		{"common Chinese password", "dave", "woaini1314", base.ErrCode_InvalidParam, weakMsg},
		{"password is the username", "dave.smith", "Dave.Smith", base.ErrCode_InvalidParam, weakMsg},
		{"one character repeated", "dave", "zzzzzzzzzz", base.ErrCode_InvalidParam, weakMsg},
		{"20 char unicode password", "bob", strings.Repeat("密码", 10), base.ErrCode_Success, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := s.Register(context.Background(), &userapi.RegisterRequest{Username: c.username, Password: c.password})
			code, msg := errs.Code(err)
			if code != c.wantCode || msg != c.wantMsg {
				t.Fatalf("Register = %v %q, want %v %q", code, msg, c.wantCode, c.wantMsg)
			}
			if err == nil && resp.UserId <= 0 {
				t.Fatalf("user id = %d", resp.UserId)
			}
		})
	}
}

func TestRegisterDuplicateIsCaseInsensitive(t *testing.T) {
	s, _ := newService(t)
	register(t, s, "Alice@Example.com", "secret-pw1")
	for _, name := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"} {
		_, err := s.Register(context.Background(), &userapi.RegisterRequest{Username: name, Password: "other-pw12"})
		if code, msg := errs.Code(err); code != base.ErrCode_UserAlreadyExists || msg != "username already exists" {
			t.Fatalf("Register(%q) = %v %q, want UserAlreadyExists", name, code, msg)
		}
	}
}

// The pre-check cannot stop two registrations racing for one name; the unique key must.
func TestRegisterRaceCreatesOneAccount(t *testing.T) {
	s, gdb := newService(t)
	const n = 20
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "racer"
			if i%2 == 1 {
				name = "RACER"
			}
			_, err := s.Register(context.Background(), &userapi.RegisterRequest{Username: name, Password: "secret-pw1"})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch code, _ := errs.Code(err); code {
		case base.ErrCode_Success:
			ok++
		case base.ErrCode_UserAlreadyExists:
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	var rows int64
	gdb.Model(&Account{}).Count(&rows)
	if ok != 1 || rows != 1 {
		t.Fatalf("%d successful registrations, %d rows; want 1 and 1", ok, rows)
	}
}

// A store that misses the duplicate on lookup (the race) must still give UserAlreadyExists.
type lookupBlindStore struct{ Store }

func (lookupBlindStore) AccountByUsernameKey(context.Context, string) (*Account, error) {
	return nil, nil
}

func TestRegisterDuplicateKeyFromInsert(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	s := New(lookupBlindStore{NewSQLStore(gdb)}, testConfig())
	register(t, s, "carol", "secret-pw1")
	_, err := s.Register(context.Background(), &userapi.RegisterRequest{Username: "Carol", Password: "secret-pw1"})
	if !errs.Is(err, base.ErrCode_UserAlreadyExists) {
		t.Fatalf("duplicate insert: %v, want UserAlreadyExists", err)
	}
}

func TestLogin(t *testing.T) {
	s, gdb := newService(t)
	id := register(t, s, "Dave@x.io", "secret-pw1")
	var stored Account
	gdb.First(&stored, id)
	if stored.PasswordHash == "secret-pw1" || !strings.HasPrefix(stored.PasswordHash, "$2") {
		t.Fatalf("password stored as %q, want a bcrypt hash", stored.PasswordHash)
	}
	if stored.CreatedAt < 1e12 {
		t.Fatalf("created_at = %d, want Unix milliseconds", stored.CreatedAt)
	}
	cases := []struct {
		name, username, password string
		wantCode                 base.ErrCode
		wantMsg                  string
	}{
		{"ok", "Dave@x.io", "secret-pw1", base.ErrCode_Success, ""},
		{"ok other case", "dave@X.IO", "secret-pw1", base.ErrCode_Success, ""},
		{"wrong password", "Dave@x.io", "secret2", base.ErrCode_LoginFailed, "wrong username or password"},
		{"unknown user", "nobody", "secret-pw1", base.ErrCode_LoginFailed, "wrong username or password"},
		{"malformed user", "no body", "secret-pw1", base.ErrCode_LoginFailed, "wrong username or password"},
		{"empty username", "", "secret-pw1", base.ErrCode_InvalidParam, "username is required"},
		{"empty password", "Dave@x.io", "", base.ErrCode_InvalidParam, "password is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := s.Login(context.Background(), &userapi.LoginRequest{Username: c.username, Password: c.password})
			code, msg := errs.Code(err)
			if code != c.wantCode || msg != c.wantMsg {
				t.Fatalf("Login = %v %q, want %v %q", code, msg, c.wantCode, c.wantMsg)
			}
			if err == nil && resp.UserId != id {
				t.Fatalf("user id = %d, want %d", resp.UserId, id)
			}
		})
	}
}

// countingStore counts AccountsByIDs calls so batch reads can be shown to be one query.
type countingStore struct {
	Store
	mu    sync.Mutex
	calls int
}

func (c *countingStore) AccountsByIDs(ctx context.Context, ids []int64) ([]Account, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Store.AccountsByIDs(ctx, ids)
}

func TestMGetUsers(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	store := &countingStore{Store: NewSQLStore(gdb)}
	s := New(store, testConfig())
	a := register(t, s, "Erin", "secret-pw1")
	b := register(t, s, "frank", "secret-pw1")
	// A user who has set a custom avatar keeps it; unset fields get the defaults at read time.
	gdb.Model(&Account{}).Where("id = ?", b).Updates(map[string]any{"avatar": "https://cdn/f.png", "signature": "hi"})

	resp, err := s.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: []int64{a, b, a, 0, -1, 999}})
	if err != nil {
		t.Fatal(err)
	}
	if store.calls != 1 {
		t.Fatalf("%d store reads, want 1", store.calls)
	}
	if len(resp.Users) != 2 || resp.Users[999] != nil {
		t.Fatalf("users = %v, want exactly %d and %d", resp.Users, a, b)
	}
	def := DefaultConfig()
	want := map[int64]userapi.UserProfile{
		a: {Id: a, Name: "Erin", Avatar: def.DefaultAvatar, BackgroundImage: def.DefaultBackgroundImage, Signature: def.DefaultSignature},
		b: {Id: b, Name: "frank", Avatar: "https://cdn/f.png", BackgroundImage: def.DefaultBackgroundImage, Signature: "hi"},
	}
	for id, w := range want {
		if got := resp.Users[id]; got == nil || *got != w {
			t.Errorf("user %d = %+v, want %+v", id, got, w)
		}
	}

	// A changed default applies to every profile that has not set its own.
	s2 := New(NewSQLStore(gdb), Config{DefaultAvatar: "/new.png", DefaultBackgroundImage: "/bg2.png", DefaultSignature: "new"})
	resp2, err := s2.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: []int64{a}})
	if err != nil || resp2.Users[a].Avatar != "/new.png" || resp2.Users[a].Signature != "new" {
		t.Fatalf("changed default not applied: %+v %v", resp2.Users[a], err)
	}
}

func TestMGetUsersEmptyAndLimits(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	store := &countingStore{Store: NewSQLStore(gdb)}
	s := New(store, testConfig())
	resp, err := s.MGetUsers(context.Background(), &userapi.MGetUsersRequest{})
	if err != nil || resp.Users == nil || len(resp.Users) != 0 || store.calls != 0 {
		t.Fatalf("empty request: %v %v, %d reads; want empty non-nil map and no read", resp, err, store.calls)
	}
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := s.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("over-limit batch: %v, want InvalidParam", err)
	}
	if _, err := s.MGetUsers(context.Background(), &userapi.MGetUsersRequest{UserIds: tooMany[:ids.MaxBatch]}); err != nil {
		t.Fatalf("batch at the limit: %v", err)
	}
}

// testConfig is DefaultConfig with the cheapest bcrypt cost: the cost itself is tested in
// internal/auth, and cost 12 under the race detector takes seconds per hash.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.PasswordCost = bcrypt.MinCost
	return cfg
}
