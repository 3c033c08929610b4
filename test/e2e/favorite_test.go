package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/polltest"
)

// favoriteApplyTimeout bounds how long a like may take to reach the durable favorite list: in
// the multi-process placement a consumer applies it from the queue.
const favoriteApplyTimeout = 10 * time.Second

// waitFavoriteApplied waits until the liker's favorite list shows the like state, so the
// consumer has committed it and every counter derived from it is settled.
func waitFavoriteApplied(t *testing.T, liker *testUser, videoID int64, liked bool) {
	t.Helper()
	polltest.UntilEvery(t, favoriteApplyTimeout, 20*time.Millisecond, "the like to reach the favorite list", func() bool {
		_, found := findVideo(api.favoriteList(t, liker.Token, liker.ID), videoID)
		return found == liked
	})
}

// wantLikeState asserts the like state of one video everywhere it shows: the publish list (as
// the liker and anonymously), the feed (as the liker), the liker's favorite list (as the liker
// and anonymously) and both users' counters.
func wantLikeState(t *testing.T, ctx string, author, liker *testUser, videoID int64, liked bool) {
	t.Helper()
	waitFavoriteApplied(t, liker, videoID, liked)
	var n int64
	if liked {
		n = 1
	}
	check := func(where string, v Video, wantFavorite bool) {
		t.Helper()
		if v.FavoriteCount != n || v.IsFavorite != wantFavorite || v.Author.TotalFavorited != n {
			t.Errorf("%s, %s: favorite_count %d is_favorite %v author.total_favorited %d, want %d %v %d",
				ctx, where, v.FavoriteCount, v.IsFavorite, v.Author.TotalFavorited, n, wantFavorite, n)
		}
	}
	check("publish list as liker", api.publishedVideo(t, liker.Token, author.ID, videoID), liked)
	check("publish list anonymously", api.publishedVideo(t, "", author.ID, videoID), false)
	check("feed as liker", api.mustFindInFeed(t, liker.Token, videoID), liked)

	for _, view := range []struct {
		who, token string
		favorite   bool
	}{{"liker", liker.Token, liked}, {"anonymous", "", false}} {
		favs := api.favoriteList(t, view.token, liker.ID)
		v, found := findVideo(favs, videoID)
		switch {
		case found != liked:
			t.Errorf("%s: video %d in the liker's favorite list (as %s) = %v, want %v (list %v)", ctx, videoID, view.who, found, liked, videoIDs(favs))
		case found:
			check("favorite list as "+view.who, v, view.favorite)
		}
	}
	api.wantCounts(t, ctx+" (liker)", liker.ID, counts{Favorite: n})
	api.wantCounts(t, ctx+" (author)", author.ID, counts{TotalFavorited: n, Work: 1})
}

func TestFavoriteLifecycle(t *testing.T) {
	t.Parallel()
	author := api.register(t, "favauth")
	liker := api.register(t, "favliker")
	v := api.publish(t, author, "like me", "testsrc.mp4")

	wantLikeState(t, "before any like", author, liker, v.ID, false)

	api.like(t, liker, v.ID)
	wantLikeState(t, "after a like", author, liker, v.ID, true)

	api.like(t, liker, v.ID)
	wantLikeState(t, "after liking twice", author, liker, v.ID, true)

	api.unlike(t, liker, v.ID)
	wantLikeState(t, "after unlike", author, liker, v.ID, false)
	r := api.get(t, pathFavoriteList, vals("user_id", liker.ID)).mustOK(t)
	if list := checkList(t, r, "video_list", checkVideo); len(list) != 0 {
		t.Errorf("favorite list after unlike has %d entries, want []", len(list))
	}

	api.unlike(t, liker, v.ID)
	wantLikeState(t, "after unlike without a like", author, liker, v.ID, false)
}

func TestFavoriteListNewestFirst(t *testing.T) {
	t.Parallel()
	author := api.register(t, "favord")
	first := api.register(t, "favfirst")
	second := api.register(t, "favsecond")
	v1 := api.publish(t, author, "video one", "testsrc.mp4")
	v2 := api.publish(t, author, "video two", "cellauto.mp4")

	wantFavs := func(u *testUser, want ...int64) {
		t.Helper()
		var list []Video
		// Likes reach the durable list through the queue: wait for it (at once when embedded).
		polltest.UntilEvery(t, favoriteApplyTimeout, 20*time.Millisecond, "the favorite list to show the likes", func() bool {
			list = api.favoriteList(t, u.Token, u.ID)
			return equalIDs(videoIDs(list), want)
		})
		if got := videoIDs(list); !equalIDs(got, want) {
			t.Errorf("favorite list of %s = %v, want newest like first %v", u.Name, got, want)
		}
		for _, v := range list {
			if !v.IsFavorite {
				t.Errorf("favorite list of %s seen by its owner: video %d is_favorite false", u.Name, v.ID)
			}
		}
	}

	api.like(t, first, v1.ID)
	api.like(t, first, v2.ID)
	wantFavs(first, v2.ID, v1.ID)

	// Order follows the like, not the publish time.
	api.like(t, second, v2.ID)
	api.like(t, second, v1.ID)
	wantFavs(second, v1.ID, v2.ID)

	// A like renewed after an unlike is the newest.
	api.unlike(t, first, v1.ID)
	wantFavs(first, v2.ID)
	api.like(t, first, v1.ID)
	wantFavs(first, v1.ID, v2.ID)

	for _, id := range []int64{v1.ID, v2.ID} {
		if got := api.publishedVideo(t, "", author.ID, id).FavoriteCount; got != 2 {
			t.Errorf("video %d favorite_count = %d, want 2", id, got)
		}
	}
	api.wantCounts(t, "author after four likes", author.ID, counts{TotalFavorited: 4, Work: 2})
	api.wantCounts(t, "first liker", first.ID, counts{Favorite: 2})
	api.wantCounts(t, "second liker", second.ID, counts{Favorite: 2})

	// Another viewer sees the first liker's list with its own is_favorite (false: it liked nothing).
	stranger := api.register(t, "favstr")
	for _, v := range api.favoriteList(t, stranger.Token, first.ID) {
		if v.IsFavorite {
			t.Errorf("first liker's favorite list seen by a stranger: video %d is_favorite true, want false", v.ID)
		}
	}
}

func TestFavoriteErrors(t *testing.T) {
	t.Parallel()
	author := api.register(t, "faverr")
	liker := api.register(t, "faverrl")
	v := api.publish(t, author, "error video", "testsrc.mp4")

	cases := []struct {
		name       string
		query      url.Values
		httpStatus int
		code       int64
	}{
		{"action_type 0", vals("token", liker.Token, "video_id", v.ID, "action_type", 0), http.StatusOK, codeInvalidParam},
		{"action_type 3", vals("token", liker.Token, "video_id", v.ID, "action_type", 3), http.StatusOK, codeInvalidParam},
		{"action_type -1", vals("token", liker.Token, "video_id", v.ID, "action_type", -1), http.StatusOK, codeInvalidParam},
		{"non-numeric action_type", vals("token", liker.Token, "video_id", v.ID, "action_type", "like"), http.StatusOK, codeInvalidParam},
		{"missing action_type", vals("token", liker.Token, "video_id", v.ID), http.StatusOK, codeInvalidParam},
		{"missing video_id", vals("token", liker.Token, "action_type", 1), http.StatusOK, codeInvalidParam},
		{"non-numeric video_id", vals("token", liker.Token, "video_id", "abc", "action_type", 1), http.StatusOK, codeInvalidParam},
		{"unknown video", vals("token", liker.Token, "video_id", missingID, "action_type", 1), http.StatusOK, codeVideoNotFound},
		{"missing token", vals("video_id", v.ID, "action_type", 1), http.StatusUnauthorized, codeUnauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api.post(t, pathFavorite, tc.query).wantErr(t, tc.httpStatus, tc.code)
		})
	}
	wantLikeState(t, "after rejected favorite actions", author, liker, v.ID, false)
	if favs := api.favoriteList(t, liker.Token, liker.ID); len(favs) != 0 {
		t.Errorf("favorite list after rejected actions = %v, want []", videoIDs(favs))
	}

	t.Run("favorite list without user_id", func(t *testing.T) {
		api.get(t, pathFavoriteList, vals()).wantInvalid(t)
	})
	t.Run("favorite list with non-numeric user_id", func(t *testing.T) {
		api.get(t, pathFavoriteList, vals("user_id", "abc")).wantInvalid(t)
	})
}
