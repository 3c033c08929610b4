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

// RecommendFeed serves api.RecommendFeedPath: up to 30 ready videos ranked for the viewer (token
// optional; anonymous viewers get what is popular now). Repeated calls continue where the last
// left off, so latest_time is checked like the following feed's but does not page; next_time
// is the oldest publish time on the page, as on /douyin/feed/, for clients that echo it.
func (g *Gateway) RecommendFeed(ctx context.Context, c *app.RequestContext) {
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
		// A page assembled in full reads its records alongside the authors' parts.
		ranked, err = g.deps.Recommend.Recommend(ctx, &recommendapi.RecommendRequest{ViewerId: viewer, Limit: feedPageSize, WithAuthorIds: g.cards == nil})
		err = wrap("recommend", err)
	}
	scope := g.scopeOf(c)
	if err == nil && g.cards != nil {
		served, err := g.writeCardPage(ctx, c, scope, viewer, cardPage{videoIDs: ranked.VideoIds, recommended: true})
		if err != nil {
			g.reply(ctx, c, resp, err)
		}
		if served || err != nil {
			return
		}
	}
	if err == nil && len(ranked.VideoIds) > 0 {
		err = g.fillRecommended(ctx, scope, viewer, ranked, resp)
	}
	g.reply(ctx, c, resp, err)
}

// fillRecommended assembles the ready videos of ranked as viewer sees them into resp. The
// authors' work counts come with the records (a video service older than with_work_counts
// leaves them unset, and the authors' own calls ask); with the ranking's authors the records
// are read alongside the rest, from a recommend service older than author_ids first.
func (g *Gateway) fillRecommended(ctx context.Context, scope pageScope, viewer int64, ranked *recommendapi.RecommendResponse, resp *api.FeedResponse) error {
	var records []*videoapi.VideoRecord
	read := func() recordsRead {
		found, err := g.deps.Videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: ranked.VideoIds, WithWorkCounts: true, ViewerId: viewer})
		if err != nil {
			return recordsRead{err: wrap("get videos", err)}
		}
		records = recordsInOrder(found, ranked.VideoIds)
		return recordsRead{records: records, works: found.WorkCounts, haveWorks: found.IsSetWorkCounts()}
	}
	var videos []*base.Video
	var err error
	if len(ranked.AuthorIds) == len(ranked.VideoIds) {
		videos, err = g.assembleVideos(ctx, scope, viewer, ranked.VideoIds, ranked.AuthorIds, userParts{haveWorks: true}, nil, read)
	} else {
		got := read()
		if got.err != nil {
			return got.err
		}
		videos, err = g.videosWith(ctx, scope, viewer, got.records, userParts{works: got.works, haveWorks: got.haveWorks})
	}
	if err != nil {
		return err
	}
	for _, r := range records {
		if resp.NextTime == 0 || r.CreatedAt < resp.NextTime {
			resp.NextTime = r.CreatedAt
		}
	}
	resp.VideoList = withoutOwnOrLiked(videos, viewer)
	return nil
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
		var author int64 // none (0) is never the viewer
		if v.Author != nil {
			author = v.Author.ID
		}
		return notRecommended(viewer, author, v.IsFavorite)
	})
}

// notRecommended reports whether a video by author, liked or not by viewer, stays off viewer's
// recommended page: their own videos and those they like.
func notRecommended(viewer, author int64, liked bool) bool {
	return liked || author == viewer
}
