package comment

import (
	"context"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
)

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
