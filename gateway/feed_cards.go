package gateway

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/cloudwego/hertz/pkg/app"
	hertzjson "github.com/cloudwego/hertz/pkg/common/json"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/mq"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// cardFeed answers viewer's feed page before cursor (0: the first page, whose videos are
// the cached anonymous page's) from the card cache, with the bytes the full assembly would
// write. It serves nothing (false, nil) where the full assembly must: a video it cannot card.
func (g *Gateway) cardFeed(ctx context.Context, c *app.RequestContext, scope pageScope, viewer, cursor int64) (bool, error) {
	var page cardPage
	if cursor == 0 && g.firstPages != nil {
		first, err := g.anonymousFirstPage(ctx, c, scope)
		if err != nil {
			return false, nil // logged; the full assembly answers with its own error
		}
		page = cardPage{videoIDs: first.videos, authorIDs: first.users, nextTime: first.nextTime}
	} else {
		ids, next, err := g.inProcess.feedIDs.FeedIDs(ctx, cursor, feedPageSize)
		if err != nil {
			return false, wrap("feed", err)
		}
		page = cardPage{videoIDs: ids, nextTime: next} // the authors are the cards'
	}
	return g.writeCardPage(ctx, c, scope, viewer, page)
}

// feedIDLister is the video service in this process: a feed page's ids, without the records
// a page spliced from cards has no use for.
type feedIDLister interface {
	FeedIDs(ctx context.Context, latestTime int64, limit int32) (ids []int64, nextTime int64, err error)
}

// cardPage is a page of videos to answer from the card cache.
type cardPage struct {
	videoIDs []int64
	// authorIDs are the videos' authors (nil: read from the cards).
	authorIDs []int64
	nextTime  int64
	// recommended marks a recommended page (see withoutOwnOrLiked): the viewer's own videos,
	// those they like and those gone are left out, and next_time is the oldest publish time of
	// its videos, the own and liked ones included.
	recommended bool
}

// writeCardPage writes page as viewer (0: anonymous) sees it, spliced from the card cache,
// with the bytes the full assembly would write. It serves nothing (false, nil) where the full
// assembly must: a video it cannot card.
func (g *Gateway) writeCardPage(ctx context.Context, c *app.RequestContext, scope pageScope, viewer int64, page cardPage) (bool, error) {
	cards := make([]*card, len(page.videoIDs))
	g.cards.lookup(scope.urlBase, page.videoIDs, cards)
	if slices.Contains(cards, nil) {
		// A recommended video gone since it was ranked is left out, as the full assembly does.
		if ok, err := g.fillCards(ctx, scope, page.videoIDs, cards, page.recommended); !ok || err != nil {
			return false, err
		}
	}
	_ = touch(cards)
	videoIDs, authorIDs, nextTime := page.videoIDs, page.authorIDs, page.nextTime
	if page.recommended {
		cards = slices.DeleteFunc(cards, func(cd *card) bool { return cd == nil })
		videoIDs, authorIDs = make([]int64, len(cards)), nil
		for i, cd := range cards {
			videoIDs[i] = cd.video
		}
		nextTime = oldestCard(cards)
	}
	if authorIDs == nil && viewer > 0 { // an anonymous page needs no authors
		authorIDs = make([]int64, len(cards))
		for i, cd := range cards {
			authorIDs[i] = cd.author
		}
	}
	// The viewer's own videos show their own work count (unready videos too): assembled for them.
	var own [][]byte
	if viewer > 0 && !page.recommended && slices.Contains(authorIDs, viewer) {
		var ok bool
		var err error
		if own, ok, err = g.ownVideos(ctx, scope, viewer, videoIDs, authorIDs); !ok || err != nil {
			return false, err
		}
	}
	liked, follows := g.viewerFlags(ctx, scope, viewer, videoIDs, authorIDs)
	size := len(g.feedHead) + len(`],"next_time":}`) + 20
	for _, cd := range cards {
		size += len(cd.body) + len(",true") // an own video is about its card's size
	}
	body := c.Response.BodyBuffer()
	b := append(slices.Grow(body.B[:0], size), g.feedHead...)
	listed := 0
	for i, cd := range cards {
		if page.recommended && notRecommended(viewer, cd.author, liked[i]) {
			continue
		}
		if listed > 0 {
			b = append(b, ',')
		}
		listed++
		if own != nil && own[i] != nil {
			b = append(b, own[i]...)
			continue
		}
		b = appendCard(b, cd, follows[i], liked[i])
	}
	b = append(b, `],"next_time":`...)
	b = strconv.AppendInt(b, nextTime, 10)
	body.B = append(b, '}')
	c.Response.Header.SetContentType(consts.MIMEApplicationJSONUTF8)
	c.SetStatusCode(http.StatusOK)
	return true, nil
}

// viewerFlags reads whether viewer likes each video, then whether they follow each video's
// author, both aligned with videoIDs: optional parts, false when they fail, and not read for
// the anonymous viewer (whose flags are all false) or an empty page.
func (g *Gateway) viewerFlags(ctx context.Context, scope pageScope, viewer int64, videoIDs, authorIDs []int64) ([]bool, []bool) {
	flags := make([]bool, 2*len(videoIDs))
	liked, follows := flags[:len(videoIDs)], flags[len(videoIDs):]
	if viewer == 0 || len(videoIDs) == 0 {
		return liked, follows
	}
	g.fetch(func() {
		g.optional(ctx, scope, partVideoLikes, func() error { return g.inProcess.likes.LikedAmong(ctx, viewer, videoIDs, liked) })
	}, func() {
		g.optional(ctx, scope, partRelations, func() error {
			return g.inProcess.follows.FollowingAmong(ctx, viewer, authorIDs, follows)
		})
	})
	return liked, follows
}

// likesAmong is the favorite service in this process (favorite.Service): the viewer's likes
// alone, without the counters and response of MGetVideoFavorites. On an error every flag is
// false.
type likesAmong interface {
	LikedAmong(ctx context.Context, viewerID int64, videoIDs []int64, liked []bool) error
}

// followsAmong is the relation service in this process (relation.Service): the viewer's
// follows alone, without the counters and response of MGetRelations. On an error every flag
// is false.
type followsAmong interface {
	FollowingAmong(ctx context.Context, viewerID int64, userIDs []int64, following []bool) error
}

// oldestCard is the oldest publish time of cards, 0 when there is none.
func oldestCard(cards []*card) int64 {
	var oldest int64
	for _, cd := range cards {
		if oldest == 0 || cd.createdAt < oldest {
			oldest = cd.createdAt
		}
	}
	return oldest
}

// ownVideos encodes the page's videos by viewer, assembled for viewer, at their positions
// (nil elsewhere). False: one of them is gone.
func (g *Gateway) ownVideos(ctx context.Context, scope pageScope, viewer int64, videoIDs, authorIDs []int64) ([][]byte, bool, error) {
	var ids []int64
	for i, id := range videoIDs {
		if authorIDs[i] == viewer {
			ids = append(ids, id)
		}
	}
	found, err := g.deps.Videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: ids})
	if err != nil {
		return nil, false, wrap("get videos", err)
	}
	mine := make([]*videoapi.VideoRecord, 0, len(ids))
	for _, id := range ids {
		r, ok := found.Videos[id]
		if !ok {
			return nil, false, nil
		}
		mine = append(mine, r)
	}
	videos, err := g.videos(ctx, scope, viewer, mine)
	if err != nil || len(videos) != len(mine) {
		return nil, false, err
	}
	buf := g.jsonBufs.Get().(*[]byte)
	defer g.jsonBufs.Put(buf)
	out := make([][]byte, len(videoIDs))
	next := 0
	for i := range videoIDs {
		if authorIDs[i] == viewer {
			if out[i], err = appendJSON(nil, buf, videos[next]); err != nil {
				return nil, false, err
			}
			next++
		}
	}
	return out, true, nil
}

// fillCards builds the cards missing from cards (nil) for the videos of videoIDs and keeps
// them unless an optional part failed. False: a video has no card (gone, or its author is);
// with skipGone, a video that is gone is no reason: its card stays nil.
func (g *Gateway) fillCards(ctx context.Context, scope pageScope, videoIDs []int64, cards []*card, skipGone bool) (bool, error) {
	built := g.cards.begin() // before anything the cards show is read
	var ids []int64
	for i, id := range videoIDs {
		if cards[i] == nil {
			ids = append(ids, id)
		}
	}
	found, err := g.deps.Videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: ids, WithWorkCounts: true})
	if err != nil {
		return false, wrap("get videos", err)
	}
	// wanted are the records to card, at their positions at.
	wanted := make([]*videoapi.VideoRecord, 0, len(ids))
	at := make([]int, 0, len(ids))
	for i, id := range videoIDs {
		if cards[i] != nil {
			continue
		}
		r, ok := found.Videos[id]
		if !ok {
			if skipGone {
				continue
			}
			return false, nil
		}
		wanted, at = append(wanted, r), append(at, i)
	}
	// A video service older than with_work_counts leaves them unset: the authors' own calls ask.
	authors := userParts{works: found.WorkCounts, haveWorks: found.IsSetWorkCounts()}
	scope.degraded = new(atomic.Bool)
	videos, err := g.videosWith(ctx, scope, 0, wanted, authors)
	if err != nil {
		return false, err
	}
	if len(videos) != len(wanted) {
		return false, nil
	}
	fresh := make([]*card, len(videos))
	buf := g.jsonBufs.Get().(*[]byte)
	defer g.jsonBufs.Put(buf)
	for i, v := range videos {
		if fresh[i], err = encodeCard(v, wanted[i].CreatedAt, scope.urlBase, built, buf); err != nil {
			return false, err
		}
	}
	if !scope.degraded.Load() {
		g.cards.keep(fresh)
	}
	for k, i := range at {
		cards[i] = fresh[k]
	}
	return true, nil
}

// feedHeadOf is how every successful feed page starts, up to its first video: the envelope
// as jsonBody encodes it.
func feedHeadOf() ([]byte, error) {
	resp := &api.FeedResponse{StatusCode: int32(basecode.ErrCode_Success), StatusMsg: outcomeOf(basecode.ErrCode_Success).message, VideoList: []*base.Video{}}
	buf, err := appendJSON(nil, new([]byte), resp)
	if err != nil {
		return nil, err
	}
	list := []byte(`"video_list":[`)
	at := bytes.Index(buf, list)
	if at < 0 {
		return nil, fmt.Errorf("feed page encodes without %s", list)
	}
	return buf[:at+len(list)], nil
}

// useCards turns the card cache on (Deps.WritesHere).
func (g *Gateway) useCards() error {
	if g.deps.Events == nil {
		return fmt.Errorf("gateway: Deps.WritesHere needs Deps.Events")
	}
	// Card pages read what only the services in this process answer: a page's ids and the
	// viewer's flags without the records and counters the RPCs carry.
	feedIDs, videosHere := g.deps.Videos.(feedIDLister)
	likes, favoritesHere := g.deps.Favorites.(likesAmong)
	follows, relationsHere := g.deps.Relations.(followsAmong)
	if !videosHere || !favoritesHere || !relationsHere {
		return fmt.Errorf("gateway: Deps.WritesHere needs the video, favorite and relation services in this process (FeedIDs, LikedAmong, FollowingAmong)")
	}
	g.inProcess.feedIDs, g.inProcess.likes, g.inProcess.follows = feedIDs, likes, follows
	head, err := feedHeadOf()
	if err != nil {
		return err
	}
	g.cards, g.feedHead = newCardCache(cmp.Or(g.cfg.CardCacheEntries, defaultCardCacheEntries)), head
	return g.deps.Events.Subscribe(mq.TopicActivity, cardsConsumerGroup, g.onActivity)
}

// cardsConsumerGroup reads the activity events for the card cache.
const cardsConsumerGroup = "gateway-cards"

// onActivity marks a video's author written when the video turns ready (its work count
// moved), and drops the first pages (the video may belong on them). The other events report
// writes this gateway made and marked itself.
func (g *Gateway) onActivity(ctx context.Context, body []byte) error {
	var e event.ActivityEvent
	if err := hertzjson.Unmarshal(body, &e); err != nil {
		g.deps.Logger.WarnContext(ctx, "undecodable activity event: every card dropped", "err", err)
		g.cards.wroteAny()
		return nil // the event's own consumers decide about it
	}
	if e.Kind == event.ActivityVideoReady {
		g.cards.wrote(0, false, e.AuthorId)
		g.firstPages.forgetAll()
	}
	return nil
}

// Sizes reports the page and card caches against their bounds.
func (g *Gateway) Sizes() []cache.Size {
	var sizes []cache.Size
	if g.firstPages != nil {
		sizes = append(sizes, g.firstPages.Sizes()...)
	}
	if g.cards != nil {
		sizes = append(sizes, g.cards.Sizes()...)
	}
	return sizes
}

// wrote drops what a committed write through this gateway made stale: cached first pages and
// cards showing the video or the users; with authorToo, the video's author's too (a like moves
// their total_favorited).
func (g *Gateway) wrote(ctx context.Context, videoID int64, authorToo bool, userIDs ...int64) {
	g.firstPages.forget(videoID, userIDs...)
	if g.cards == nil || g.cards.wrote(videoID, authorToo, userIDs...) {
		return
	}
	// The author of a video never carded here: look it up, or, failing that, drop every card.
	found, err := g.deps.Videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: []int64{videoID}})
	if err == nil && found.Videos[videoID] != nil {
		g.cards.wrote(0, false, found.Videos[videoID].AuthorId)
		return
	}
	g.cards.wroteAny()
}
