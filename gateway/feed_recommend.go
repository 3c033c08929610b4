package gateway

import (
	"context"
	"slices"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// recommendFeed is /douyin/feed/recommend/: up to 30 ready videos ranked for the viewer (token
// optional; anonymous viewers get what is popular now). Repeated calls continue where the last
// left off, so latest_time is checked like the following feed's but does not page; next_time
// is the oldest publish time on the page, as on /douyin/feed/, for clients that echo it.
func (g *Gateway) recommendFeed(ctx context.Context, c *app.RequestContext) {
	resp := &api.FeedResponse{VideoList: []*base.Video{}}
	var req api.FeedRequest
	err := g.binder.bind(c, &req)
	var viewer int64
	if err == nil {
		viewer, err = g.viewer(ctx, c, orEmpty(req.Token), false)
	}
	if err == nil {
		_, err = personalCursor(req.LatestTime)
	}
	var ranked *recommendapi.RecommendResponse
	if err == nil {
		ranked, err = g.deps.Recommend.Recommend(ctx, &recommendapi.RecommendRequest{ViewerId: viewer, Limit: feedPageSize})
		err = wrap("recommend", err)
	}
	if err == nil && len(ranked.VideoIds) > 0 {
		var found *videoapi.MGetVideosResponse
		found, err = g.deps.Videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: ranked.VideoIds})
		if err == nil {
			records := make([]*videoapi.VideoRecord, 0, len(ranked.VideoIds))
			for _, id := range ranked.VideoIds {
				if r, ok := found.Videos[id]; ok {
					records = append(records, r)
					if resp.NextTime == 0 || r.CreatedAt < resp.NextTime {
						resp.NextTime = r.CreatedAt
					}
				}
			}
			resp.VideoList, err = g.videos(ctx, g.scopeOf(c), viewer, records)
			resp.VideoList = withoutOwnOrLiked(resp.VideoList, viewer)
		} else {
			err = wrap("get videos", err)
		}
	}
	g.reply(ctx, c, resp, err)
}

// withoutOwnOrLiked drops the viewer's own videos and those they like. The ranking already
// leaves them out once its event stream has them; the like flags come from the favorite read
// model, which holds a like from the moment it is acknowledged, so a like the recommender has
// not consumed yet is left out too.
func withoutOwnOrLiked(videos []*base.Video, viewer int64) []*base.Video {
	if viewer == 0 {
		return videos
	}
	return slices.DeleteFunc(videos, func(v *base.Video) bool {
		return v.IsFavorite || (v.Author != nil && v.Author.ID == viewer)
	})
}
