package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestFeedAnonymous(t *testing.T) {
	t.Parallel()
	author := api.register(t, "feedanon")
	v := api.publish(t, author, "anonymous feed video", "testsrc.mp4")
	api.mustFindInFeed(t, "", v.ID)

	for name, f := range map[string]feedResp{
		"no latest_time": api.feedNow(t, ""),
		"latest_time=0":  api.feedAt(t, "", 0),
	} {
		if len(f.VideoList) == 0 {
			t.Errorf("anonymous feed (%s) is empty although a video was just published", name)
		}
		for _, v := range f.VideoList {
			if v.IsFavorite || v.Author.IsFollow {
				t.Errorf("anonymous feed (%s): video %d is_favorite %v author.is_follow %v, want false false",
					name, v.ID, v.IsFavorite, v.Author.IsFollow)
			}
		}
	}
}

// TestFeedOrderAndPaging publishes three videos and walks the whole feed with next_time.
func TestFeedOrderAndPaging(t *testing.T) {
	t.Parallel()
	author := api.register(t, "feedpage")
	var mine []int64 // oldest first
	for i, clip := range []string{"testsrc.mp4", "mandelbrot.mp4", "cellauto.mp4"} {
		mine = append(mine, api.publish(t, author, fmt.Sprintf("paging %d", i), clip).ID)
	}
	for _, id := range mine {
		api.mustFindInFeed(t, "", id)
	}

	seen := map[int64]bool{}
	var order []int64
	page := api.feedNow(t, "")
	prevNext := time.Now().Add(time.Minute).UnixMilli()
	for n := 0; ; n++ {
		if n == 100 {
			t.Fatal("feed did not end within 100 pages")
		}
		if len(page.VideoList) == 0 {
			if page.NextTime != 0 {
				t.Errorf("empty feed page: next_time = %d, want 0", page.NextTime)
			}
			break
		}
		if page.NextTime <= 1e11 || page.NextTime >= prevNext {
			t.Fatalf("page %d: next_time = %d, want a ms timestamp strictly below the previous page's %d", n, page.NextTime, prevNext)
		}
		for _, v := range page.VideoList {
			if seen[v.ID] {
				t.Errorf("page %d: video %d already returned on an earlier page", n, v.ID)
			}
			seen[v.ID] = true
			order = append(order, v.ID)
		}
		prevNext = page.NextTime
		page = api.feedAt(t, "", page.NextTime)
	}

	var got []int64
	for _, id := range order {
		if slices.Contains(mine, id) {
			got = append(got, id)
		}
	}
	want := []int64{mine[2], mine[1], mine[0]}
	if !equalIDs(got, want) {
		t.Errorf("own videos in feed order = %v, want newest first %v", got, want)
	}
}

// TestFeedNextTimeIsOldestPublishTime pins next_time to the oldest returned video: asking
// strictly before it excludes that video, asking 1 ms later includes it.
func TestFeedNextTimeIsOldestPublishTime(t *testing.T) {
	t.Parallel()
	author := api.register(t, "feednext")
	v := api.publish(t, author, "next_time video", "testsrc.mp4")
	api.mustFindInFeed(t, "", v.ID)

	first := api.feedNow(t, "")
	if len(first.VideoList) == 0 {
		t.Fatal("feed is empty although a video was just published")
	}
	oldest := first.VideoList[len(first.VideoList)-1]
	T := first.NextTime
	if now := time.Now().UnixMilli(); T < 1e11 || T > now+60_000 {
		t.Fatalf("next_time = %d, want the publish time in ms (now is %d)", T, now)
	}

	before := api.feedAt(t, "", T)
	if _, ok := findVideo(before.VideoList, oldest.ID); ok {
		t.Errorf("feed(latest_time=next_time=%d) contains video %d whose publish time is next_time; want strictly older only", T, oldest.ID)
	}
	for _, id := range videoIDs(before.VideoList) {
		if _, ok := findVideo(first.VideoList, id); ok {
			t.Errorf("feed(latest_time=%d) repeats video %d from the previous page", T, id)
		}
	}
	if len(before.VideoList) > 0 && before.NextTime >= T {
		t.Errorf("next page next_time = %d, want < %d", before.NextTime, T)
	}

	if _, ok := findVideo(api.feedAt(t, "", T+1).VideoList, oldest.ID); !ok {
		t.Errorf("feed(latest_time=%d) lacks video %d published at next_time %d", T+1, oldest.ID, T)
	}
}

// TestFeedLatestTimeSeconds checks that values below 1e11 are read as seconds.
func TestFeedLatestTimeSeconds(t *testing.T) {
	t.Parallel()
	author := api.register(t, "feedsec")
	v := api.publish(t, author, "seconds video", "testsrc.mp4")
	api.mustFindInFeed(t, "", v.ID)

	first := api.feedNow(t, "")
	if len(first.VideoList) == 0 {
		t.Fatal("feed is empty although a video was just published")
	}
	oldest := first.VideoList[len(first.VideoList)-1]
	sec := first.NextTime / 1000 // the second in which oldest was published (floor)

	// Both instants are in the past, so both pages hold the same videos; the only exception is
	// another test's video turning ready between the two calls, hence up to three tries.
	var inSeconds, inMillis feedResp
	for range 3 {
		inSeconds = api.feedAt(t, "", sec)
		inMillis = api.feedAt(t, "", sec*1000)
		if equalIDs(videoIDs(inSeconds.VideoList), videoIDs(inMillis.VideoList)) {
			break
		}
	}
	if _, ok := findVideo(inSeconds.VideoList, oldest.ID); ok {
		t.Errorf("feed(latest_time=%d s) contains video %d published at %d ms, which is not before that second", sec, oldest.ID, first.NextTime)
	}
	if a, b := videoIDs(inSeconds.VideoList), videoIDs(inMillis.VideoList); !equalIDs(a, b) {
		t.Errorf("latest_time=%d (s) gave %v but latest_time=%d (ms) gave %v; want the same page", sec, a, sec*1000, b)
	}
	if inSeconds.NextTime != inMillis.NextTime {
		t.Errorf("next_time for seconds %d vs ms %d differ; want equal (always ms)", inSeconds.NextTime, inMillis.NextTime)
	}
	if _, ok := findVideo(api.feedAt(t, "", sec+1).VideoList, oldest.ID); !ok {
		t.Errorf("feed(latest_time=%d s) lacks video %d published at %d ms", sec+1, oldest.ID, first.NextTime)
	}
}

func TestFeedBeforeAllVideos(t *testing.T) {
	t.Parallel()
	// 1000 and 1_000_000 are below 1e11, so seconds: January 1970, before every video.
	for _, latest := range []int64{1, 1000, 1_000_000} {
		r := api.feedRaw(t, "", vals("latest_time", latest)).mustOK(t)
		if list := checkList(t, r, "video_list", checkVideo); len(list) != 0 {
			t.Errorf("feed(latest_time=%d): %d videos, want []", latest, len(list))
		}
		if next := requireInt(t, r, "next_time"); next != 0 {
			t.Errorf("feed(latest_time=%d): next_time = %d, want 0", latest, next)
		}
	}
}

// TestFeedPerViewerFlags checks is_favorite and author.is_follow for the requesting user.
func TestFeedPerViewerFlags(t *testing.T) {
	t.Parallel()
	author := api.register(t, "feedflag")
	fan := api.register(t, "feedfan")
	other := api.register(t, "feedother")
	v := api.publish(t, author, "flags video", "mandelbrot.mp4")
	api.like(t, fan, v.ID)
	waitFavoriteApplied(t, fan, v.ID, true)
	api.follow(t, fan, author.ID)

	cases := []struct {
		viewer             string
		token              string
		isFavorite, follow bool
	}{
		{"fan", fan.Token, true, true},
		{"other user", other.Token, false, false},
		{"author", author.Token, false, false},
		{"anonymous", "", false, false},
	}
	for _, tc := range cases {
		got := api.mustFindInFeed(t, tc.token, v.ID)
		if got.IsFavorite != tc.isFavorite || got.Author.IsFollow != tc.follow {
			t.Errorf("feed as %s: is_favorite %v author.is_follow %v, want %v %v",
				tc.viewer, got.IsFavorite, got.Author.IsFollow, tc.isFavorite, tc.follow)
		}
		if got.FavoriteCount != 1 || got.Author.ID != author.ID || got.Author.FollowerCount != 1 || got.Author.TotalFavorited != 1 {
			t.Errorf("feed as %s: favorite_count %d author {id %d follower_count %d total_favorited %d}, want 1 {%d 1 1}",
				tc.viewer, got.FavoriteCount, got.Author.ID, got.Author.FollowerCount, got.Author.TotalFavorited, author.ID)
		}
	}
}
