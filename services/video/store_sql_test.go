package video

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
)

func newProcessing(t *testing.T, st Store, author, createdAt int64) int64 {
	t.Helper()
	v := &Video{AuthorID: author, Title: "t", SourceKey: "uploads/x.mp4", Status: statusProcessing, CreatedAt: createdAt}
	if err := st.CreateVideo(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func workCount(t *testing.T, st Store, user int64) int64 {
	t.Helper()
	m, err := st.MGetWorkCounts(context.Background(), []int64{user})
	if err != nil {
		t.Fatal(err)
	}
	return m[user]
}

func TestMigrateDeclaresQueryIndexes(t *testing.T) { dbtest.Run(t, testMigrateDeclaresQueryIndexes) }

func testMigrateDeclaresQueryIndexes(t *testing.T, open dbtest.Opener) {
	gdb := open.Migrated(t, Migrate)
	for _, idx := range []string{"idx_videos_status_created", "idx_videos_author_status_created"} {
		if !gdb.Migrator().HasIndex(&Video{}, idx) {
			t.Errorf("index %s missing", idx)
		}
	}
	// Migrating again must be a no-op, as every deploy runs it.
	if err := Migrate(gdb); err != nil {
		t.Fatal(err)
	}
}

func TestMarkReadyCountsOnceUnderConcurrency(t *testing.T) {
	dbtest.Run(t, testMarkReadyCountsOnceUnderConcurrency)
}

func testMarkReadyCountsOnceUnderConcurrency(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	st := NewSQLStore(open.Migrated(t, Migrate))
	id := newProcessing(t, st, 7, 1000)

	var wg sync.WaitGroup
	var became atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := st.MarkReady(ctx, id, "uploads/x.mp4", "videos/1/cover.jpg", nil)
			if err != nil {
				t.Error(err)
			}
			if v != nil {
				became.Add(1)
				if v.ID != id || v.AuthorID != 7 {
					t.Errorf("MarkReady returned %+v, want video %d of author 7", v, id)
				}
			}
		}()
	}
	wg.Wait()
	if got := workCount(t, st, 7); got != 1 {
		t.Fatalf("work count after 20 completions = %d, want 1", got)
	}
	if n := became.Load(); n != 1 {
		t.Fatalf("%d completions reported making the video ready, want exactly 1", n)
	}
	// A late failure report must not undo a ready video.
	if err := st.MarkFailed(ctx, id, "late"); err != nil {
		t.Fatal(err)
	}
	vs, err := st.MGetReady(ctx, []int64{id})
	if err != nil || len(vs) != 1 || vs[0].CoverKey != "videos/1/cover.jpg" {
		t.Fatalf("MGetReady = %+v, %v; want the ready video", vs, err)
	}
	if _, err := st.MarkReady(ctx, 999, "a", "b", nil); !errors.Is(err, ErrVideoNotFound) {
		t.Fatalf("MarkReady(unknown) = %v, want ErrVideoNotFound", err)
	}
	if err := st.MarkFailed(ctx, 999, "x"); !errors.Is(err, ErrVideoNotFound) {
		t.Fatalf("MarkFailed(unknown) = %v, want ErrVideoNotFound", err)
	}
}

func TestDeleteVideoUndoesWorkCount(t *testing.T) { dbtest.Run(t, testDeleteVideoUndoesWorkCount) }

func testDeleteVideoUndoesWorkCount(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	st := NewSQLStore(open.Migrated(t, Migrate))
	ready := newProcessing(t, st, 3, 1)
	processing := newProcessing(t, st, 3, 2)
	if _, err := st.MarkReady(ctx, ready, "p", "c", nil); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteVideo(ctx, processing); err != nil {
		t.Fatal(err)
	}
	if got := workCount(t, st, 3); got != 1 {
		t.Fatalf("work count after deleting a processing video = %d, want 1", got)
	}
	if err := st.DeleteVideo(ctx, ready); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteVideo(ctx, ready); err != nil {
		t.Fatalf("deleting a missing video: %v", err)
	}
	if got := workCount(t, st, 3); got != 0 {
		t.Fatalf("work count after deleting the ready video = %d, want 0", got)
	}
}

func TestListFeedAndByAuthor(t *testing.T) { dbtest.Run(t, testListFeedAndByAuthor) }

func testListFeedAndByAuthor(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	st := NewSQLStore(open.Migrated(t, Migrate))
	// Two videos share created_at 300: id breaks the tie, newest id first.
	a := newProcessing(t, st, 1, 100)
	b := newProcessing(t, st, 2, 300)
	c := newProcessing(t, st, 1, 300)
	d := newProcessing(t, st, 1, 400) // stays processing
	e := newProcessing(t, st, 1, 500) // fails
	for _, id := range []int64{a, b, c} {
		if _, err := st.MarkReady(ctx, id, "p", "c", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.MarkFailed(ctx, e, "bad"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		before int64
		limit  int
		want   []int64
	}{
		{1000, 30, []int64{c, b, a}},
		{1000, 2, []int64{c, b}},
		{300, 30, []int64{a}},
		{100, 30, nil},
	}
	for _, tc := range cases {
		vs, err := st.ListFeed(ctx, tc.before, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := videoIDs(vs); !equalIDs(got, tc.want) {
			t.Errorf("ListFeed(%d, %d) = %v, want %v", tc.before, tc.limit, got, tc.want)
		}
		es, err := st.ListFeedEntries(ctx, tc.before, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for i, e := range es {
			got = append(got, e.ID)
			if e.CreatedAt != vs[i].CreatedAt {
				t.Errorf("ListFeedEntries entry %d created_at %d, want %d", i, e.CreatedAt, vs[i].CreatedAt)
			}
		}
		if !equalIDs(got, tc.want) {
			t.Errorf("ListFeedEntries(%d, %d) = %v, want %v", tc.before, tc.limit, got, tc.want)
		}
	}
	got, err := st.ListIDsByAuthor(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !equalIDs(got, []int64{c, a}) {
		t.Errorf("ListIDsByAuthor(1) = %v, want %v (ready only, newest first; d=%d e=%d excluded)", got, []int64{c, a}, d, e)
	}
}

func videoIDs(vs []Video) []int64 {
	out := make([]int64, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListFeedEntriesByAuthors(t *testing.T) { dbtest.Run(t, testListFeedEntriesByAuthors) }

func testListFeedEntriesByAuthors(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	st := NewSQLStore(open.Migrated(t, Migrate))
	a1 := newProcessing(t, st, 1, 100)
	b2 := newProcessing(t, st, 2, 200)
	c3 := newProcessing(t, st, 3, 300) // author 3 is not followed
	d1 := newProcessing(t, st, 1, 400)
	e2 := newProcessing(t, st, 2, 400) // same time as d1: the larger id comes first
	newProcessing(t, st, 1, 500)       // stays processing: never listed
	for _, id := range []int64{a1, b2, c3, d1, e2} {
		if _, err := st.MarkReady(ctx, id, "p", "c", nil); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		authors []int64
		since   int64
		before  int64
		limit   int
		want    []int64
	}{
		{[]int64{1, 2}, 0, 1000, 30, []int64{e2, d1, b2, a1}},
		{[]int64{1, 2}, 0, 1000, 2, []int64{e2, d1}},
		{[]int64{1, 2}, 0, 400, 30, []int64{b2, a1}},
		{[]int64{1, 2}, 200, 1000, 30, []int64{e2, d1, b2}},
		{[]int64{1}, 0, 1000, 30, []int64{d1, a1}},
		{[]int64{9}, 0, 1000, 30, nil},
		{nil, 0, 1000, 30, nil},
	}
	for _, tc := range cases {
		es, err := st.ListFeedEntriesByAuthors(ctx, tc.authors, tc.since, tc.before, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range es {
			got = append(got, e.ID)
		}
		if !equalIDs(got, tc.want) {
			t.Errorf("ListFeedEntriesByAuthors(%v, %d, %d, %d) = %v, want %v", tc.authors, tc.since, tc.before, tc.limit, got, tc.want)
		}
	}
}

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

func TestOwnWorkCount(t *testing.T) { dbtest.Run(t, testOwnWorkCount) }

func testOwnWorkCount(t *testing.T, open dbtest.Opener) {
	ctx := context.Background()
	st := NewSQLStore(open.Migrated(t, Migrate))
	own := func(limit int) int64 {
		t.Helper()
		n, err := st.OwnWorkCount(ctx, 5, limit)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := own(10); got != 0 {
		t.Fatalf("own work count with no videos = %d, want 0", got)
	}
	ready := newProcessing(t, st, 5, 1)
	newProcessing(t, st, 5, 2)
	newProcessing(t, st, 5, 3)
	newProcessing(t, st, 6, 4) // another author's
	if got := own(10); got != 3 {
		t.Fatalf("own work count with three processing videos = %d, want 3", got)
	}
	if _, err := st.MarkReady(ctx, ready, "p", "c", nil); err != nil {
		t.Fatal(err)
	}
	if got := own(10); got != 3 {
		t.Fatalf("own work count after one turned ready = %d, want 3 (counted once)", got)
	}
	if got := own(1); got != 2 {
		t.Fatalf("own work count with the unready part capped at 1 = %d, want 2", got)
	}
}
