package comment

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// fakeVideos knows a fixed set of ready video ids.
type fakeVideos struct {
	videoapi.VideoService // other methods are not used and panic if called
	ready                 map[int64]bool
}

func (f fakeVideos) MGetVideos(_ context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	out := map[int64]*videoapi.VideoRecord{}
	for _, id := range req.VideoIds {
		if f.ready[id] {
			out[id] = &videoapi.VideoRecord{Id: id, AuthorId: 1, Status: videoapi.VideoStatus_Ready}
		}
	}
	return &videoapi.MGetVideosResponse{Videos: out}, nil
}

func newService(t *testing.T, opts ...Option) (*Service, *gorm.DB) {
	t.Helper()
	gdb := openDB(t)
	s := New(NewSQLStore(gdb), fakeVideos{ready: map[int64]bool{10: true, 20: true}}, opts...)
	clock := int64(1_000)
	var mu sync.Mutex
	s.now = func() int64 { mu.Lock(); defer mu.Unlock(); clock++; return clock }
	return s, gdb
}

// countCaches are the ways the service is deployed: SQL only, the embedded mode's in-process
// counters, Redis.
var countCaches = map[string]func(t *testing.T) []Option{
	"sql": func(*testing.T) []Option { return nil },
	"memory": func(*testing.T) []Option {
		return []Option{WithCountCache(cache.NewLocalCounts("comment:n", time.Hour, 1000, nil))}
	},
	"redis": func(t *testing.T) []Option {
		r, _ := cachetest.New(t)
		return []Option{WithCountCache(cache.NewRedisCounts(r, "comment:n", time.Hour, nil))}
	},
}

// runVariants runs test once per deployment, each on a fresh database and key space.
func runVariants(t *testing.T, test func(t *testing.T, opts []Option)) {
	for name, opts := range countCaches {
		t.Run(name, func(t *testing.T) { test(t, opts(t)) })
	}
}

func post(t *testing.T, s *Service, user, video int64, content string) *commentapi.CommentRecord {
	t.Helper()
	resp, err := s.PostComment(context.Background(), &commentapi.PostCommentRequest{UserId: user, VideoId: video, Content: content})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Comment
}

func commentCount(t *testing.T, s *Service, video int64) int64 {
	t.Helper()
	resp, err := s.MGetCommentCounts(context.Background(), &commentapi.MGetCommentCountsRequest{VideoIds: []int64{video}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.CommentCounts[video]
}

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

// TestConcurrentPostsAndDeletes posts from 20 goroutines, then deletes every comment twice
// concurrently: each delete must count once and the counter must match the rows.
func TestConcurrentPostsAndDeletes(t *testing.T) { runVariants(t, testConcurrentPostsAndDeletes) }

func testConcurrentPostsAndDeletes(t *testing.T, opts []Option) {
	s, gdb := newService(t, opts...)
	ctx := context.Background()
	var wg sync.WaitGroup
	posted := make(chan *commentapi.CommentRecord, 40)
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 {
				resp, err := s.PostComment(ctx, &commentapi.PostCommentRequest{UserId: int64(g + 1), VideoId: 10, Content: "hi"})
				if err != nil {
					t.Error(err)
					return
				}
				posted <- resp.Comment
			}
		}()
	}
	wg.Wait()
	close(posted)
	if n := commentCount(t, s, 10); n != 40 {
		t.Fatalf("count after 40 concurrent posts = %d", n)
	}
	var deleted sync.WaitGroup
	var mu sync.Mutex
	okDeletes := 0
	i := 0
	for c := range posted {
		if i%2 == 0 { // delete half of them, each from two goroutines at once
			for range 2 {
				deleted.Add(1)
				go func() {
					defer deleted.Done()
					_, err := s.DeleteComment(ctx, &commentapi.DeleteCommentRequest{UserId: c.UserId, VideoId: 10, CommentId: c.Id})
					switch {
					case err == nil:
						mu.Lock()
						okDeletes++
						mu.Unlock()
					case !errs.Is(err, base.ErrCode_CommentNotFound):
						t.Error(err)
					}
				}()
			}
		}
		i++
	}
	deleted.Wait()
	var rows int64
	gdb.Model(&Comment{}).Where("video_id = ?", 10).Count(&rows)
	if okDeletes != 20 || rows != 20 || commentCount(t, s, 10) != 20 {
		t.Fatalf("%d successful deletes, %d rows, count %d; want 20 each", okDeletes, rows, commentCount(t, s, 10))
	}
}

func TestMGetCommentCountsLimits(t *testing.T) {
	s, gdb := newService(t)
	ctx := context.Background()
	many := make([]int64, ids.MaxBatch)
	for i := range many {
		many[i] = int64(i + 1)
	}
	queries := 0
	if err := gdb.Callback().Query().After("gorm:query").Register("test:count_queries", func(*gorm.DB) { queries++ }); err != nil {
		t.Fatal(err)
	}
	resp, err := s.MGetCommentCounts(ctx, &commentapi.MGetCommentCountsRequest{VideoIds: many})
	if err != nil {
		t.Fatal(err)
	}
	if queries != 1 || len(resp.CommentCounts) != len(many) {
		t.Fatalf("MGetCommentCounts(%d ids): %d queries, %d results; want 1 query, every id", len(many), queries, len(resp.CommentCounts))
	}
	if _, err := s.MGetCommentCounts(ctx, &commentapi.MGetCommentCountsRequest{VideoIds: append(many, 5000)}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("MGetCommentCounts over the batch limit = %v, want InvalidParam", err)
	}
}
