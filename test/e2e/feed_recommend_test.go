package e2e

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/polltest"
)

const pathFeedRecommend = "/douyin/feed/recommend/"

// likeInfluence is the bound on how soon a like changes that viewer's recommendations.
const likeInfluence = 10 * time.Second

func (c *client) recommendRaw(t *testing.T, token string, q url.Values) *apiResp {
	t.Helper()
	return c.get(t, pathFeedRecommend, withToken(q, token))
}

// recommend is one recommended page, checked like a /douyin/feed/ page.
func (c *client) recommend(t *testing.T, token string) feedResp {
	t.Helper()
	return checkedFeedPage(t, c.recommendRaw(t, token, url.Values{}).mustOK(t))
}

// TestRecommendFeedFollowsTaste: a viewer who likes what two other users like is recommended
// the other video those users like first, within likeInfluence of the like; never their own or
// already liked videos. The recommender consumes likes concurrently from several queues, so a
// viewer whose like overtook the fans' likes on the way gets a ranking without them: each
// attempt is a new viewer (a first page is marked seen), until likeInfluence has passed.
func TestRecommendFeedFollowsTaste(t *testing.T) {
	t.Parallel()
	author := api.register(t, "recauthor")
	shared := api.publish(t, author, "recommend shared taste", "testsrc.mp4")
	pick := api.publish(t, author, "recommend the pick", "mandelbrot.mp4")
	for i := range 2 {
		fan := api.register(t, fmt.Sprintf("recfan%d", i))
		api.like(t, fan, shared.ID)
		api.like(t, fan, pick.ID)
	}

	var page feedResp
	var viewer *testUser
	polltest.UntilEvery(t, likeInfluence, publishInterval, fmt.Sprintf("video %d first in the recommendations of a viewer who liked %d", pick.ID, shared.ID), func() bool {
		viewer = api.register(t, "recviewer")
		api.like(t, viewer, shared.ID)
		page = api.recommend(t, viewer.Token)
		return len(page.VideoList) > 0 && page.VideoList[0].ID == pick.ID
	})
	v := page.VideoList[0]
	if v.Author.ID != author.ID || v.PlayURL == "" || v.FavoriteCount != 2 || v.IsFavorite {
		t.Errorf("recommended video %+v: want author %d, a play URL, 2 likes, not liked by the viewer", v, author.ID)
	}
	if page.NextTime <= 1e11 {
		t.Errorf("next_time = %d, want a publish time in ms", page.NextTime)
	}
	for n := range 3 {
		for _, v := range page.VideoList {
			if v.ID == shared.ID {
				t.Errorf("page %d recommends video %d, which the viewer liked", n, v.ID)
			}
		}
		page = api.recommend(t, viewer.Token)
	}
	// The author is never recommended their own videos.
	for n := range 3 {
		for _, v := range api.recommend(t, author.Token).VideoList {
			if v.Author.ID == author.ID {
				t.Errorf("author's page %d recommends their own video %d", n, v.ID)
			}
		}
	}
}

// TestRecommendFeedContinues: a second call does not repeat the first page's videos while
// unseen ones remain; those come first.
func TestRecommendFeedContinues(t *testing.T) {
	t.Parallel()
	viewer := api.register(t, "reccont")
	// Parallel tests publish as this runs: a first page that takes the whole catalogue starts
	// over on the second. Only a catalogue clearly larger than a page (some slack for videos the
	// recommender has not consumed yet) must not repeat.
	catalogue := readyVideosUpTo(t, 40)
	first := api.recommend(t, viewer.Token)
	second := api.recommend(t, viewer.Token)
	seen := map[int64]bool{}
	for _, v := range first.VideoList {
		seen[v.ID] = true
	}
	fresh := 0
	for fresh < len(second.VideoList) && !seen[second.VideoList[fresh].ID] {
		fresh++
	}
	for _, v := range second.VideoList[fresh:] {
		if !seen[v.ID] {
			t.Errorf("second page: unseen video %d after a repeated one; unseen videos come first", v.ID)
		}
	}
	if len(first.VideoList) == 30 && catalogue >= 40 && fresh == 0 {
		t.Errorf("second page %v repeats the first %v although the first was full", feedIDs(second), feedIDs(first))
	}
	if len(first.VideoList) > 0 && len(second.VideoList) == 0 {
		t.Error("second page empty: an exhausted catalogue must start over")
	}
}

// TestRecommendFeedBadInput: the token is optional but a bad one is refused, latest_time is
// checked, and a viewer with no likes and no follows gets the popular videos.
func TestRecommendFeedBadInput(t *testing.T) {
	t.Parallel()
	author := api.register(t, "recbad")
	v := api.publish(t, author, "recommend for everyone", "testsrc.mp4")

	api.recommendRaw(t, "not.a.token", url.Values{}).wantUnauth(t)
	for _, latest := range []string{"-1", "abc", "999999999999999999"} {
		api.recommendRaw(t, "", url.Values{"latest_time": {latest}}).wantInvalid(t)
	}
	newcomer := api.register(t, "recnew")
	if anon := api.recommend(t, ""); len(anon.VideoList) == 0 {
		t.Error("anonymous recommendations are empty although videos exist")
	}
	// Cold start: the new video, liked by nobody, reaches a new viewer as they keep asking.
	polltest.UntilEvery(t, likeInfluence, publishInterval, fmt.Sprintf("video %d recommended to new viewer %d", v.ID, newcomer.ID), func() bool {
		for range 20 {
			page := api.recommend(t, newcomer.Token)
			if slices.ContainsFunc(page.VideoList, func(x Video) bool { return x.ID == v.ID }) {
				return true
			}
		}
		return false
	})
	for _, token := range []string{"", newcomer.Token} {
		for _, x := range api.recommend(t, token).VideoList {
			if x.IsFavorite || x.Author.IsFollow {
				t.Errorf("viewer with no likes or follows: video %d is_favorite %v is_follow %v", x.ID, x.IsFavorite, x.Author.IsFollow)
			}
		}
	}
	// The refused calls changed nothing: the video still has no likes.
	if got := api.publishedVideo(t, "", author.ID, v.ID); got.FavoriteCount != 0 {
		t.Errorf("video %d has %d likes after refused calls, want 0", v.ID, got.FavoriteCount)
	}
}

// readyVideosUpTo counts the ready videos of the main feed, paging by next_time, stopping at limit.
func readyVideosUpTo(t *testing.T, limit int) int {
	t.Helper()
	n := 0
	q := url.Values{}
	for n < limit {
		page := api.feedQuery(t, "", q)
		n += len(page.VideoList)
		if len(page.VideoList) == 0 || page.NextTime == 0 {
			break
		}
		q.Set("latest_time", strconv.FormatInt(page.NextTime, 10))
	}
	return n
}
