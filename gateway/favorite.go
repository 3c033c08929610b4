package gateway

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/errs"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

// FavoriteAction serves api.FavoriteActionPath.
func (g *Gateway) FavoriteAction(ctx context.Context, c *app.RequestContext) {
	resp := &api.FavoriteActionResponse{}
	g.reply(ctx, c, resp, g.doFavoriteAction(ctx, c))
}

func (g *Gateway) doFavoriteAction(ctx context.Context, c *app.RequestContext) error {
	var req api.FavoriteActionRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	userID, err := g.writer(ctx, c, req.Token)
	if err != nil {
		return err
	}
	action := favoriteapi.FavoriteActionType(req.ActionType)
	if action != favoriteapi.FavoriteActionType_Like && action != favoriteapi.FavoriteActionType_Unlike {
		return errs.NotOneOf("action_type", favoriteapi.FavoriteActionType_Like, favoriteapi.FavoriteActionType_Unlike)
	}
	if req.VideoID <= 0 {
		return errs.NotPositive("video_id")
	}
	_, err = g.deps.Favorites.FavoriteAction(ctx, &favoriteapi.FavoriteActionRequest{UserId: userID, VideoId: req.VideoID, ActionType: action})
	if err == nil {
		g.wrote(ctx, req.VideoID, true, userID)
	}
	return wrap("favorite", err)
}

// FavoriteList serves api.FavoriteListPath.
func (g *Gateway) FavoriteList(ctx context.Context, c *app.RequestContext) {
	resp := &api.FavoriteListResponse{VideoList: []*base.Video{}}
	g.reply(ctx, c, resp, g.doFavoriteList(ctx, c, resp))
}

func (g *Gateway) doFavoriteList(ctx context.Context, c *app.RequestContext, resp *api.FavoriteListResponse) error {
	var req api.FavoriteListRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	if req.UserID <= 0 {
		return errs.NotPositive("user_id")
	}
	viewer, err := g.viewer(ctx, c, orEmpty(req.Token), false)
	if err != nil {
		return err
	}
	liked, err := g.deps.Favorites.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{UserId: req.UserID})
	if err != nil {
		return wrap("favorite list", err)
	}
	videos, err := g.videosByID(ctx, g.scopeOf(c), viewer, liked.VideoIds)
	if err != nil {
		return err
	}
	resp.VideoList = videos
	return nil
}
