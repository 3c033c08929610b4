package gateway

import (
	"context"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/moderation"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
)

// CommentAction serves api.CommentActionPath.
func (g *Gateway) CommentAction(ctx context.Context, c *app.RequestContext) {
	resp := &api.CommentActionResponse{}
	g.reply(ctx, c, resp, g.doCommentAction(ctx, c, resp))
}

func (g *Gateway) doCommentAction(ctx context.Context, c *app.RequestContext, resp *api.CommentActionResponse) error {
	var req api.CommentActionRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	userID, err := g.writer(ctx, c, req.Token)
	if err != nil {
		return err
	}
	if req.VideoID <= 0 {
		return errs.NotPositive("video_id")
	}
	switch api.CommentActionType(req.ActionType) {
	case api.CommentActionType_Post:
		if req.CommentText == nil {
			return errs.Invalid("comment_text is required to post a comment")
		}
		content, err := g.moderate(moderation.CommentText, *req.CommentText)
		if err != nil {
			return err
		}
		posted, err := g.deps.Comments.PostComment(ctx, &commentapi.PostCommentRequest{UserId: userID, VideoId: req.VideoID, Content: content})
		if err != nil {
			return wrap("post comment", err)
		}
		g.wrote(ctx, req.VideoID, false)
		comments, err := g.comments(ctx, g.scopeOf(c), userID, []*commentapi.CommentRecord{posted.Comment})
		if err != nil {
			return err
		}
		if len(comments) == 0 {
			return errs.New(basecode.ErrCode_UserNotFound, "user not found")
		}
		resp.Comment = comments[0]
		g.publishLive(ctx, req.VideoID, resp.Comment)
		return nil
	case api.CommentActionType_Delete:
		if orZero(req.CommentID) <= 0 {
			return errs.NotPositive("comment_id")
		}
		_, err := g.deps.Comments.DeleteComment(ctx, &commentapi.DeleteCommentRequest{UserId: userID, VideoId: req.VideoID, CommentId: *req.CommentID})
		if err == nil {
			g.wrote(ctx, req.VideoID, false)
		}
		return wrap("delete comment", err)
	default:
		return errs.NotOneOf("action_type", api.CommentActionType_Post, api.CommentActionType_Delete)
	}
}

// CommentList serves api.CommentListPath.
func (g *Gateway) CommentList(ctx context.Context, c *app.RequestContext) {
	resp := &api.CommentListResponse{CommentList: []*base.Comment{}}
	g.reply(ctx, c, resp, g.doCommentList(ctx, c, resp))
}

func (g *Gateway) doCommentList(ctx context.Context, c *app.RequestContext, resp *api.CommentListResponse) error {
	var req api.CommentListRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	if req.VideoID <= 0 {
		return errs.NotPositive("video_id")
	}
	viewer, err := g.viewer(ctx, c, orEmpty(req.Token), false)
	if err != nil {
		return err
	}
	list, err := g.deps.Comments.ListComments(ctx, &commentapi.ListCommentsRequest{VideoId: req.VideoID})
	if err != nil {
		return wrap("list comments", err)
	}
	comments, err := g.comments(ctx, g.scopeOf(c), viewer, list.Comments)
	if err != nil {
		return err
	}
	resp.CommentList = comments
	return nil
}

// comments assembles comments with their authors in one batch.
func (g *Gateway) comments(ctx context.Context, scope pageScope, viewer int64, records []*commentapi.CommentRecord) ([]*base.Comment, error) {
	authorIDs := make([]int64, len(records))
	for i, r := range records {
		authorIDs[i] = r.UserId
	}
	authors, err := g.users(ctx, scope, viewer, authorIDs)
	if err != nil {
		return nil, err
	}
	out := make([]*base.Comment, 0, len(records))
	for _, r := range records {
		author, ok := authors[r.UserId]
		if !ok {
			continue
		}
		out = append(out, &base.Comment{
			ID:         r.Id,
			User:       author,
			Content:    r.Content,
			CreateDate: time.UnixMilli(r.CreatedAt).In(g.location).Format("01-02"),
		})
	}
	return out, nil
}
