package gateway

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/moderation"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
)

// MessageAction serves api.MessageActionPath.
func (g *Gateway) MessageAction(ctx context.Context, c *app.RequestContext) {
	resp := &api.MessageActionResponse{}
	g.reply(ctx, c, resp, g.doMessageAction(ctx, c))
}

func (g *Gateway) doMessageAction(ctx context.Context, c *app.RequestContext) error {
	var req api.MessageActionRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	from, err := g.writer(ctx, c, req.Token)
	if err != nil {
		return err
	}
	if api.MessageActionType(req.ActionType) != api.MessageActionType_Send {
		return errs.NotOneOf("action_type", api.MessageActionType_Send)
	}
	if req.ToUserID <= 0 {
		return errs.NotPositive("to_user_id")
	}
	content, err := g.moderate(moderation.MessageText, req.Content)
	if err != nil {
		return err
	}
	_, err = g.deps.Messages.SendMessage(ctx, &messageapi.SendMessageRequest{FromUserId: from, ToUserId: req.ToUserID, Content: content})
	return wrap("send message", err)
}

// MessageChat serves api.MessageChatPath.
func (g *Gateway) MessageChat(ctx context.Context, c *app.RequestContext) {
	resp := &api.MessageChatResponse{MessageList: []*base.Message{}}
	g.reply(ctx, c, resp, g.doMessageChat(ctx, c, resp))
}

func (g *Gateway) doMessageChat(ctx context.Context, c *app.RequestContext, resp *api.MessageChatResponse) error {
	var req api.MessageChatRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	viewer, err := g.viewer(ctx, c, req.Token, true)
	if err != nil {
		return err
	}
	if req.ToUserID <= 0 {
		return errs.NotPositive("to_user_id")
	}
	chat, err := g.deps.Messages.Chat(ctx, &messageapi.ChatRequest{UserId: viewer, PeerId: req.ToUserID, PreMsgTime: max(orZero(req.PreMsgTime), 0)})
	if err != nil {
		return wrap("chat", err)
	}
	for _, m := range chat.Messages {
		resp.MessageList = append(resp.MessageList, &base.Message{
			ID: m.Id, ToUserID: m.ToUserId, FromUserID: m.FromUserId, Content: m.Content, CreateTime: m.CreateTime,
		})
	}
	return nil
}
