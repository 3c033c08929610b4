package gateway

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"
	"golang.org/x/sync/errgroup"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/errs"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
)

// RelationAction serves api.RelationActionPath.
func (g *Gateway) RelationAction(ctx context.Context, c *app.RequestContext) {
	resp := &api.RelationActionResponse{}
	g.reply(ctx, c, resp, g.doRelationAction(ctx, c))
}

func (g *Gateway) doRelationAction(ctx context.Context, c *app.RequestContext) error {
	var req api.RelationActionRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	userID, err := g.writer(ctx, c, req.Token)
	if err != nil {
		return err
	}
	action := relationapi.RelationActionType(req.ActionType)
	if action != relationapi.RelationActionType_Follow && action != relationapi.RelationActionType_Unfollow {
		return errs.NotOneOf("action_type", relationapi.RelationActionType_Follow, relationapi.RelationActionType_Unfollow)
	}
	if req.ToUserID <= 0 {
		return errs.NotPositive("to_user_id")
	}
	_, err = g.deps.Relations.RelationAction(ctx, &relationapi.RelationActionRequest{UserId: userID, ToUserId: req.ToUserID, ActionType: action})
	if err == nil {
		g.wrote(ctx, 0, false, userID, req.ToUserID)
	}
	return wrap("relation action", err)
}

// RelationFollowList serves api.RelationFollowListPath.
func (g *Gateway) RelationFollowList(ctx context.Context, c *app.RequestContext) {
	g.relationList(ctx, c, g.deps.Relations.FollowList)
}

// RelationFollowerList serves api.RelationFollowerListPath.
func (g *Gateway) RelationFollowerList(ctx context.Context, c *app.RequestContext) {
	g.relationList(ctx, c, g.deps.Relations.FollowerList)
}

// relationList serves the follow and follower lists, which differ only in the call.
func (g *Gateway) relationList(ctx context.Context, c *app.RequestContext, list func(context.Context, *relationapi.ListRequest) (*relationapi.ListResponse, error)) {
	resp := &api.RelationListResponse{UserList: []*base.User{}}
	g.reply(ctx, c, resp, func() error {
		var req api.RelationListRequest
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
		found, err := list(ctx, &relationapi.ListRequest{UserId: req.UserID})
		if err != nil {
			return wrap("relation list", err)
		}
		users, err := g.usersInOrder(ctx, g.scopeOf(c), viewer, found.UserIds)
		if err != nil {
			return err
		}
		resp.UserList = users
		return nil
	}())
}

// RelationFriendList serves api.RelationFriendListPath.
func (g *Gateway) RelationFriendList(ctx context.Context, c *app.RequestContext) {
	resp := &api.FriendListResponse{UserList: []*base.FriendUser{}}
	g.reply(ctx, c, resp, g.doFriendList(ctx, c, resp))
}

// doFriendList lists mutual follows with the latest message of each conversation. Messages
// are private, so only one's own friend list can be read.
func (g *Gateway) doFriendList(ctx context.Context, c *app.RequestContext, resp *api.FriendListResponse) error {
	var req api.FriendListRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	viewer, err := g.viewer(ctx, c, req.Token, true)
	if err != nil {
		return err
	}
	if id := orZero(req.UserID); id != 0 && id != viewer {
		return errs.New(basecode.ErrCode_PermissionDenied, "you can only list your own friends")
	}
	friends, err := g.deps.Relations.FriendList(ctx, &relationapi.ListRequest{UserId: viewer})
	if err != nil {
		return wrap("friend list", err)
	}
	var (
		users  map[int64]*base.User
		latest *messageapi.MGetLatestMessagesResponse
	)
	scope := g.scopeOf(c)
	grp, gctx := errgroup.WithContext(ctx)
	grp.Go(func() (err error) {
		users, err = g.users(gctx, scope, viewer, friends.UserIds)
		return err
	})
	grp.Go(func() (err error) {
		latest, err = g.deps.Messages.MGetLatestMessages(gctx, &messageapi.MGetLatestMessagesRequest{UserId: viewer, PeerIds: friends.UserIds})
		return wrap("latest messages", err)
	})
	if err := grp.Wait(); err != nil {
		return err
	}
	for _, id := range friends.UserIds {
		u, ok := users[id]
		if !ok {
			continue
		}
		f := &base.FriendUser{
			ID: u.ID, Name: u.Name, FollowCount: u.FollowCount, FollowerCount: u.FollowerCount, IsFollow: u.IsFollow,
			Avatar: u.Avatar, BackgroundImage: u.BackgroundImage, Signature: u.Signature,
			TotalFavorited: u.TotalFavorited, WorkCount: u.WorkCount, FavoriteCount: u.FavoriteCount,
		}
		if m := latest.Messages[id]; m != nil {
			f.Message, f.MsgType = m.Content, m.MsgType
		}
		resp.UserList = append(resp.UserList, f)
	}
	return nil
}
