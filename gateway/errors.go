package gateway

import (
	"net/http"

	"github.com/douyin-backend/douyin/kitex_gen/base"
)

// outcome is how the edge answers one error code.
type outcome struct {
	httpStatus int
	message    string // used when the service gave none
}

// errorTable is the one place that maps business codes to what the app sees. Business
// failures answer HTTP 200 with a non-zero status_code, because the fixed app reads failures
// from the JSON body and shows status_msg; protocol failures use their HTTP status and keep
// the JSON envelope.
var errorTable = map[base.ErrCode]outcome{
	base.ErrCode_Success:           {http.StatusOK, "success"},
	base.ErrCode_InternalError:     {http.StatusInternalServerError, "internal error, please retry later"},
	base.ErrCode_InvalidParam:      {http.StatusOK, "invalid parameter"},
	base.ErrCode_Unauthenticated:   {http.StatusUnauthorized, "login required"},
	base.ErrCode_UserAlreadyExists: {http.StatusOK, "username already exists"},
	base.ErrCode_LoginFailed:       {http.StatusOK, "wrong username or password"},
	base.ErrCode_UserNotFound:      {http.StatusOK, "user not found"},
	base.ErrCode_VideoNotFound:     {http.StatusOK, "video not found"},
	base.ErrCode_CommentNotFound:   {http.StatusOK, "comment not found"},
	base.ErrCode_PermissionDenied:  {http.StatusOK, "permission denied"},
	base.ErrCode_FollowSelf:        {http.StatusOK, "you cannot follow yourself"},
	base.ErrCode_UnsupportedMedia:  {http.StatusOK, "the upload is not a supported video"},
	base.ErrCode_PayloadTooLarge:   {http.StatusRequestEntityTooLarge, "the upload is too large"},
	base.ErrCode_RateLimited:       {http.StatusTooManyRequests, "too many requests, slow down"},
	base.ErrCode_Unavailable:       {http.StatusServiceUnavailable, "service unavailable, please retry later"},
}

// outcomeOf returns how to answer code; an unknown code is an internal fault.
func outcomeOf(code base.ErrCode) outcome {
	if o, ok := errorTable[code]; ok {
		return o
	}
	return errorTable[base.ErrCode_InternalError]
}
