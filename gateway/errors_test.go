package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/kitex/pkg/kerrors"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/errs"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

func TestClassifyUnreachableServiceAsUnavailable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want basecode.ErrCode
	}{
		{"no instance", kerrors.ErrNoInstance, basecode.ErrCode_Unavailable},
		{"no more instances", kerrors.ErrNoMoreInstance, basecode.ErrCode_Unavailable},
		{"connection refused", kerrors.ErrGetConnection.WithCause(fmt.Errorf("dial tcp: connection refused")), basecode.ErrCode_Unavailable},
		{"circuit open", kerrors.ErrInstanceCircuitBreak, basecode.ErrCode_Unavailable},
		{"timeout", kerrors.ErrRPCTimeout.WithCause(context.DeadlineExceeded), basecode.ErrCode_Unavailable},
		{"instance died mid-call", kerrors.ErrRemoteOrNetwork.WithCause(fmt.Errorf("EOF peer close")), basecode.ErrCode_Unavailable},
		{"wrapped", fmt.Errorf("get videos: %w", kerrors.ErrNoMoreInstance), basecode.ErrCode_Unavailable},
		{"business error kept", errs.New(basecode.ErrCode_VideoNotFound, "video not found"), basecode.ErrCode_VideoNotFound},
		{"other fault", fmt.Errorf("boom"), basecode.ErrCode_InternalError},
	}
	for _, tc := range cases {
		if got, _ := classify(tc.err); got != tc.want {
			t.Errorf("%s: classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// unreachableFavorites fails every call the way a Kitex client does when no instance of the
// service is healthy.
type unreachableFavorites struct {
	favoriteapi.FavoriteService
}

func (unreachableFavorites) FavoriteAction(context.Context, *favoriteapi.FavoriteActionRequest) (*favoriteapi.FavoriteActionResponse, error) {
	return nil, kerrors.ErrNoMoreInstance
}

func (unreachableFavorites) FavoriteList(context.Context, *favoriteapi.FavoriteListRequest) (*favoriteapi.FavoriteListResponse, error) {
	return nil, kerrors.ErrNoMoreInstance
}

// A like or a read while the favorite service has no healthy instance is a 503 with the
// envelope and Retry-After, never a 500.
func TestNoHealthyInstanceIsA503WithRetryAfter(t *testing.T) {
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	token, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(testConfig(0),
		Deps{Favorites: unreachableFavorites{}, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct{ method, url string }{
		{http.MethodPost, "/douyin/favorite/action/?video_id=7&action_type=1&token=" + token},
		{http.MethodGet, "/douyin/favorite/list/?user_id=42&token=" + token},
	} {
		w := ut.PerformRequest(g.server.Engine, req.method, req.url, nil)
		resp := w.Result()
		if resp.StatusCode() != http.StatusServiceUnavailable {
			t.Errorf("%s %s: HTTP %d, want 503 (%s)", req.method, req.url, resp.StatusCode(), resp.Body())
		}
		if got := string(resp.Header.Peek("Retry-After")); got != "1" {
			t.Errorf("%s %s: Retry-After %q, want 1", req.method, req.url, got)
		}
		var env struct {
			StatusCode int64  `json:"status_code"`
			StatusMsg  string `json:"status_msg"`
		}
		if err := json.Unmarshal(resp.Body(), &env); err != nil || env.StatusCode != int64(basecode.ErrCode_Unavailable) || env.StatusMsg == "" {
			t.Errorf("%s %s: envelope %s (%v), want status_code %d with a message", req.method, req.url, resp.Body(), err, basecode.ErrCode_Unavailable)
		}
	}
}

func (unreachableFavorites) MGetVideoFavorites(context.Context, *favoriteapi.MGetVideoFavoritesRequest) (*favoriteapi.MGetVideoFavoritesResponse, error) {
	return nil, kerrors.ErrNoMoreInstance
}

func (unreachableFavorites) MGetUserFavoriteStats(context.Context, *favoriteapi.MGetUserFavoriteStatsRequest) (*favoriteapi.MGetUserFavoriteStatsResponse, error) {
	return nil, kerrors.ErrNoMoreInstance
}
