package comment

import (
	"context"
	"strings"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
)

func TestPostCommentValidation(t *testing.T) {
	s, _ := newService(t)
	cases := []struct {
		name string
		req  *commentapi.PostCommentRequest
		code base.ErrCode
		msg  string
	}{
		{"no user", &commentapi.PostCommentRequest{VideoId: 10, Content: "hi"}, base.ErrCode_InvalidParam, "user_id must be a positive integer"},
		{"no video", &commentapi.PostCommentRequest{UserId: 1, Content: "hi"}, base.ErrCode_InvalidParam, "video_id must be a positive integer"},
		{"empty", &commentapi.PostCommentRequest{UserId: 1, VideoId: 10}, base.ErrCode_InvalidParam, "comment must be 1-500 characters"},
		{"whitespace only", &commentapi.PostCommentRequest{UserId: 1, VideoId: 10, Content: " \n\t　"}, base.ErrCode_InvalidParam, "comment must be 1-500 characters"},
		{"too long", &commentapi.PostCommentRequest{UserId: 1, VideoId: 10, Content: strings.Repeat("评", 501)}, base.ErrCode_InvalidParam, "comment must be 1-500 characters"},
		{"unknown video", &commentapi.PostCommentRequest{UserId: 1, VideoId: 99, Content: "hi"}, base.ErrCode_VideoNotFound, "video not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.PostComment(context.Background(), tc.req)
			if code, msg := errs.Code(err); code != tc.code || msg != tc.msg {
				t.Fatalf("PostComment = %v %q, want %v %q", code, msg, tc.code, tc.msg)
			}
		})
	}
	if n := commentCount(t, s, 10); n != 0 {
		t.Fatalf("rejected comments counted: %d", n)
	}
	// 500 multi-byte characters fit: the limit counts characters, not bytes.
	c := post(t, s, 1, 10, "  "+strings.Repeat("评", 500)+"\n")
	if c.Content != strings.Repeat("评", 500) {
		t.Fatal("content not stored trimmed")
	}
}

func TestPostAndListComments(t *testing.T) { runVariants(t, testPostAndListComments) }

func testPostAndListComments(t *testing.T, opts []Option) {
	s, _ := newService(t, opts...)
	ctx := context.Background()
	first := post(t, s, 1, 10, "first")
	second := post(t, s, 2, 10, "  second  ")
	post(t, s, 1, 20, "elsewhere")
	if second.Content != "second" || second.UserId != 2 || second.VideoId != 10 || second.Id <= first.Id || second.CreatedAt <= first.CreatedAt {
		t.Fatalf("posted %+v", second)
	}
	list, err := s.ListComments(ctx, &commentapi.ListCommentsRequest{VideoId: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Comments) != 2 || list.Comments[0].Id != second.Id || list.Comments[1].Id != first.Id {
		t.Fatalf("list %v, want [second first]", list.Comments)
	}
	empty, err := s.ListComments(ctx, &commentapi.ListCommentsRequest{VideoId: 30})
	if err != nil || empty.Comments == nil || len(empty.Comments) != 0 {
		t.Fatalf("empty list = %v, %v; want a non-nil empty list", empty, err)
	}
	if _, err := s.ListComments(ctx, &commentapi.ListCommentsRequest{}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("ListComments without video = %v, want InvalidParam", err)
	}
	counts, err := s.MGetCommentCounts(ctx, &commentapi.MGetCommentCountsRequest{VideoIds: []int64{10, 20, 30, 10, -4}})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts.CommentCounts) != 3 || counts.CommentCounts[10] != 2 || counts.CommentCounts[20] != 1 || counts.CommentCounts[30] != 0 {
		t.Fatalf("counts %v, want 10:2 20:1 30:0", counts.CommentCounts)
	}
	// The counts just read are cached now: a new comment must still show at once.
	post(t, s, 3, 10, "third")
	if n := commentCount(t, s, 10); n != 3 {
		t.Fatalf("count after a third comment = %d, want 3", n)
	}
}
