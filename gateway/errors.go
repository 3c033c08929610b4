package gateway

import (
	"errors"
	"net/http"

	"github.com/cloudwego/kitex/pkg/kerrors"

	"github.com/douyin-backend/douyin/internal/errs"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
)

// outcome is how the edge answers one error code.
type outcome struct {
	httpStatus int
	message    string // used when the service gave none
	// retryAfter, when set, is the Retry-After header (seconds): a refusal the client should
	// simply repeat a little later.
	retryAfter string
}

// classify reports the business code and message of err for the app. A call that could not
// reach a healthy instance of the service it needed (none registered or passing, connection
// refused or lost, circuit open, over a limit, no answer in time) is Unavailable: a clean
// refusal the app can repeat, not an internal fault. Likes, the writes that meet this most,
// are idempotent, and the favorite service itself refuses with Unavailable when it cannot
// queue a like, so a repeat never counts twice.
func classify(err error) (basecode.ErrCode, string) {
	code, msg := errs.Code(err)
	if code != basecode.ErrCode_InternalError {
		return code, msg
	}
	for _, unreachable := range []error{kerrors.ErrServiceDiscovery, kerrors.ErrGetConnection, kerrors.ErrLoadbalance,
		kerrors.ErrNoMoreInstance, kerrors.ErrCircuitBreak, kerrors.ErrOverlimit} {
		if errors.Is(err, unreachable) {
			return basecode.ErrCode_Unavailable, ""
		}
	}
	if errors.Is(err, kerrors.ErrRPCTimeout) {
		return basecode.ErrCode_Unavailable, "the service did not answer in time, please retry later"
	}
	// The instance died mid-call and the client's retries found no other one (the calls that
	// may not be repeated are never retried). Likes and follows are idempotent: repeating is
	// safe.
	if errors.Is(err, kerrors.ErrRemoteOrNetwork) {
		return basecode.ErrCode_Unavailable, "the service went away while answering, please retry later"
	}
	return code, msg
}

// outcomeOf is the one place that maps business codes to what the app sees. Business
// failures answer HTTP 200 with a non-zero status_code, because the fixed app reads failures
// from the JSON body and shows status_msg; protocol failures use their HTTP status and keep
// the JSON envelope. An unknown code is an internal fault.
func outcomeOf(code basecode.ErrCode) outcome {
	switch code {
	case basecode.ErrCode_Success:
		return outcome{httpStatus: http.StatusOK, message: "success"}
	case basecode.ErrCode_InvalidParam:
		return outcome{httpStatus: http.StatusOK, message: "invalid parameter"}
	case basecode.ErrCode_Unauthenticated:
		return outcome{httpStatus: http.StatusUnauthorized, message: "login required"}
	case basecode.ErrCode_UserAlreadyExists:
		return outcome{httpStatus: http.StatusOK, message: "username already exists"}
	case basecode.ErrCode_LoginFailed:
		return outcome{httpStatus: http.StatusOK, message: "wrong username or password"}
	case basecode.ErrCode_UserNotFound:
		return outcome{httpStatus: http.StatusOK, message: "user not found"}
	case basecode.ErrCode_VideoNotFound:
		return outcome{httpStatus: http.StatusOK, message: "video not found"}
	case basecode.ErrCode_CommentNotFound:
		return outcome{httpStatus: http.StatusOK, message: "comment not found"}
	case basecode.ErrCode_PermissionDenied:
		return outcome{httpStatus: http.StatusOK, message: "permission denied"}
	case basecode.ErrCode_FollowSelf:
		return outcome{httpStatus: http.StatusOK, message: "you cannot follow yourself"}
	case basecode.ErrCode_UnsupportedMedia:
		return outcome{httpStatus: http.StatusOK, message: "the upload is not a supported video"}
	case basecode.ErrCode_PayloadTooLarge:
		return outcome{httpStatus: http.StatusRequestEntityTooLarge, message: "the upload is too large"}
	case basecode.ErrCode_RateLimited:
		return outcome{httpStatus: http.StatusTooManyRequests, message: "too many requests, slow down"}
	case basecode.ErrCode_ContentRefused:
		return outcome{httpStatus: http.StatusOK, message: "the text contains a word that is not allowed"}
	case basecode.ErrCode_Unavailable:
		return outcome{httpStatus: http.StatusServiceUnavailable, message: "service unavailable, please retry later", retryAfter: "1"}
	default:
		return outcome{httpStatus: http.StatusInternalServerError, message: "internal error, please retry later"}
	}
}
