// Package errs builds the business errors that cross service boundaries. A business error
// carries a code from idl/base.thrift as a Kitex biz status, so it survives both an
// in-process call and a network hop, and the HTTP edge maps it in one table.
package errs

import (
	"errors"
	"fmt"

	"github.com/cloudwego/kitex/pkg/kerrors"

	"github.com/douyin-backend/douyin/kitex_gen/base"
)

// New returns a business error with a message that is safe to show to the app user.
func New(code base.ErrCode, msg string) error {
	return kerrors.NewBizStatusError(int32(code), msg)
}

// Invalid returns an InvalidParam error with a formatted, client-safe message.
func Invalid(format string, args ...any) error {
	return New(base.ErrCode_InvalidParam, fmt.Sprintf(format, args...))
}

// Code reports the business code and message of err. Errors that are not business errors
// are internal faults: they report InternalError and an empty message, so their text
// (SQL, file paths) never reaches a client.
func Code(err error) (base.ErrCode, string) {
	if err == nil {
		return base.ErrCode_Success, ""
	}
	var biz kerrors.BizStatusErrorIface
	if errors.As(err, &biz) {
		return base.ErrCode(biz.BizStatusCode()), biz.BizMessage()
	}
	if biz, ok := kerrors.FromBizStatusError(err); ok {
		return base.ErrCode(biz.BizStatusCode()), biz.BizMessage()
	}
	return base.ErrCode_InternalError, ""
}

// Is reports whether err is a business error with the given code.
func Is(err error, code base.ErrCode) bool {
	c, _ := Code(err)
	return err != nil && c == code
}
