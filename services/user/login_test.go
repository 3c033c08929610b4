package user

import (
	"context"
	"strings"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

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
