package video

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

func TestCompleteProcessing(t *testing.T) { runVariants(t, testCompleteProcessing) }

func testCompleteProcessing(t *testing.T, opts []Option) {
	f := newFixture(t, opts...)
	ctx := context.Background()
	create := func() int64 {
		resp, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: 9, Title: "t", SourceKey: "uploads/a.mp4"})
		if err != nil {
			t.Fatal(err)
		}
		return resp.VideoId
	}
	ready, failed := create(), create()
	complete := func(id int64, st videoapi.VideoStatus) error {
		_, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{
			VideoId: id, Status: st, PlayKey: "uploads/a.mp4", CoverKey: "videos/1/cover.jpg", FailureReason: strings.Repeat("é", 200),
		})
		return err
	}
	cases := []struct {
		name string
		id   int64
		st   videoapi.VideoStatus
		want base.ErrCode
	}{
		{"ready", ready, videoapi.VideoStatus_Ready, base.ErrCode_Success},
		{"ready again is a no-op", ready, videoapi.VideoStatus_Ready, base.ErrCode_Success},
		{"failed after ready is a no-op", ready, videoapi.VideoStatus_Failed, base.ErrCode_Success},
		{"failed (long reason is truncated)", failed, videoapi.VideoStatus_Failed, base.ErrCode_Success},
		{"ready after failed is a no-op", failed, videoapi.VideoStatus_Ready, base.ErrCode_Success},
		{"unknown video", 12345, videoapi.VideoStatus_Ready, base.ErrCode_VideoNotFound},
		{"processing is not a result", ready, videoapi.VideoStatus_Processing, base.ErrCode_InvalidParam},
		{"no video id", 0, videoapi.VideoStatus_Ready, base.ErrCode_InvalidParam},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, msg := errs.Code(complete(tc.id, tc.st)); code != tc.want {
				t.Fatalf("CompleteProcessing = %v %q, want %v", code, msg, tc.want)
			}
		})
	}
	_, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{VideoId: create(), Status: videoapi.VideoStatus_Ready, PlayKey: "", CoverKey: "c.jpg"})
	if code, _ := errs.Code(err); code != base.ErrCode_InvalidParam {
		t.Fatalf("ready without play_key: %v, want InvalidParam", code)
	}

	got, err := f.svc.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: []int64{ready, failed}})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := got.Videos[ready]
	if len(got.Videos) != 1 || !ok || r.Status != videoapi.VideoStatus_Ready ||
		r.PlayUrl != "http://cdn/uploads/a.mp4" || r.CoverUrl != "http://cdn/videos/1/cover.jpg" {
		t.Fatalf("MGetVideos = %v, want only the ready video with its URLs", got.Videos)
	}
	var fv Video
	if err := f.gdb.Take(&fv, failed).Error; err != nil {
		t.Fatal(err)
	}
	if fv.Status != statusFailed || len(fv.FailureReason) > 255 || !strings.HasPrefix(fv.FailureReason, "éé") {
		t.Fatalf("failed video stored as status %d reason %d bytes", fv.Status, len(fv.FailureReason))
	}
	counts, err := f.svc.MGetWorkCounts(ctx, &videoapi.MGetWorkCountsRequest{UserIds: []int64{9, 9, 10, -1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts.WorkCounts) != 2 || counts.WorkCounts[9] != 1 || counts.WorkCounts[10] != 0 {
		t.Fatalf("work counts %v, want 9:1 10:0", counts.WorkCounts)
	}
}

func TestRenditionsAreStoredAndListed(t *testing.T) { runVariants(t, testRenditionsAreStoredAndListed) }

func testRenditionsAreStoredAndListed(t *testing.T, opts []Option) {
	f := newFixture(t, opts...)
	ctx := context.Background()
	create := func() int64 {
		resp, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: 5, Title: "t", SourceKey: "uploads/a.mp4"})
		if err != nil {
			t.Fatal(err)
		}
		return resp.VideoId
	}
	ladder := []*videoapi.RenditionFile{{Height: 720, Width: 1280, Key: "videos/1/720p/play.mp4"}, {Height: 360, Width: 640, Key: "videos/1/360p/play.mp4"}}
	for name, req := range map[string]*videoapi.CompleteProcessingRequest{
		"play key not a rendition": {PlayKey: "videos/1/play.mp4", Renditions: ladder},
		"zero height":              {PlayKey: "videos/1/720p/play.mp4", Renditions: []*videoapi.RenditionFile{{Width: 1, Key: "videos/1/720p/play.mp4"}}},
		"bad key":                  {PlayKey: "videos/1/720p/play.mp4", Renditions: []*videoapi.RenditionFile{ladder[0], {Height: 1, Width: 1, Key: "../x"}}},
	} {
		req.VideoId, req.Status, req.CoverKey = create(), videoapi.VideoStatus_Ready, "videos/1/cover.jpg"
		if _, err := f.svc.CompleteProcessing(ctx, req); !errs.Is(err, base.ErrCode_InvalidParam) {
			t.Errorf("%s: %v, want InvalidParam", name, err)
		}
	}
	id := create()
	if _, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{VideoId: id, Status: videoapi.VideoStatus_Ready,
		PlayKey: "videos/1/720p/play.mp4", CoverKey: "videos/1/cover.jpg", Renditions: ladder}); err != nil {
		t.Fatal(err)
	}
	// Twice: the second read comes from the record cache where there is one.
	for range 2 {
		list, err := f.svc.PublishList(ctx, &videoapi.PublishListRequest{AuthorId: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Videos) != 1 {
			t.Fatalf("publish list %v, want the one ready video", list.Videos)
		}
		v := list.Videos[0]
		if v.PlayUrl != "http://cdn/videos/1/720p/play.mp4" || len(v.Renditions) != 2 ||
			v.Renditions[0].Url != "http://cdn/videos/1/720p/play.mp4" || v.Renditions[0].Height != 720 || v.Renditions[0].Width != 1280 ||
			v.Renditions[1].Url != "http://cdn/videos/1/360p/play.mp4" || v.Renditions[1].Height != 360 {
			t.Fatalf("record %+v renditions %v, want play_url the 720p one and both renditions with URLs", v, v.Renditions)
		}
	}
	// A video completed without renditions (processed before they existed) lists none, never null.
	got, err := f.svc.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: []int64{f.publish(t, 6, "old")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range got.Videos {
		if v.Renditions == nil || len(v.Renditions) != 0 {
			t.Fatalf("renditions %v, want an empty list", v.Renditions)
		}
	}
}

func TestCompleteProcessingDropsCachedRecord(t *testing.T) {
	ctx := context.Background()
	r, _ := cachetest.New(t)
	f := newFixture(t)
	rc := NewRedisRecordCache(r, time.Hour, nil)
	f.svc.recordCache = rc
	created, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: 7, Title: "t", SourceKey: "uploads/a.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	id := created.VideoId
	// A stale copy (say, from a future state that caches more) must not survive a transition.
	if err := rc.MSet(ctx, []Video{{ID: id, AuthorID: 7, Title: "t", Status: statusReady, PlayKey: "x", CoverKey: "y"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{VideoId: id, Status: videoapi.VideoStatus_Failed, FailureReason: "bad"}); err != nil {
		t.Fatal(err)
	}
	if n := r.Client().Exists(ctx, r.Key("video:r:"+strconv.FormatInt(id, 10))).Val(); n != 0 {
		t.Fatal("CompleteProcessing left the cached record")
	}
	if got := mgetVideos(t, f.svc, id); len(got) != 0 {
		t.Fatalf("failed video readable: %v", got)
	}
}
