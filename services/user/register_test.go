package user

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

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
