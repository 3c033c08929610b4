package video

import (
	"context"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

// TestHotQueriesUseIndexes checks with EXPLAIN on MariaDB and SQLite that the feed and the publish
// list read their index in order, on enough rows that a full scan would not be chosen anyway.
func TestHotQueriesUseIndexes(t *testing.T) { dbtest.Run(t, testHotQueriesUseIndexes) }

func testHotQueriesUseIndexes(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	gdb := open.Migrated(t, Migrate)
	var videos []Video
	for i := range 2000 {
		status := statusReady
		if i%10 == 0 {
			status = statusProcessing
		}
		videos = append(videos, Video{AuthorID: int64(i%50 + 1), Title: "t", SourceKey: "s", Status: status, CreatedAt: int64(1000 + i)})
	}
	if err := gdb.CreateInBatches(videos, 500).Error; err != nil {
		t.Fatal(err)
	}
	dbtest.Analyze(t, gdb, Video{}.TableName())
	st := NewSQLStore(gdb)
	dbtest.RequireIndexed(t, gdb, "feed", func() error {
		_, err := st.ListFeed(ctx, 2500, 30)
		return err
	})
	dbtest.RequireIndexed(t, gdb, "feed page ids", func() error {
		_, err := st.ListFeedEntries(ctx, 2500, 30)
		return err
	})
	// The followed authors' entries in the window are read from their index ranges and merged
	// by a top-30 sort: no index orders several authors' videos together.
	dbtest.RequireIndexed(t, gdb, "following feed page ids", func() error {
		_, err := st.ListFeedEntriesByAuthors(ctx, []int64{3, 7, 11}, 1500, 2500, 30)
		return err
	}, dbtest.AllowFilesort)
	dbtest.RequireIndexed(t, gdb, "publish list", func() error {
		_, err := st.ListIDsByAuthor(ctx, 7, 30)
		return err
	})
	dbtest.RequireIndexed(t, gdb, "videos by id", func() error {
		_, err := st.MGetReady(ctx, []int64{1, 2, 3})
		return err
	})
}
