package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/common/ut"

	"github.com/douyin-backend/douyin/internal/auth"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// callLog records the service methods a page called.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(method string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, method)
}

func (l *callLog) sorted() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(slices.Values(l.calls))
}

// Services of a feed page with two videos of author 3, either answering the page's combined
// parts (work counts with the feed, the author's favorite stats with the videos') or, as a
// service older than those fields, ignoring the asks.
type callVideos struct {
	videoapi.VideoService
	log      *callLog
	combined bool
	// profilesAsked, when set, holds MGetVideos until the profiles are asked for: the records
	// must be read alongside the authors' parts, not before them.
	profilesAsked <-chan struct{}
}

func (v callVideos) Feed(_ context.Context, req *videoapi.FeedRequest) (*videoapi.FeedResponse, error) {
	v.log.add("Feed")
	resp := &videoapi.FeedResponse{Videos: []*videoapi.VideoRecord{
		{Id: 8, AuthorId: 3, Title: "eight", Status: videoapi.VideoStatus_Ready},
		{Id: 7, AuthorId: 3, Title: "seven", Status: videoapi.VideoStatus_Ready},
	}, NextTime: 1}
	if v.combined && req.WithWorkCounts {
		resp.WorkCounts = map[int64]int64{3: 2}
	}
	return resp, nil
}

func (v callVideos) MGetVideos(_ context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	v.log.add("MGetVideos")
	if v.profilesAsked != nil {
		select {
		case <-v.profilesAsked:
		case <-time.After(10 * time.Second):
			return nil, errors.New("the records were read before the authors' profiles were asked for")
		}
	}
	resp := &videoapi.MGetVideosResponse{Videos: map[int64]*videoapi.VideoRecord{
		8: {Id: 8, AuthorId: 3, Title: "eight", Status: videoapi.VideoStatus_Ready, CreatedAt: 2},
		7: {Id: 7, AuthorId: 3, Title: "seven", Status: videoapi.VideoStatus_Ready, CreatedAt: 1},
	}}
	if v.combined && req.WithWorkCounts {
		resp.WorkCounts = map[int64]int64{3: 2}
	}
	return resp, nil
}

func (v callVideos) MGetWorkCounts(context.Context, *videoapi.MGetWorkCountsRequest) (*videoapi.MGetWorkCountsResponse, error) {
	v.log.add("MGetWorkCounts")
	return &videoapi.MGetWorkCountsResponse{WorkCounts: map[int64]int64{3: 2}}, nil
}

type callUsers struct {
	userapi.UserService
	log *callLog
	// asked, when set, is called on every MGetUsers.
	asked func()
}

func (u callUsers) MGetUsers(context.Context, *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	u.log.add("MGetUsers")
	if u.asked != nil {
		u.asked()
	}
	return &userapi.MGetUsersResponse{Users: map[int64]*userapi.UserProfile{3: {Id: 3, Name: "author"}}}, nil
}

type callRecommend struct {
	recommendapi.RecommendService
	log *callLog
	// authors: a service that answers with_author_ids.
	authors bool
}

func (r callRecommend) Recommend(_ context.Context, req *recommendapi.RecommendRequest) (*recommendapi.RecommendResponse, error) {
	r.log.add("Recommend")
	resp := &recommendapi.RecommendResponse{VideoIds: []int64{8, 7}}
	if r.authors && req.WithAuthorIds {
		resp.AuthorIds = []int64{3, 3}
	}
	return resp, nil
}

type callFavorites struct {
	favoriteapi.FavoriteService
	log      *callLog
	combined bool
}

func (f callFavorites) MGetVideoFavorites(_ context.Context, req *favoriteapi.MGetVideoFavoritesRequest) (*favoriteapi.MGetVideoFavoritesResponse, error) {
	f.log.add("MGetVideoFavorites")
	resp := &favoriteapi.MGetVideoFavoritesResponse{Videos: map[int64]*favoriteapi.VideoFavoriteInfo{7: {FavoriteCount: 4, IsFavorite: true}}}
	if f.combined && slices.Equal(req.UserIds, []int64{3}) {
		resp.Users = map[int64]*favoriteapi.UserFavoriteStats{3: {FavoriteCount: 5, TotalFavorited: 6}}
	}
	return resp, nil
}

func (f callFavorites) MGetUserFavoriteStats(context.Context, *favoriteapi.MGetUserFavoriteStatsRequest) (*favoriteapi.MGetUserFavoriteStatsResponse, error) {
	f.log.add("MGetUserFavoriteStats")
	return &favoriteapi.MGetUserFavoriteStatsResponse{Users: map[int64]*favoriteapi.UserFavoriteStats{3: {FavoriteCount: 5, TotalFavorited: 6}}}, nil
}

type callComments struct {
	commentapi.CommentService
	log *callLog
}

func (c callComments) MGetCommentCounts(context.Context, *commentapi.MGetCommentCountsRequest) (*commentapi.MGetCommentCountsResponse, error) {
	c.log.add("MGetCommentCounts")
	return &commentapi.MGetCommentCountsResponse{CommentCounts: map[int64]int64{8: 9}}, nil
}

type callRelations struct {
	relationapi.RelationService
	log *callLog
}

func (r callRelations) MGetRelations(context.Context, *relationapi.MGetRelationsRequest) (*relationapi.MGetRelationsResponse, error) {
	r.log.add("MGetRelations")
	return &relationapi.MGetRelationsResponse{Users: map[int64]*relationapi.UserRelationInfo{3: {FollowCount: 10, FollowerCount: 11, IsFollow: true}}}, nil
}

// A logged-in feed page makes one call per service when the services answer the combined
// parts, and falls back to the separate calls with services older than them: the page is the
// same either way, whether the parts are fetched in parallel or in this process.
func TestFeedPageCallsEachServiceOnce(t *testing.T) {
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	token, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	want := pageWithoutTimes(t, []byte(`{"status_code":0,"status_msg":"success","video_list":[`+
		`{"id":8,"author":{"id":3,"name":"author","follow_count":10,"follower_count":11,"is_follow":true,"total_favorited":6,"work_count":2,"favorite_count":5},"comment_count":9,"title":"eight"},`+
		`{"id":7,"author":{"id":3,"name":"author","follow_count":10,"follower_count":11,"is_follow":true,"total_favorited":6,"work_count":2,"favorite_count":5},"favorite_count":4,"is_favorite":true,"title":"seven"}]}`))
	for _, tc := range []struct {
		name      string
		combined  bool
		inProcess bool
		calls     []string
	}{
		{"combined", true, false, []string{"Feed", "MGetCommentCounts", "MGetRelations", "MGetVideoFavorites"}},
		{"combined in-process", true, true, []string{"Feed", "MGetCommentCounts", "MGetRelations", "MGetVideoFavorites"}},
		{"older services", false, false, []string{"Feed", "MGetCommentCounts", "MGetRelations", "MGetUserFavoriteStats", "MGetVideoFavorites", "MGetWorkCounts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &callLog{}
			g, err := New(testConfig(0),
				Deps{Videos: callVideos{log: log, combined: tc.combined}, Users: &pageUsers{}, Favorites: callFavorites{log: log, combined: tc.combined},
					Comments: callComments{log: log}, Relations: callRelations{log: log},
					Tokens: tokens, Logger: slog.New(slog.DiscardHandler), Metrics: &degradations{}, InProcess: tc.inProcess})
			if err != nil {
				t.Fatal(err)
			}
			resp := ut.PerformRequest(g.server.Engine, http.MethodGet, "/douyin/feed/?token="+token, nil).Result()
			if resp.StatusCode() != http.StatusOK {
				t.Fatalf("HTTP %d %s", resp.StatusCode(), resp.Body())
			}
			if got := pageWithoutTimes(t, resp.Body()); got != want {
				t.Errorf("page\n%s\nwant\n%s", got, want)
			}
			if got := log.sorted(); !slices.Equal(got, tc.calls) {
				t.Errorf("calls %v, want %v", got, tc.calls)
			}
		})
	}
}

// A recommended page assembled in full (no card cache: the multi-process placement) gets
// the authors' work counts with the records: six calls, one per service, where a video
// service older than with_work_counts takes seven (a favorite service older than user_ids, eight).
// With the authors in the ranking the records are read alongside the authors' parts: two
// rounds of calls instead of three.
func TestRecommendPageCallsEachServiceOnce(t *testing.T) {
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	token, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	// Video 7 is liked by the viewer: a recommended page leaves it out.
	want := pageWithoutTimes(t, []byte(`{"status_code":0,"status_msg":"success","video_list":[`+
		`{"id":8,"author":{"id":3,"name":"author","follow_count":10,"follower_count":11,"is_follow":true,"total_favorited":6,"work_count":2,"favorite_count":5},"comment_count":9,"title":"eight"}]}`))
	combined := []string{"MGetCommentCounts", "MGetRelations", "MGetUsers", "MGetVideoFavorites", "MGetVideos", "Recommend"}
	older := []string{"MGetCommentCounts", "MGetRelations", "MGetUserFavoriteStats", "MGetUsers", "MGetVideoFavorites", "MGetVideos", "MGetWorkCounts", "Recommend"}
	for _, tc := range []struct {
		name              string
		combined, authors bool
		calls             []string
	}{
		{"combined", true, false, combined},
		{"older services", false, false, older},
		{"authors ranked, combined", true, true, combined},
		{"authors ranked, older services", false, true, older},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &callLog{}
			videos, users := callVideos{log: log, combined: tc.combined}, callUsers{log: log}
			if tc.authors {
				profilesAsked := make(chan struct{})
				videos.profilesAsked, users.asked = profilesAsked, sync.OnceFunc(func() { close(profilesAsked) })
			}
			g, err := New(testConfig(0),
				Deps{Videos: videos, Users: users, Favorites: callFavorites{log: log, combined: tc.combined},
					Comments: callComments{log: log}, Relations: callRelations{log: log}, Recommend: callRecommend{log: log, authors: tc.authors},
					Tokens: tokens, Logger: slog.New(slog.DiscardHandler), Metrics: &degradations{}})
			if err != nil {
				t.Fatal(err)
			}
			resp := ut.PerformRequest(g.server.Engine, http.MethodGet, "/douyin/feed/recommend/?token="+token, nil).Result()
			if resp.StatusCode() != http.StatusOK {
				t.Fatalf("HTTP %d %s", resp.StatusCode(), resp.Body())
			}
			if got := pageWithoutTimes(t, resp.Body()); got != want {
				t.Errorf("page\n%s\nwant\n%s", got, want)
			}
			if got := log.sorted(); !slices.Equal(got, tc.calls) {
				t.Errorf("calls %v, want %v", got, tc.calls)
			}
		})
	}
}

// pageWithoutTimes is a feed page's JSON with next_time left out, zero fields dropped and
// keys sorted, so that it compares by content.
func pageWithoutTimes(t *testing.T, body []byte) string {
	t.Helper()
	var page map[string]any
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	delete(page, "next_time")
	out, err := json.Marshal(dropZeros(page))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func dropZeros(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil || e == "" || e == false || e == float64(0) {
				delete(x, k)
				continue
			}
			if l, ok := e.([]any); ok && len(l) == 0 {
				delete(x, k)
				continue
			}
			x[k] = dropZeros(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = dropZeros(e)
		}
		return x
	default:
		return v
	}
}
