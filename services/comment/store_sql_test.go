package comment

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

func TestMigrateDeclaresListIndex(t *testing.T) { dbtest.Run(t, testMigrateDeclaresListIndex) }

func testMigrateDeclaresListIndex(t *testing.T, open dbtest.Opener) {
	gdb := open.Migrated(t, Migrate)
	if !gdb.Migrator().HasIndex(&Comment{}, "idx_comments_video_created") {
		t.Fatal("index idx_comments_video_created missing")
	}
	if err := Migrate(gdb); err != nil {
		t.Fatalf("second migration: %v", err)
	}
}

func TestStoreCountsFollowRows(t *testing.T) { dbtest.Run(t, testStoreCountsFollowRows) }

func testStoreCountsFollowRows(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	st := NewSQLStore(open.Migrated(t, Migrate))
	a := &Comment{VideoID: 1, UserID: 5, Content: "a", CreatedAt: 10}
	b := &Comment{VideoID: 1, UserID: 6, Content: "b", CreatedAt: 10}
	c := &Comment{VideoID: 2, UserID: 5, Content: "c", CreatedAt: 20}
	for _, cm := range []*Comment{a, b, c} {
		if err := st.CreateComment(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := st.MGetCommentCounts(ctx, []int64{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if counts[1] != 2 || counts[2] != 1 || counts[3] != 0 {
		t.Fatalf("counts %v, want 1:2 2:1", counts)
	}
	// Equal created_at: the later id is newer.
	list, err := st.ListComments(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Fatalf("list %+v, want [b a]", list)
	}
	for _, wrong := range []struct{ video, user int64 }{{2, 5}, {1, 6}} {
		if err := st.DeleteComment(ctx, a.ID, wrong.video, wrong.user); !errors.Is(err, ErrCommentNotFound) {
			t.Fatalf("delete with video %d user %d = %v, want ErrCommentNotFound", wrong.video, wrong.user, err)
		}
	}
	if err := st.DeleteComment(ctx, a.ID, 1, 5); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteComment(ctx, a.ID, 1, 5); !errors.Is(err, ErrCommentNotFound) {
		t.Fatalf("second delete = %v, want ErrCommentNotFound", err)
	}
	if _, err := st.GetComment(ctx, a.ID); !errors.Is(err, ErrCommentNotFound) {
		t.Fatalf("GetComment(deleted) = %v, want ErrCommentNotFound", err)
	}
	counts, _ = st.MGetCommentCounts(ctx, []int64{1})
	if counts[1] != 1 {
		t.Fatalf("count after delete %d, want 1", counts[1])
	}
}

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
