package video

import (
	"context"
	"testing"
	"time"

	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// The cached own count follows every write of the author: a publish shows on the next read,
// becoming ready counts the video once, and other authors' counts stay put.
func TestOwnCountsFollowTheAuthorsWrites(t *testing.T) {
	f := newFixture(t, WithOwnCounts(NewOwnCounts(time.Hour, 100)))
	ctx := context.Background()
	const author, other = 41, 42
	own := func(viewer int64) int64 {
		t.Helper()
		resp, err := f.svc.MGetWorkCounts(ctx, &videoapi.MGetWorkCountsRequest{UserIds: []int64{viewer}, ViewerId: viewer})
		if err != nil {
			t.Fatal(err)
		}
		return resp.WorkCounts[viewer]
	}
	if got := own(author); got != 0 {
		t.Fatalf("own count before any video = %d, want 0", got)
	}
	f.publish(t, other, "other's")
	resp, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: author, Title: "up", SourceKey: "uploads/a.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	if got := own(author); got != 1 {
		t.Fatalf("own count after an upload = %d, want 1 (the cached 0 dropped)", got)
	}
	if _, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{VideoId: resp.VideoId, Status: videoapi.VideoStatus_Ready,
		PlayKey: "videos/1/play.mp4", CoverKey: "videos/1/cover.jpg"}); err != nil {
		t.Fatal(err)
	}
	if got := own(author); got != 1 {
		t.Fatalf("own count after the upload turned ready = %d, want 1", got)
	}
	f.publish(t, author, "second")
	if got, others := own(author), own(other); got != 2 || others != 1 {
		t.Fatalf("own counts after a second video = %d / %d, want 2 / 1", got, others)
	}
}

// A fill that read SQL before a write dropped the count is not kept: the count it read may
// predate the write.
func TestOwnCountsRejectAFillOlderThanADrop(t *testing.T) {
	c := NewOwnCounts(time.Hour, 100)
	_, gen, ok := c.get(7)
	if ok {
		t.Fatal("an empty cache holds a count")
	}
	c.drop(8) // a write of another author commits while the fill reads SQL
	c.fill(7, 3, gen)
	if n, _, ok := c.get(7); ok {
		t.Fatalf("a fill begun before a drop was kept: %d", n)
	}
	_, gen, _ = c.get(7)
	c.fill(7, 4, gen)
	if n, _, ok := c.get(7); !ok || n != 4 {
		t.Fatalf("a fill with no drop since = %d, %v; want 4 kept", n, ok)
	}
	c.drop(7)
	if _, _, ok := c.get(7); ok {
		t.Fatal("a dropped count is still served")
	}
}
