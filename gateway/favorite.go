package gateway

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/errs"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
)

func (g *Gateway) favoriteAction(ctx context.Context, c *app.RequestContext) {
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
		return errs.Invalid("action_type must be 1 (like) or 2 (unlike)")
	}
	if req.VideoID <= 0 {
		return errs.Invalid("video_id must be a positive integer")
	}
	_, err = g.deps.Favorites.FavoriteAction(ctx, &favoriteapi.FavoriteActionRequest{UserId: userID, VideoId: req.VideoID, ActionType: action})
	if err == nil {
		g.firstPages.forget(req.VideoID, userID)
	}
	return wrap("favorite", err)
}

func (g *Gateway) favoriteList(ctx context.Context, c *app.RequestContext) {
	resp := &api.FavoriteListResponse{VideoList: []*base.Video{}}
	g.reply(ctx, c, resp, g.doFavoriteList(ctx, c, resp))
}

func (g *Gateway) doFavoriteList(ctx context.Context, c *app.RequestContext, resp *api.FavoriteListResponse) error {
	var req api.FavoriteListRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	if req.UserID <= 0 {
		return errs.Invalid("user_id must be a positive integer")
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
