package video

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

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
	// A short page first: with a record cache the full page then finds some records cached
	// and reads the rest, and must keep them in order.
	if _, err := f.svc.Feed(ctx, &videoapi.FeedRequest{Limit: 7}); err != nil {
		t.Fatal(err)
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
	// FeedIDs is the same pages without the records.
	for _, p := range []*videoapi.FeedResponse{page, rest} {
		latest := int64(0)
		if p == rest {
			latest = page.NextTime
		}
		ids, next, err := f.svc.FeedIDs(ctx, latest, 100)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int64, len(p.Videos))
		for i, v := range p.Videos {
			want[i] = v.Id
		}
		if !slices.Equal(ids, want) || next != p.NextTime {
			t.Fatalf("FeedIDs(%d) = %v, next_time %d; want Feed's %v, %d", latest, ids, next, want, p.NextTime)
		}
	}
	if ids, next, err := f.svc.FeedIDs(ctx, rest.NextTime, 0); err != nil || len(ids) != 0 || next != 0 {
		t.Fatalf("FeedIDs past the oldest = %v, %d, %v; want none, next_time 0", ids, next, err)
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

// A feed page or a batch of videos asked with_work_counts carries what MGetWorkCounts answers
// for its authors, the viewer's own count included; without the flag it carries none.
func TestFeedWithWorkCounts(t *testing.T) { runVariants(t, testFeedWithWorkCounts) }

func testFeedWithWorkCounts(t *testing.T, opts []Option) {
	f := newFixture(t, opts...)
	ctx := context.Background()
	var videoIDs []int64
	for i := range 5 {
		videoIDs = append(videoIDs, f.publish(t, int64(1+i%2), "v"+strconv.Itoa(i)))
	}
	// The viewer's processing video counts in their own work count only.
	if _, err := f.svc.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: 2, Title: "p", SourceKey: "uploads/p.mp4"}); err != nil {
		t.Fatal(err)
	}
	for _, viewer := range []int64{0, 2} {
		page, err := f.svc.Feed(ctx, &videoapi.FeedRequest{WithWorkCounts: true, ViewerId: viewer})
		if err != nil {
			t.Fatal(err)
		}
		want, err := f.svc.MGetWorkCounts(ctx, &videoapi.MGetWorkCountsRequest{UserIds: []int64{1, 2}, ViewerId: viewer})
		if err != nil {
			t.Fatal(err)
		}
		if !page.IsSetWorkCounts() || !maps.Equal(page.WorkCounts, want.WorkCounts) {
			t.Errorf("viewer %d: feed work counts %v, want %v", viewer, page.WorkCounts, want.WorkCounts)
		}
		found, err := f.svc.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: videoIDs, WithWorkCounts: true, ViewerId: viewer})
		if err != nil {
			t.Fatal(err)
		}
		if len(found.Videos) != len(videoIDs) || !found.IsSetWorkCounts() || !maps.Equal(found.WorkCounts, want.WorkCounts) {
			t.Errorf("viewer %d: %d videos with work counts %v, want %d with %v", viewer, len(found.Videos), found.WorkCounts, len(videoIDs), want.WorkCounts)
		}
	}
	if page, err := f.svc.Feed(ctx, &videoapi.FeedRequest{}); err != nil || page.IsSetWorkCounts() {
		t.Errorf("feed without the flag: work counts %v (set %v), %v; want unset", page.GetWorkCounts(), page.IsSetWorkCounts(), err)
	}
	if found, err := f.svc.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: videoIDs}); err != nil || found.IsSetWorkCounts() {
		t.Errorf("videos without the flag: work counts %v (set %v), %v; want unset", found.GetWorkCounts(), found.IsSetWorkCounts(), err)
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
