package comment

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

func openDB(t *testing.T) *gorm.DB {
	t.Helper()
	// SQLite by default; DOUYIN_TEST_DB=mysql runs the package on MariaDB.
	gdb := dbtest.Open(t)
	if err := Migrate(gdb); err != nil {
		t.Fatal(err)
	}
	return gdb
}

func TestMigrateDeclaresListIndex(t *testing.T) { dbtest.Run(t, testMigrateDeclaresListIndex) }

func testMigrateDeclaresListIndex(t *testing.T, open dbtest.Opener) {
	gdb := openOn(t, open)
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
	st := NewSQLStore(openOn(t, open))
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
