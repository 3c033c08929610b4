package gateway

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	hertzjson "github.com/cloudwego/hertz/pkg/common/json"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

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

// Feed serves api.FeedPath.
func (g *Gateway) Feed(ctx context.Context, c *app.RequestContext) {
	resp := &api.FeedResponse{VideoList: []*base.Video{}}
	var req api.FeedRequest
	err := g.binder.bind(c, &req)
	var viewer int64
	if err == nil {
		viewer, err = g.viewer(ctx, c, orEmpty(req.Token), false)
	}
	cursor := feedCursor(orZero(req.LatestTime))
	scope := g.scopeOf(c)
	if err == nil && viewer == 0 && cursor == 0 && g.firstPages != nil {
		if page, err := g.anonymousFirstPage(ctx, c, scope); err == nil {
			// Shared and never changed once built: sent as it is, without a copy.
			c.Response.Header.SetContentType(consts.MIMEApplicationJSONUTF8)
			c.Response.SetBodyRaw(page.body)
			c.SetStatusCode(http.StatusOK)
			return
		}
		// The build failed and was logged: answer this request on its own.
	}
	// Pages past the anonymous first one are spliced from cards when there are cards.
	if err == nil && g.cards != nil && (viewer > 0 || cursor != 0) {
		served, err := g.cardFeed(ctx, c, scope, viewer, cursor)
		if err != nil {
			g.reply(ctx, c, resp, err)
		}
		if served || err != nil {
			return
		}
	}
	if err == nil {
		err = g.fillFeed(ctx, scope, viewer, cursor, resp)
	}
	g.reply(ctx, c, resp, err)
}

// anonymousFirstPage is the encoded first page as anonymous viewers see it, from the page
// cache. It is built without the first caller's cancellation: other callers wait for it too.
func (g *Gateway) anonymousFirstPage(ctx context.Context, c *app.RequestContext, scope pageScope) (builtPage, error) {
	return g.firstPages.get(scope.urlBase, func() (builtPage, error) {
		resp := &api.FeedResponse{VideoList: []*base.Video{}}
		scope.degraded = new(atomic.Bool)
		err := g.fillFeed(context.WithoutCancel(ctx), scope, 0, 0, resp)
		if g.settle(ctx, c, resp, err) != http.StatusOK {
			return builtPage{}, err
		}
		page := builtPage{videos: make([]int64, len(resp.VideoList)), users: make([]int64, len(resp.VideoList)),
			nextTime: resp.NextTime, partial: scope.degraded.Load()}
		for i, v := range resp.VideoList {
			page.videos[i], page.users[i] = v.ID, v.Author.ID
		}
		page.body, err = hertzjson.Marshal(resp)
		return page, err
	})
}

// fillFeed puts the page before cursor (0: now) as viewer sees it into resp.
func (g *Gateway) fillFeed(ctx context.Context, scope pageScope, viewer, cursor int64, resp *api.FeedResponse) error {
	page, err := g.deps.Videos.Feed(ctx, &videoapi.FeedRequest{LatestTime: cursor, Limit: feedPageSize, WithWorkCounts: true, ViewerId: viewer})
	if err != nil {
		return wrap("feed", err)
	}
	// A video service older than with_work_counts leaves them unset: the authors' own calls ask.
	authors := userParts{works: page.WorkCounts, haveWorks: page.IsSetWorkCounts()}
	videos, err := g.videosWith(ctx, scope, viewer, page.Videos, authors)
	if err != nil {
		return err
	}
	resp.VideoList, resp.NextTime = videos, page.NextTime
	return nil
}
