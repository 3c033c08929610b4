package comment

import (
	"context"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
)

func TestDeleteComment(t *testing.T) { runVariants(t, testDeleteComment) }

func testDeleteComment(t *testing.T, opts []Option) {
	s, _ := newService(t, opts...)
	ctx := context.Background()
	mine := post(t, s, 1, 10, "mine")
	post(t, s, 2, 10, "theirs")
	del := func(user, video, id int64) error {
		_, err := s.DeleteComment(ctx, &commentapi.DeleteCommentRequest{UserId: user, VideoId: video, CommentId: id})
		return err
	}
	cases := []struct {
		name             string
		user, video, cid int64
		code             base.ErrCode
		msg              string
	}{
		{"no comment id", 1, 10, 0, base.ErrCode_InvalidParam, "comment_id must be a positive integer"},
		{"no user", 0, 10, mine.Id, base.ErrCode_InvalidParam, "user_id must be a positive integer"},
		{"unknown comment", 1, 10, 9999, base.ErrCode_CommentNotFound, "comment not found"},
		{"wrong video", 1, 20, mine.Id, base.ErrCode_CommentNotFound, "comment not found"},
		{"someone else's", 2, 10, mine.Id, base.ErrCode_PermissionDenied, "you can only delete your own comments"},
		{"own comment", 1, 10, mine.Id, base.ErrCode_Success, ""},
		{"already deleted", 1, 10, mine.Id, base.ErrCode_CommentNotFound, "comment not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, msg := errs.Code(del(tc.user, tc.video, tc.cid)); code != tc.code || msg != tc.msg {
				t.Fatalf("DeleteComment = %v %q, want %v %q", code, msg, tc.code, tc.msg)
			}
		})
	}
	if n := commentCount(t, s, 10); n != 1 {
		t.Fatalf("count %d after deleting one of two, want 1", n)
	}
	list, _ := s.ListComments(ctx, &commentapi.ListCommentsRequest{VideoId: 10})
	if len(list.Comments) != 1 || list.Comments[0].Content != "theirs" {
		t.Fatalf("remaining comments %v, want only theirs", list.Comments)
	}
}
