package video

import (
	"context"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

func TestPublishList(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.publish(t, 4, "first")
	f.publish(t, 5, "other author")
	second := f.publish(t, 4, "second")
	if _, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: 4, Title: "processing", SourceKey: "uploads/b.mp4"}); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.PublishList(ctx, &videoapi.PublishListRequest{AuthorId: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Videos) != 2 || list.Videos[0].Id != second || list.Videos[1].Id != first || list.Videos[0].Title != "second" {
		t.Fatalf("publish list %v, want [%d %d]", list.Videos, second, first)
	}
	none, err := f.svc.PublishList(ctx, &videoapi.PublishListRequest{AuthorId: 77})
	if err != nil || none.Videos == nil || len(none.Videos) != 0 {
		t.Fatalf("publish list of a user without videos = %v, %v; want a non-nil empty list", none, err)
	}
	if _, err := f.svc.PublishList(ctx, &videoapi.PublishListRequest{}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("publish list without author: %v, want InvalidParam", err)
	}
}

func TestAuthorSeesProcessingAndFailedVideos(t *testing.T) {
	runVariants(t, testAuthorSeesProcessingAndFailedVideos)
}

func testAuthorSeesProcessingAndFailedVideos(t *testing.T, opts []Option) {
	f := newFixture(t, opts...)
	ctx := context.Background()
	const author, other = 21, 22
	ready := f.publish(t, author, "ready")
	create := func(title string) int64 {
		resp, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: author, Title: title, SourceKey: "uploads/" + title + ".mp4"})
		if err != nil {
			t.Fatal(err)
		}
		return resp.VideoId
	}
	failed := create("failed")
	if _, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{VideoId: failed, Status: videoapi.VideoStatus_Failed, FailureReason: "bad"}); err != nil {
		t.Fatal(err)
	}
	processing := create("processing")

	list := func(viewer int64) []*videoapi.VideoRecord {
		resp, err := f.svc.PublishList(ctx, &videoapi.PublishListRequest{AuthorId: author, ViewerId: viewer})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Videos
	}
	own := list(author)
	if len(own) != 3 || own[0].Id != processing || own[1].Id != failed || own[2].Id != ready {
		t.Fatalf("author's own list %v, want processing, failed, ready newest first", own)
	}
	if own[0].Status != videoapi.VideoStatus_Processing || own[0].PlayUrl != "http://cdn/uploads/processing.mp4" || own[0].CoverUrl != "" {
		t.Errorf("processing record %+v, want the upload as play_url and no cover", own[0])
	}
	if own[1].Status != videoapi.VideoStatus_Failed {
		t.Errorf("failed record %+v, want status failed", own[1])
	}
	for _, viewer := range []int64{0, other} {
		if l := list(viewer); len(l) != 1 || l[0].Id != ready {
			t.Errorf("viewer %d sees %v, want only the ready video", viewer, l)
		}
	}
	counts := func(viewer int64) int64 {
		resp, err := f.svc.MGetWorkCounts(ctx, &videoapi.MGetWorkCountsRequest{UserIds: []int64{author}, ViewerId: viewer})
		if err != nil {
			t.Fatal(err)
		}
		return resp.WorkCounts[author]
	}
	if own, others := counts(author), counts(other); own != 3 || others != 1 {
		t.Errorf("work_count %d for the author, %d for others; want 3 and 1 (what each list shows)", own, others)
	}
	// Once ready it is an ordinary video for everyone.
	if _, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{VideoId: processing, Status: videoapi.VideoStatus_Ready,
		PlayKey: "videos/9/720p/play.mp4", CoverKey: "videos/9/cover.jpg"}); err != nil {
		t.Fatal(err)
	}
	if l := list(other); len(l) != 2 || l[0].Id != processing || l[0].PlayUrl != "http://cdn/videos/9/720p/play.mp4" {
		t.Errorf("after ready others see %v", l)
	}
	if own, others := counts(author), counts(other); own != 3 || others != 2 {
		t.Errorf("after ready work_count %d / %d, want 3 / 2", own, others)
	}
}

// The author's own count never comes from the counter cache: a cached count can predate the
// commit that made an upload ready, and the upload would then be counted nowhere.
func TestOwnWorkCountIgnoresAStaleCachedCount(t *testing.T) {
	works := cache.NewLocalCounts("video:works", time.Hour, 1000, nil)
	f := newFixture(t, WithWorkCountCache(works))
	ctx := context.Background()
	const author = 31
	f.publish(t, author, "ready")
	if err := works.MSet(ctx, map[int64]int64{author: 0}); err != nil { // filled before the commit
		t.Fatal(err)
	}
	resp, err := f.svc.MGetWorkCounts(ctx, &videoapi.MGetWorkCountsRequest{UserIds: []int64{author}, ViewerId: author})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.WorkCounts[author]; got != 1 {
		t.Fatalf("the author's own work count = %d with a stale cached 0, want 1", got)
	}
}
