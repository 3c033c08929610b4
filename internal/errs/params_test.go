package errs

import (
	"testing"

	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/favorite"
	"github.com/douyin-backend/douyin/kitex_gen/video"
)

func TestParameterRefusals(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{NotPositive("video_id"), "video_id must be a positive integer"},
		{Negative("latest_time"), "latest_time must not be negative"},
		{NotOneOf("action_type", favorite.FavoriteActionType_Like, favorite.FavoriteActionType_Unlike), "action_type must be 1 (like) or 2 (unlike)"},
		{NotOneOf("status", video.VideoStatus_Ready), "status must be 2 (ready)"},
		{NotOneOf("status", video.VideoStatus_Processing, video.VideoStatus_Ready, video.VideoStatus_Failed), "status must be 1 (processing), 2 (ready) or 3 (failed)"},
		{BadLength("title", 100), "title must be 1-100 characters"},
	}
	for _, c := range cases {
		code, msg := Code(c.err)
		if code != base.ErrCode_InvalidParam || msg != c.want {
			t.Errorf("got %v %q, want InvalidParam %q", code, msg, c.want)
		}
	}
}
