package video

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

func TestCreateVideoValidation(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		req  *videoapi.CreateVideoRequest
		msg  string
	}{
		{"no author", &videoapi.CreateVideoRequest{Title: "t", SourceKey: "uploads/a.mp4"}, "author_id must be a positive integer"},
		{"empty title", &videoapi.CreateVideoRequest{AuthorId: 1, Title: "", SourceKey: "uploads/a.mp4"}, "title must be 1-100 characters"},
		{"blank title", &videoapi.CreateVideoRequest{AuthorId: 1, Title: " \t\n ", SourceKey: "uploads/a.mp4"}, "title must be 1-100 characters"},
		{"long title", &videoapi.CreateVideoRequest{AuthorId: 1, Title: strings.Repeat("a", 101), SourceKey: "uploads/a.mp4"}, "title must be 1-100 characters"},
		{"no source", &videoapi.CreateVideoRequest{AuthorId: 1, Title: "t"}, "source_key must be a valid object key"},
		{"unsafe source", &videoapi.CreateVideoRequest{AuthorId: 1, Title: "t", SourceKey: "../etc/passwd"}, "source_key must be a valid object key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateVideo(context.Background(), tc.req)
			if code, msg := errs.Code(err); code != base.ErrCode_InvalidParam || msg != tc.msg {
				t.Fatalf("CreateVideo = %v %q, want InvalidParam %q", code, msg, tc.msg)
			}
		})
	}
	if len(f.queue.sent) != 0 {
		t.Fatalf("invalid requests published %d events", len(f.queue.sent))
	}
	// 100 multi-byte characters are within the limit: it counts characters, not bytes.
	if _, err := f.svc.CreateVideo(context.Background(), &videoapi.CreateVideoRequest{
		AuthorId: 1, Title: "  " + strings.Repeat("视", 100) + " ", SourceKey: "uploads/a.mp4",
	}); err != nil {
		t.Fatalf("100-character title rejected: %v", err)
	}
}

func TestCreateVideoEnqueuesProcessingVideo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	resp, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: 5, Title: "  hello  ", SourceKey: "uploads/a.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.queue.sent) != 1 {
		t.Fatalf("published %d events, want 1", len(f.queue.sent))
	}
	m := f.queue.sent[0]
	var ev event.PublishEvent
	if err := json.Unmarshal(m.body, &ev); err != nil {
		t.Fatal(err)
	}
	if m.topic != mq.TopicPublish || m.key != strconv.FormatInt(resp.VideoId, 10) ||
		ev != (event.PublishEvent{VideoId: resp.VideoId, SourceKey: "uploads/a.mp4"}) {
		t.Fatalf("published %s %s %s, want the video on %s keyed by its id", m.topic, m.key, m.body, mq.TopicPublish)
	}
	var v Video
	if err := f.gdb.Take(&v, resp.VideoId).Error; err != nil {
		t.Fatal(err)
	}
	if v.Status != statusProcessing || v.Title != "hello" || v.AuthorID != 5 {
		t.Fatalf("stored %+v, want a processing video titled %q", v, "hello")
	}
	// A processing video is invisible everywhere.
	feed, _ := f.svc.Feed(ctx, &videoapi.FeedRequest{})
	got, _ := f.svc.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: []int64{resp.VideoId}})
	list, _ := f.svc.PublishList(ctx, &videoapi.PublishListRequest{AuthorId: 5})
	if len(feed.Videos) != 0 || len(got.Videos) != 0 || len(list.Videos) != 0 {
		t.Fatalf("processing video visible: feed %d, mget %d, list %d", len(feed.Videos), len(got.Videos), len(list.Videos))
	}
}

func TestCreateVideoPublishFailureLeavesNothing(t *testing.T) {
	f := newFixture(t)
	f.queue.err = errors.New("broker down")
	_, err := f.svc.CreateVideo(context.Background(), &videoapi.CreateVideoRequest{AuthorId: 1, Title: "t", SourceKey: "uploads/a.mp4"})
	if err == nil {
		t.Fatal("CreateVideo succeeded with the queue down")
	}
	if code, _ := errs.Code(err); code != base.ErrCode_InternalError {
		t.Fatalf("error code %v, want InternalError", code)
	}
	var n int64
	f.gdb.Model(&Video{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d video rows left after a failed publish, want 0", n)
	}
}
