package gateway

import (
	"context"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// feedPageSize is the contract's page: at most 30 videos.
const feedPageSize = 30

// secondsBelow separates latest_time in seconds (the documented unit) from milliseconds (what
// the app sends): 1e11 seconds is the year 5138, 1e11 ms is 1973.
const secondsBelow = 100_000_000_000

// feedCursor turns the app's latest_time into milliseconds; 0 means now.
func feedCursor(latest int64) int64 {
	switch {
	case latest <= 0:
		return 0
	case latest < secondsBelow:
		return latest * int64(time.Second/time.Millisecond)
	default:
		return latest
	}
}

func (g *Gateway) feed(ctx context.Context, c *app.RequestContext) {
	resp := &api.FeedResponse{VideoList: []*base.Video{}}
	g.reply(ctx, c, resp, g.doFeed(ctx, c, resp))
}

func (g *Gateway) doFeed(ctx context.Context, c *app.RequestContext, resp *api.FeedResponse) error {
	var req api.FeedRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	viewer, err := g.viewer(c, orEmpty(req.Token), false)
	if err != nil {
		return err
	}
	page, err := g.deps.Videos.Feed(ctx, &videoapi.FeedRequest{LatestTime: feedCursor(orZero(req.LatestTime)), Limit: feedPageSize})
	if err != nil {
		return wrap("feed", err)
	}
	videos, err := g.videos(ctx, c, viewer, page.Videos)
	if err != nil {
		return err
	}
	resp.VideoList, resp.NextTime = videos, page.NextTime
	return nil
}
