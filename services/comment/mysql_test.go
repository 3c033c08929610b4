package comment

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

// TestConcurrentCommentsKeepExactCounts posts and deletes comments of one video from 20
// goroutines: the counter must equal the rows left, on every backend.
func TestConcurrentCommentsKeepExactCounts(t *testing.T) {
	dbtest.Run(t, testConcurrentCommentsKeepExactCounts)
}

func testConcurrentCommentsKeepExactCounts(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := open.Migrated(t, Migrate)
	st := NewSQLStore(gdb)
	const video, writers, each = 42, 20, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				c := &Comment{VideoID: video, UserID: int64(w), Content: "c", CreatedAt: int64(i)}
				if err := st.CreateComment(ctx, c); err != nil {
					t.Error(err)
					return
				}
				// Every other comment is deleted twice at once: one delete succeeds, the other
				// finds nothing; a deadlock with a concurrent post must not fail either.
				if i%2 == 0 {
					var errs [2]error
					var dw sync.WaitGroup
					for d := range errs {
						dw.Add(1)
						go func() {
							defer dw.Done()
							errs[d] = st.DeleteComment(ctx, c.ID, video, int64(w))
						}()
					}
					dw.Wait()
					if !(errs[0] == nil && errors.Is(errs[1], ErrCommentNotFound) ||
						errs[1] == nil && errors.Is(errs[0], ErrCommentNotFound)) {
						t.Errorf("two deletes of comment %d returned %v and %v; want one nil and one ErrCommentNotFound", c.ID, errs[0], errs[1])
					}
				}
			}
		}()
	}
	wg.Wait()
	var rows int64
	if err := gdb.Model(&Comment{}).Where("video_id = ?", video).Count(&rows).Error; err != nil {
		t.Fatal(err)
	}
	counts, err := st.MGetCommentCounts(ctx, []int64{video})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(writers * (each / 2)); rows != want || counts[video] != rows {
		t.Fatalf("rows %d, counter %d; want both %d", rows, counts[video], want)
	}
}

// TestHotQueriesUseIndexes checks with EXPLAIN on MariaDB and SQLite that the comment list reads
// its index in order.
func TestHotQueriesUseIndexes(t *testing.T) { dbtest.Run(t, testHotQueriesUseIndexes) }

func testHotQueriesUseIndexes(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := open.Migrated(t, Migrate)
	var rows []Comment
	for i := range 2000 {
		rows = append(rows, Comment{VideoID: int64(i%40 + 1), UserID: int64(i % 7), Content: "c", CreatedAt: int64(i)})
	}
	if err := gdb.CreateInBatches(rows, 500).Error; err != nil {
		t.Fatal(err)
	}
	var counts []CommentCount
	for v := range 500 {
		counts = append(counts, CommentCount{VideoID: int64(v + 1), CommentCount: 50})
	}
	if err := gdb.CreateInBatches(counts, 500).Error; err != nil {
		t.Fatal(err)
	}
	dbtest.Analyze(t, gdb, Comment{}.TableName(), CommentCount{}.TableName())
	st := NewSQLStore(gdb)
	dbtest.RequireIndexed(t, gdb, "comment list", func() error {
		_, err := st.ListComments(ctx, 3, 30)
		return err
	})
	dbtest.RequireIndexed(t, gdb, "comment counts", func() error {
		_, err := st.MGetCommentCounts(ctx, []int64{1, 2, 3})
		return err
	})
}
