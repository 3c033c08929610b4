package errs

import (
	"errors"
	"fmt"
	"testing"

	"github.com/douyin-backend/douyin/kitex_gen/base"
)

func TestCode(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		wantCode base.ErrCode
		wantMsg  string
	}{
		{"nil", nil, base.ErrCode_Success, ""},
		{"business", New(base.ErrCode_VideoNotFound, "video not found"), base.ErrCode_VideoNotFound, "video not found"},
		{"wrapped business", fmt.Errorf("like: %w", Invalid("bad %s", "id")), base.ErrCode_InvalidParam, "bad id"},
		{"internal hides text", errors.New("SELECT * FROM users: disk full"), base.ErrCode_InternalError, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, msg := Code(c.err)
			if code != c.wantCode || msg != c.wantMsg {
				t.Fatalf("Code(%v) = %v %q, want %v %q", c.err, code, msg, c.wantCode, c.wantMsg)
			}
		})
	}
	if !Is(New(base.ErrCode_FollowSelf, "x"), base.ErrCode_FollowSelf) || Is(nil, base.ErrCode_Success) {
		t.Fatal("Is mismatch")
	}
}
