package video

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/cache/cachetest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// recordingQueue records what is published, or fails every publish when err is set.
type recordingQueue struct {
	mu   sync.Mutex
	err  error
	sent []sentMessage
}

type sentMessage struct {
	topic, key string
	body       []byte
}

func (q *recordingQueue) Publish(_ context.Context, topic, key string, body []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, sentMessage{topic, key, body})
	return nil
}

type prefixURLs string

func (p prefixURLs) URL(key string) string { return string(p) + key }

type fixture struct {
	svc   *Service
	gdb   *gorm.DB
	queue *recordingQueue
	clock int64
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{gdb: openDB(t), queue: &recordingQueue{}, clock: 1_000_000}
	f.svc = New(NewSQLStore(f.gdb), f.queue, prefixURLs("http://cdn/"), opts...)
	// Each call advances the clock by one millisecond: publish order is creation order.
	f.svc.now = func() int64 { f.clock++; return f.clock }
	return f
}

// publish creates a video and completes it as ready.
func (f *fixture) publish(t *testing.T, author int64, title string) int64 {
	t.Helper()
	ctx := context.Background()
	resp, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: author, Title: title, SourceKey: "uploads/a.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.VideoId
	if _, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{
		VideoId: id, Status: videoapi.VideoStatus_Ready, PlayKey: "uploads/a.mp4", CoverKey: "videos/" + strconv.FormatInt(id, 10) + "/cover.jpg",
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCreateVideoValidation(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		req  *videoapi.CreateVideoRequest
		msg  string
	}{
		{"no author", &videoapi.CreateVideoRequest{Title: "t", SourceKey: "uploads/a.mp4"}, "author_id must be positive"},
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

// cacheVariants are the ways the service is deployed: SQL only, the embedded mode's in-process
// caches and Redis, with a timeline that holds every video of a test or only some of them.
var cacheVariants = map[string]func(t *testing.T) []Option{
	"sql":                   func(*testing.T) []Option { return nil },
	"memory":                func(*testing.T) []Option { return memoryCaches(40) },
	"memory-short-timeline": func(*testing.T) []Option { return memoryCaches(20) },
	"redis":                 func(t *testing.T) []Option { return redisCaches(t, 40) },
	"redis-short-timeline":  func(t *testing.T) []Option { return redisCaches(t, 20) },
}

func memoryCaches(timelineSize int) []Option {
	return []Option{
		WithRecordCache(NewMemoryRecordCache(time.Hour, 1000, nil)),
		WithWorkCountCache(cache.NewLocalCounts("video:works", time.Hour, 1000, nil)),
		WithTimeline(NewMemoryTimeline(timelineSize)),
	}
}

func redisCaches(t *testing.T, timelineSize int) []Option {
	r, _ := cachetest.New(t)
	return []Option{
		WithRecordCache(NewRedisRecordCache(r, time.Hour, nil)),
		WithWorkCountCache(cache.NewRedisCounts(r, "video:works", time.Hour, nil)),
		WithTimeline(NewRedisTimeline(r, timelineSize, time.Hour)),
	}
}

// runVariants runs test once per deployment, each on a fresh database and key space.
func runVariants(t *testing.T, test func(t *testing.T, opts []Option)) {
	for name, opts := range cacheVariants {
		t.Run(name, func(t *testing.T) { test(t, opts(t)) })
	}
}

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

func TestFeedPagesNewestFirst(t *testing.T) { runVariants(t, testFeedPagesNewestFirst) }

func testFeedPagesNewestFirst(t *testing.T, opts []Option) {
	f := newFixture(t, opts...)
	ctx := context.Background()
	empty, err := f.svc.Feed(ctx, &videoapi.FeedRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Videos == nil || len(empty.Videos) != 0 || empty.NextTime != 0 {
		t.Fatalf("empty feed = %+v, want a non-nil empty list and next_time 0", empty)
	}
	var published []int64
	for i := range 35 {
		published = append(published, f.publish(t, int64(1+i%3), "v"+strconv.Itoa(i)))
	}
	page, err := f.svc.Feed(ctx, &videoapi.FeedRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Videos) != 30 {
		t.Fatalf("default page has %d videos, want 30", len(page.Videos))
	}
	for i, v := range page.Videos {
		if want := published[34-i]; v.Id != want {
			t.Fatalf("feed[%d] = %d, want %d (newest first)", i, v.Id, want)
		}
	}
	if page.NextTime != page.Videos[29].CreatedAt {
		t.Fatalf("next_time %d, want the oldest returned created_at %d", page.NextTime, page.Videos[29].CreatedAt)
	}
	rest, err := f.svc.Feed(ctx, &videoapi.FeedRequest{LatestTime: page.NextTime, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Videos) != 5 || rest.Videos[0].Id != published[4] || rest.Videos[4].Id != published[0] {
		t.Fatalf("second page %d videos, want the 5 oldest", len(rest.Videos))
	}
	for _, tc := range []struct {
		limit int32
		want  int
	}{{0, 30}, {1, 1}, {7, 7}, {31, 30}, {-3, 1}} {
		p, err := f.svc.Feed(ctx, &videoapi.FeedRequest{Limit: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Videos) != tc.want {
			t.Errorf("Feed(limit %d) returned %d, want %d", tc.limit, len(p.Videos), tc.want)
		}
	}
}

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

func TestBatchLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := f.svc.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetVideos(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	if _, err := f.svc.MGetWorkCounts(ctx, &videoapi.MGetWorkCountsRequest{UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetWorkCounts(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	got, err := f.svc.MGetVideos(ctx, &videoapi.MGetVideosRequest{})
	if err != nil || got.Videos == nil {
		t.Fatalf("MGetVideos(no ids) = %v, %v; want a non-nil empty map", got, err)
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

func TestFollowingFeed(t *testing.T) { runVariants(t, testFollowingFeed) }

func testFollowingFeed(t *testing.T, opts []Option) {
	f := newFixture(t, opts...)
	ctx := context.Background()
	// Authors 1 and 2 are followed, 3 is not; their 34 videos make two pages. The newest 16
	// are 200 days newer than the rest: a page reaches past the short lookback windows.
	var followed []int64 // oldest first
	for i := range 50 {
		if i == 26 {
			f.clock += 200 * dayMillis
		}
		author := int64(1 + i%3)
		id := f.publish(t, author, "v"+strconv.Itoa(i))
		if author != 3 {
			followed = append(followed, id)
		}
	}
	if _, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: 1, Title: "processing", SourceKey: "uploads/b.mp4"}); err != nil {
		t.Fatal(err)
	}
	authors := []int64{2, 1, 2, 1000}
	var got []int64
	var latest int64
	for n := 0; ; n++ {
		if n == 5 {
			t.Fatal("following feed did not end within 5 pages")
		}
		page, err := f.svc.FollowingFeed(ctx, &videoapi.FollowingFeedRequest{AuthorIds: authors, LatestTime: latest})
		if err != nil {
			t.Fatal(err)
		}
		if page.Videos == nil {
			t.Fatal("following feed page: nil list, want a non-nil one")
		}
		if len(page.Videos) == 0 {
			if page.NextTime != 0 {
				t.Errorf("empty page next_time = %d, want 0", page.NextTime)
			}
			break
		}
		if len(page.Videos) > 30 {
			t.Fatalf("page of %d videos, want at most 30", len(page.Videos))
		}
		for _, v := range page.Videos {
			if v.AuthorId == 3 || v.Status != videoapi.VideoStatus_Ready {
				t.Errorf("video %d of author %d status %v: want only ready videos of followed authors", v.Id, v.AuthorId, v.Status)
			}
			got = append(got, v.Id)
		}
		if page.NextTime != page.Videos[len(page.Videos)-1].CreatedAt {
			t.Errorf("next_time %d, want the oldest returned created_at", page.NextTime)
		}
		latest = page.NextTime
	}
	want := slices.Clone(followed)
	slices.Reverse(want)
	if !equalIDs(got, want) {
		t.Errorf("following feed = %v, want every followed video newest first %v", got, want)
	}

	none, err := f.svc.FollowingFeed(ctx, &videoapi.FollowingFeedRequest{})
	if err != nil || none.Videos == nil || len(none.Videos) != 0 || none.NextTime != 0 {
		t.Errorf("following feed without authors = %+v, %v; want an empty page", none, err)
	}
	if _, err := f.svc.FollowingFeed(ctx, &videoapi.FollowingFeedRequest{AuthorIds: []int64{1}, LatestTime: -1}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("following feed with latest_time -1: %v, want InvalidParam", err)
	}
	tooMany := make([]int64, maxFollowedAuthors+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := f.svc.FollowingFeed(ctx, &videoapi.FollowingFeedRequest{AuthorIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("following feed of %d authors: %v, want InvalidParam", len(tooMany), err)
	}
	// The largest author set is one query.
	full := tooMany[:maxFollowedAuthors]
	page, err := f.svc.FollowingFeed(ctx, &videoapi.FollowingFeedRequest{AuthorIds: full})
	if err != nil || len(page.Videos) != 30 {
		t.Errorf("following feed of %d authors = %d videos, %v; want a full page", len(full), len(page.GetVideos()), err)
	}
}
