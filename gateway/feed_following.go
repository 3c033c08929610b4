package gateway

import (
	"context"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/errs"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// maxCursorMillis is the last millisecond of the year 9999: a later latest_time is a client
// bug, answered as such rather than read as "now".
const maxCursorMillis = 253_402_300_799_999

// personalCursor is feedCursor for the feeds that are new in this API: they answer a
// negative or absurdly late latest_time with an error instead of the first page.
func personalCursor(latest *int64) (int64, error) {
	if latest == nil {
		return 0, nil
	}
	if *latest < 0 {
		return 0, errs.Invalid("latest_time must not be negative")
	}
	cursor := feedCursor(*latest)
	if cursor > maxCursorMillis {
		return 0, errs.Invalid("latest_time must be a time in milliseconds (or seconds) before the year 10000")
	}
	return cursor, nil
}

// followingFeed is /douyin/feed/following/: the feed of the authors the viewer follows, paged
// like /douyin/feed/. Three round trips whatever the number of followed authors: their ids
// from the relation service, the page from one merged index query in the video service, then
// the usual page assembly (pull on read: publishing costs nothing per follower).
func (g *Gateway) followingFeed(ctx context.Context, c *app.RequestContext) {
	resp := &api.FeedResponse{VideoList: []*base.Video{}}
	var req api.FeedRequest
	err := g.binder.bind(c, &req)
	var viewer, cursor int64
	if err == nil {
		viewer, err = g.viewer(ctx, c, orEmpty(req.Token), true)
	}
	if err == nil {
		cursor, err = personalCursor(req.LatestTime)
	}
	var followees *relationapi.FolloweeIDsResponse
	if err == nil {
		followees, err = g.deps.Relations.FolloweeIDs(ctx, &relationapi.FolloweeIDsRequest{UserId: viewer})
		err = wrap("followees", err)
	}
	if err == nil && len(followees.UserIds) > 0 {
		var page *videoapi.FeedResponse
		page, err = g.deps.Videos.FollowingFeed(ctx, &videoapi.FollowingFeedRequest{
			AuthorIds: followees.UserIds, LatestTime: cursor, Limit: feedPageSize,
		})
		if err == nil {
			resp.VideoList, err = g.videos(ctx, g.scopeOf(c), viewer, page.Videos)
			resp.NextTime = page.NextTime
		} else {
			err = wrap("following feed", err)
		}
	}
	g.reply(ctx, c, resp, err)
}
