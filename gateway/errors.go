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

// outcomeOf is the one place that maps business codes to what the app sees. Business
// failures answer HTTP 200 with a non-zero status_code, because the fixed app reads failures
// from the JSON body and shows status_msg; protocol failures use their HTTP status and keep
// the JSON envelope. An unknown code is an internal fault.
func outcomeOf(code base.ErrCode) outcome {
	switch code {
	case base.ErrCode_Success:
		return outcome{http.StatusOK, "success"}
	case base.ErrCode_InvalidParam:
		return outcome{http.StatusOK, "invalid parameter"}
	case base.ErrCode_Unauthenticated:
		return outcome{http.StatusUnauthorized, "login required"}
	case base.ErrCode_UserAlreadyExists:
		return outcome{http.StatusOK, "username already exists"}
	case base.ErrCode_LoginFailed:
		return outcome{http.StatusOK, "wrong username or password"}
	case base.ErrCode_UserNotFound:
		return outcome{http.StatusOK, "user not found"}
	case base.ErrCode_VideoNotFound:
		return outcome{http.StatusOK, "video not found"}
	case base.ErrCode_CommentNotFound:
		return outcome{http.StatusOK, "comment not found"}
	case base.ErrCode_PermissionDenied:
		return outcome{http.StatusOK, "permission denied"}
	case base.ErrCode_FollowSelf:
		return outcome{http.StatusOK, "you cannot follow yourself"}
	case base.ErrCode_UnsupportedMedia:
		return outcome{http.StatusOK, "the upload is not a supported video"}
	case base.ErrCode_PayloadTooLarge:
		return outcome{http.StatusRequestEntityTooLarge, "the upload is too large"}
	case base.ErrCode_RateLimited:
		return outcome{http.StatusTooManyRequests, "too many requests, slow down"}
	case base.ErrCode_ContentRefused:
		return outcome{http.StatusOK, "the text contains a word that is not allowed"}
	case base.ErrCode_Unavailable:
		return outcome{http.StatusServiceUnavailable, "service unavailable, please retry later"}
	default:
		return outcome{http.StatusInternalServerError, "internal error, please retry later"}
	}
}
