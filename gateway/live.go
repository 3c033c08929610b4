package gateway

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/json"
	"github.com/hertz-contrib/websocket"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/live"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// LivePath is the WebSocket of a video's live comments (弹幕).
const LivePath = "/douyin/comment/live/"

const (
	// defaultLiveSendBuffer and defaultLivePing apply when the settings are 0.
	defaultLiveSendBuffer = 64
	defaultLivePing       = 30 * time.Second
	// liveWriteWait bounds one push, ping or close frame to a watcher.
	liveWriteWait = 10 * time.Second
	// liveReadLimit: watchers only answer pings and close; anything larger is abuse.
	liveReadLimit = 1 << 10
	// livePublishWait bounds publishing a posted comment; the post is acknowledged anyway.
	livePublishWait = time.Second
)

// liveComments serves the live-comment WebSockets of this gateway.
type liveComments struct {
	hub      *live.Hub
	fanout   live.Fanout
	ping     time.Duration
	upgrader websocket.HertzUpgrader
}

func (g *Gateway) newLiveComments() *liveComments {
	buffer, ping := g.cfg.LiveSendBuffer, g.cfg.LivePingInterval
	if buffer == 0 {
		buffer = defaultLiveSendBuffer
	}
	if ping == 0 {
		ping = defaultLivePing
	}
	fanout := g.deps.Live
	if fanout == nil {
		fanout = live.NewLocal()
	}
	l := &liveComments{
		hub:    live.NewHub(live.Limits{SendBuffer: buffer, PerUser: g.cfg.LivePerUser, PerIP: g.cfg.LivePerIP}, g.deps.LiveMetrics),
		fanout: fanout, ping: ping,
	}
	l.upgrader = websocket.HertzUpgrader{
		HandshakeTimeout: liveWriteWait,
		// Watching needs no credentials beyond the token in the query (never a cookie), so any
		// origin the API admits may watch, besides the page's own.
		CheckOrigin: func(c *app.RequestContext) bool {
			origin := string(c.Request.Header.Peek("Origin"))
			return origin == "" || g.cors.allows(origin) || sameOrigin(origin, string(c.Host()))
		},
		Error: func(c *app.RequestContext, status int, reason error) {
			c.JSON(status, &liveRefusal{StatusCode: int32(basecode.ErrCode_InvalidParam), StatusMsg: reason.Error()})
		},
	}
	return l
}

// sameOrigin reports whether origin (scheme://host[:port]) names host.
func sameOrigin(origin, host string) bool {
	for _, scheme := range []string{"http://", "https://"} {
		if origin == scheme+host {
			return true
		}
	}
	return false
}

// runLive delivers the comments of every gateway to this one's watchers until ctx ends,
// resubscribing after a failure (Redis down) so the edge keeps serving the rest meanwhile.
func (g *Gateway) runLive(ctx context.Context) {
	for {
		err := g.live.fanout.Run(ctx, g.live.hub.Deliver)
		if ctx.Err() != nil {
			return
		}
		g.deps.Logger.Warn("live comments fan-out stopped, retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// liveRefusal is the JSON envelope of a refused WebSocket handshake.
type liveRefusal struct {
	StatusCode int32  `json:"status_code"`
	StatusMsg  string `json:"status_msg"`
}

func (r *liveRefusal) SetStatusCode(code int32) { r.StatusCode = code }
func (r *liveRefusal) SetStatusMsg(msg string)  { r.StatusMsg = msg }

// liveWatch upgrades GET /douyin/comment/live/?video_id=…[&token=…] to a WebSocket that
// receives every comment posted on the video afterwards, as the comment list's JSON.
// A bad token, a video id that is not a ready video, or a viewer over the connection limits is
// refused before the upgrade with the JSON envelope.
func (g *Gateway) liveWatch(ctx context.Context, c *app.RequestContext) {
	watcher, err := g.joinLive(ctx, c)
	if err != nil {
		g.reply(ctx, c, &liveRefusal{}, err)
		return
	}
	// The socket is served after this handler, once Hertz has sent the 101; if that never
	// happens (the client went away first), the watcher is let go instead of holding its slot.
	abandoned := time.AfterFunc(liveWriteWait, func() { g.live.hub.Leave(watcher) })
	err = g.live.upgrader.Upgrade(c, func(conn *websocket.Conn) {
		if !abandoned.Stop() {
			_ = conn.Close()
			return
		}
		g.live.serve(conn, watcher)
	})
	if err != nil {
		abandoned.Stop()
		g.live.hub.Leave(watcher) // the upgrader answered with the envelope
	}
}

func (g *Gateway) joinLive(ctx context.Context, c *app.RequestContext) (*live.Watcher, error) {
	videoID, err := strconv.ParseInt(c.Query("video_id"), 10, 64)
	if err != nil || videoID <= 0 {
		return nil, errs.NotPositive("video_id")
	}
	viewer, err := g.viewer(ctx, c, c.Query("token"), false)
	if err != nil {
		return nil, err
	}
	// Only videos the feed can show (ready ones) are watched: an unknown id is refused.
	found, err := g.deps.Videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: []int64{videoID}})
	if err != nil {
		return nil, wrap("get video", err)
	}
	if _, ok := found.Videos[videoID]; !ok {
		return nil, errs.New(basecode.ErrCode_VideoNotFound, "video not found")
	}
	w, err := g.live.hub.Join(videoID, viewer, g.clientIP(c))
	switch {
	case errors.Is(err, live.ErrTooManyConnections):
		return nil, errs.New(basecode.ErrCode_RateLimited, "too many live comment connections, close another one first")
	case errors.Is(err, live.ErrClosed):
		return nil, errs.New(basecode.ErrCode_Unavailable, "the server is shutting down, please reconnect")
	}
	return w, err
}

// serve pushes the watcher's comments and pings until it leaves, is dropped, or the gateway
// shuts down; a watcher that answers no ping for two intervals is gone.
func (l *liveComments) serve(conn *websocket.Conn, w *live.Watcher) {
	defer conn.Close()
	defer l.hub.Leave(w)
	conn.SetReadLimit(liveReadLimit)
	alive := func(string) error { return conn.SetReadDeadline(time.Now().Add(2 * l.ping)) }
	_ = alive("")
	conn.SetPongHandler(alive)
	readerGone := make(chan struct{})
	go func() {
		defer close(readerGone)
		for {
			// Watchers send nothing but control frames, handled inside NextReader.
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	written := make(chan struct{})
	defer close(written)
	go func() {
		// A watcher dropped as too slow is most likely stuck in a write to a full socket:
		// closing the connection frees its goroutine now rather than after the write timeout.
		select {
		case <-w.Done():
			if w.End() == live.EndTooSlow {
				_ = conn.Close()
			}
		case <-written:
		}
	}()
	ticker := time.NewTicker(l.ping)
	defer ticker.Stop()
	for {
		select {
		case msg := <-w.Messages():
			_ = conn.SetWriteDeadline(time.Now().Add(liveWriteWait))
			if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ticker.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(liveWriteWait)); err != nil {
				return
			}
		case <-readerGone:
			return
		case <-w.Done():
			if w.End() == live.EndShutdown {
				msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down, please reconnect")
				_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(liveWriteWait))
			}
			return
		}
	}
}

// publishLive sends a comment just acknowledged to the video's watchers on every gateway.
// A failure is logged, not returned: the comment is stored and listed either way.
func (g *Gateway) publishLive(ctx context.Context, videoID int64, comment *base.Comment) {
	body, err := json.Marshal(comment)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), livePublishWait)
		defer cancel()
		err = g.live.fanout.Publish(ctx, videoID, body)
	}
	if err != nil {
		g.deps.Logger.WarnContext(ctx, "live comment not pushed", "video_id", videoID, "err", err)
	}
}
