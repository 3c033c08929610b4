package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/kitex/pkg/kerrors"

	"github.com/douyin-backend/douyin/internal/auth"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// Services of a feed page: videos and profiles answer; favorites, comments and relations
// have no healthy instance.
type pageVideos struct{ videoapi.VideoService }

func (pageVideos) Feed(context.Context, *videoapi.FeedRequest) (*videoapi.FeedResponse, error) {
	return &videoapi.FeedResponse{Videos: []*videoapi.VideoRecord{{Id: 7, AuthorId: 3, Title: "seven", Status: videoapi.VideoStatus_Ready}}, NextTime: 1}, nil
}

func (pageVideos) MGetWorkCounts(context.Context, *videoapi.MGetWorkCountsRequest) (*videoapi.MGetWorkCountsResponse, error) {
	return &videoapi.MGetWorkCountsResponse{WorkCounts: map[int64]int64{3: 1}}, nil
}

type pageUsers struct {
	userapi.UserService
	down bool
}

func (u pageUsers) MGetUsers(context.Context, *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	if u.down {
		return nil, kerrors.ErrNoMoreInstance
	}
	return &userapi.MGetUsersResponse{Users: map[int64]*userapi.UserProfile{3: {Id: 3, Name: "author"}}}, nil
}

type downComments struct{ commentapi.CommentService }

func (downComments) MGetCommentCounts(context.Context, *commentapi.MGetCommentCountsRequest) (*commentapi.MGetCommentCountsResponse, error) {
	return nil, kerrors.ErrNoMoreInstance
}

type downRelations struct{ relationapi.RelationService }

func (downRelations) MGetRelations(context.Context, *relationapi.MGetRelationsRequest) (*relationapi.MGetRelationsResponse, error) {
	return nil, kerrors.ErrRPCTimeout
}

type degradations struct {
	mu    sync.Mutex
	parts []string
}

func (*degradations) ObserveHTTP(string, string, int, time.Duration) {}

func (d *degradations) ObserveDegraded(route, part string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.parts = append(d.parts, route+" "+part)
}

// The page degrades the same way whether its parts are fetched in parallel (services behind
// RPC) or one after another (services in this process).
func TestFeedServedWithoutOptionalParts(t *testing.T) {
	for _, inProcess := range []bool{false, true} {
		t.Run(map[bool]string{false: "parallel", true: "in-process"}[inProcess], func(t *testing.T) {
			testFeedServedWithoutOptionalParts(t, inProcess)
		})
	}
}

func testFeedServedWithoutOptionalParts(t *testing.T, inProcess bool) {
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	token, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	metrics := &degradations{}
	users := &pageUsers{}
	g, err := New(testConfig(0),
		Deps{Videos: pageVideos{}, Users: users, Favorites: unreachableFavorites{}, Comments: downComments{}, Relations: downRelations{},
			Tokens: tokens, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: metrics, InProcess: inProcess})
	if err != nil {
		t.Fatal(err)
	}
	resp := ut.PerformRequest(g.server.Engine, http.MethodGet, "/douyin/feed/?token="+token, nil,
		ut.Header{Key: "X-Request-Id", Value: "req-degraded-1"}).Result()
	if resp.StatusCode() != http.StatusOK {
		t.Fatalf("feed with favorites, comments and relations down: HTTP %d %s, want 200", resp.StatusCode(), resp.Body())
	}
	var page struct {
		StatusCode int64 `json:"status_code"`
		VideoList  []struct {
			ID            int64 `json:"id"`
			FavoriteCount int64 `json:"favorite_count"`
			CommentCount  int64 `json:"comment_count"`
			IsFavorite    bool  `json:"is_favorite"`
			Author        struct {
				Name      string `json:"name"`
				WorkCount int64  `json:"work_count"`
				IsFollow  bool   `json:"is_follow"`
			} `json:"author"`
		} `json:"video_list"`
	}
	if err := json.Unmarshal(resp.Body(), &page); err != nil || page.StatusCode != 0 || len(page.VideoList) != 1 {
		t.Fatalf("degraded feed page %s (%v)", resp.Body(), err)
	}
	v := page.VideoList[0]
	if v.ID != 7 || v.Author.Name != "author" || v.Author.WorkCount != 1 || v.FavoriteCount != 0 || v.CommentCount != 0 || v.IsFavorite || v.Author.IsFollow {
		t.Errorf("degraded feed video %+v: want the parts it has, zero for the rest", v)
	}
	want := map[string]bool{"/douyin/feed/ video_favorites": true, "/douyin/feed/ comment_counts": true, "/douyin/feed/ relations": true, "/douyin/feed/ favorite_stats": true}
	for _, p := range metrics.parts {
		delete(want, p)
	}
	if len(want) != 0 {
		t.Errorf("degradations counted %v, missing %v", metrics.parts, want)
	}
	if n := strings.Count(logs.String(), `"request_id":"req-degraded-1"`); n < 4 {
		t.Errorf("%d degradation log lines carry the request id, want one per missing part:\n%s", n, logs.String())
	}

	// Profiles are not optional: without them the page is refused, cleanly.
	users.down = true
	resp = ut.PerformRequest(g.server.Engine, http.MethodGet, "/douyin/feed/?token="+token, nil).Result()
	if resp.StatusCode() != http.StatusServiceUnavailable {
		t.Errorf("feed without profiles: HTTP %d, want 503", resp.StatusCode())
	}
}

// testConfig is an edge on a free port with the anonymous first page kept for anonymousTTL.
func testConfig(anonymousTTL time.Duration) Config {
	return Config{Addr: "127.0.0.1:0", TimeZone: "UTC", ShutdownGrace: time.Second, MaxUploadBytes: 1 << 20, AnonymousFeedTTL: anonymousTTL}
}
