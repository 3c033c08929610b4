package e2e

import (
	"net/url"
	"testing"
)

const pathFeedFollowing = "/douyin/feed/following/"

func (c *client) followingFeedRaw(t *testing.T, token string, q url.Values) *apiResp {
	t.Helper()
	return c.get(t, pathFeedFollowing, withToken(q, token))
}

// followingFeed is one page of the following feed, checked like a /douyin/feed/ page.
func (c *client) followingFeed(t *testing.T, token string, q url.Values) feedResp {
	t.Helper()
	return checkedFeedPage(t, c.followingFeedRaw(t, token, q).mustOK(t))
}

func feedIDs(f feedResp) []int64 {
	out := make([]int64, len(f.VideoList))
	for i, v := range f.VideoList {
		out[i] = v.ID
	}
	return out
}

// TestFollowingFeed: the followed authors' videos, newest first, paged by next_time, and an
// unfollow is seen by the next page.
func TestFollowingFeed(t *testing.T) {
	t.Parallel()
	viewer := api.register(t, "follfeedv")
	first := api.register(t, "follfeeda")
	second := api.register(t, "follfeedb")
	stranger := api.register(t, "follfeedc")
	api.follow(t, viewer, first.ID)
	api.follow(t, viewer, second.ID)

	older := api.publish(t, first, "following older", "testsrc.mp4")
	middle := api.publish(t, second, "following middle", "mandelbrot.mp4")
	newer := api.publish(t, first, "following newer", "cellauto.mp4")
	api.publish(t, stranger, "not followed", "testsrc.mp4")

	page := api.followingFeed(t, viewer.Token, url.Values{})
	if want := []int64{newer.ID, middle.ID, older.ID}; !equalIDs(feedIDs(page), want) {
		t.Fatalf("following feed = %v, want the followed authors' videos newest first %v", feedIDs(page), want)
	}
	for _, v := range page.VideoList {
		if !v.Author.IsFollow {
			t.Errorf("video %d: author.is_follow false in the viewer's following feed", v.ID)
		}
	}
	if page.NextTime <= 1e11 {
		t.Fatalf("next_time = %d, want the oldest video's publish time in ms", page.NextTime)
	}
	// Paging: strictly older than next_time, in ms and in seconds alike.
	rest := api.followingFeed(t, viewer.Token, vals("latest_time", page.NextTime))
	if len(rest.VideoList) != 0 || rest.NextTime != 0 {
		t.Errorf("page after the oldest video = %v next_time %d, want [] and 0", feedIDs(rest), rest.NextTime)
	}
	secs := api.followingFeed(t, viewer.Token, vals("latest_time", page.NextTime/1000+1))
	if len(secs.VideoList) == 0 || secs.VideoList[len(secs.VideoList)-1].ID != older.ID {
		t.Errorf("latest_time in seconds just after the oldest video = %v, want it to end with %d", feedIDs(secs), older.ID)
	}
	// A Bearer header is a token too.
	bearer := api.doBearer(t, "GET", pathFeedFollowing, url.Values{}, viewer.Token).mustOK(t)
	if got := decodeAs[feedResp](t, bearer); len(got.VideoList) != 3 {
		t.Errorf("following feed with a Bearer token: %d videos, want 3", len(got.VideoList))
	}

	api.unfollow(t, viewer, second.ID)
	after := api.followingFeed(t, viewer.Token, url.Values{})
	if want := []int64{newer.ID, older.ID}; !equalIDs(feedIDs(after), want) {
		t.Errorf("following feed after unfollowing = %v, want %v", feedIDs(after), want)
	}
}

// TestFollowingFeedBadInput: a token is required, latest_time must be a sane time, and a
// viewer following nobody gets an empty page; none of it changes anything.
func TestFollowingFeedBadInput(t *testing.T) {
	t.Parallel()
	viewer := api.register(t, "follfeedbad")
	author := api.register(t, "follfeedbada")
	api.follow(t, viewer, author.ID)

	api.followingFeedRaw(t, "", url.Values{}).wantUnauth(t)
	api.followingFeedRaw(t, "not.a.token", url.Values{}).wantUnauth(t)
	for _, latest := range []string{"-1", "abc", "999999999999999999"} {
		api.followingFeedRaw(t, viewer.Token, url.Values{"latest_time": {latest}}).wantInvalid(t)
	}

	lonely := api.register(t, "follfeedlone")
	empty := api.followingFeed(t, lonely.Token, url.Values{})
	if len(empty.VideoList) != 0 || empty.NextTime != 0 {
		t.Errorf("following feed of a viewer following nobody = %v next_time %d, want [] and 0", feedIDs(empty), empty.NextTime)
	}
	// The rejected calls left the follow in place.
	if list := api.followList(t, viewer.Token, viewer.ID); len(list) != 1 || list[0].ID != author.ID {
		t.Errorf("follow list after rejected feed calls = %v, want [%d]", list, author.ID)
	}
}
