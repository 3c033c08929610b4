package video

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

func TestRecordCacheAside(t *testing.T) {
	ctx := context.Background()
	r, rt := cachetest.New(t)
	f := newFixture(t)
	store := &readyBatchStore{Store: NewSQLStore(f.gdb)}
	rc := NewRedisRecordCache(r, time.Hour, nil)
	f.svc.store = store
	f.svc.recordCache = rc

	ready := f.publish(t, 7, "ready one")
	created, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: 7, Title: "still processing", SourceKey: "uploads/b.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	processing := created.VideoId
	store.take()

	// Cold: one SQL batch; only the ready video comes back and only it is cached.
	got := mgetVideos(t, f.svc, ready, processing)
	if len(got) != 1 || got[ready] == nil || got[ready].PlayUrl != "http://cdn/uploads/a.mp4" || got[ready].Title != "ready one" {
		t.Fatalf("cold read = %v", got)
	}
	if b := store.take(); len(b) != 1 || len(b[0]) != 2 {
		t.Fatalf("cold read SQL batches = %v, want one with both ids", b)
	}
	if n := r.Client().Exists(ctx, r.Key("video:r:"+strconv.FormatInt(processing, 10))).Val(); n != 0 {
		t.Fatal("a processing video was cached")
	}

	// Warm: the ready record from one MGET; the processing id is still asked of SQL, alone.
	before := rt.Count()
	got = mgetVideos(t, f.svc, ready, processing)
	if len(got) != 1 || got[ready].CoverUrl == "" {
		t.Fatalf("warm read = %v", got)
	}
	if b := store.take(); len(b) != 1 || !slices.Equal(b[0], []int64{processing}) {
		t.Fatalf("warm read SQL batches = %v, want [[%d]]", b, processing)
	}
	if n := rt.Count() - before; n != 1 {
		t.Fatalf("warm read took %d Redis round trips, want 1", n)
	}
	mgetVideos(t, f.svc, ready)
	if b := store.take(); len(b) != 0 {
		t.Fatalf("fully cached read went to SQL: %v", b)
	}

	// Completing the processing video makes it readable; the cached state never hides it.
	if _, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{
		VideoId: processing, Status: videoapi.VideoStatus_Ready, PlayKey: "uploads/b.mp4", CoverKey: "videos/b/cover.jpg",
	}); err != nil {
		t.Fatal(err)
	}
	if got := mgetVideos(t, f.svc, processing); got[processing] == nil || got[processing].PlayUrl != "http://cdn/uploads/b.mp4" {
		t.Fatalf("after ready = %v", got)
	}

	// URLs are resolved at read time: another URL scheme shows through cached records.
	other := New(store, f.queue, prefixURLs("https://signed/"), WithRecordCache(rc))
	if got := mgetVideos(t, other, ready); got[ready].PlayUrl != "https://signed/uploads/a.mp4" {
		t.Fatalf("cached record kept an old URL: %q", got[ready].PlayUrl)
	}

	// Redis emptied: the same answer from SQL.
	if err := cachetest.Flush(ctx, r); err != nil {
		t.Fatal(err)
	}
	store.take()
	if got := mgetVideos(t, f.svc, ready, processing); len(got) != 2 {
		t.Fatalf("after flush = %v", got)
	}
	if b := store.take(); len(b) != 1 {
		t.Fatalf("after flush SQL batches = %v", b)
	}
}
