// Package gateway is the Hertz HTTP edge of the app's /douyin/ API: it binds and validates
// requests, authenticates tokens, calls the services, assembles the app's objects in
// batches, maps errors in one table, and in the embedded mode serves the stored media.
package gateway

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/blob"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	relationapi "github.com/douyin-backend/douyin/kitex_gen/relation"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// Config holds the edge settings.
type Config struct {
	Addr           string
	PublicBaseURL  string
	MaxUploadBytes int64
	// UploadTempDir holds uploads while they are checked; empty: the system temporary directory.
	UploadTempDir string
	// FFprobePath checks that an upload holds a video stream; empty: magic bytes only.
	FFprobePath   string
	TimeZone      string
	ShutdownGrace time.Duration
	// Rate limits: sign-ups and logins per client IP, writes per user (0 disables).
	AuthPerMinute     float64
	WritesPerMinute   float64
	TrustForwardedFor bool
	// AnonymousFeedTTL is how long the anonymous first feed page is served from memory.
	AnonymousFeedTTL time.Duration
}

// RegisterFlags registers the edge settings.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "http.addr", ":8080", "HTTP listen address of the gateway")
	fs.StringVar(&c.PublicBaseURL, "http.public-base-url", "", "base URL the app reaches this server at (e.g. http://192.168.1.7:8080), used to build absolute media and avatar URLs; empty: the scheme and Host of each request")
	fs.Int64Var(&c.MaxUploadBytes, "http.max-upload-bytes", 100<<20, "largest accepted video upload in bytes")
	fs.StringVar(&c.UploadTempDir, "http.upload-temp-dir", "", "directory uploads are spooled to while they are checked (empty: the system temporary directory)")
	fs.StringVar(&c.FFprobePath, "http.ffprobe", "ffprobe", "ffprobe to run, a name looked up on PATH at start or a path; it rejects uploads without a video stream (empty or not found: magic bytes only)")
	fs.StringVar(&c.TimeZone, "http.time-zone", "Asia/Shanghai", "time zone of comment dates (mm-dd)")
	fs.DurationVar(&c.ShutdownGrace, "http.shutdown-grace", 10*time.Second, "how long in-flight requests may finish on shutdown")
	fs.Float64Var(&c.AuthPerMinute, "http.auth-rate-per-minute", 30, "registrations and logins allowed per client IP per minute, in bursts of up to 10 (0: unlimited)")
	fs.Float64Var(&c.WritesPerMinute, "http.write-rate-per-minute", 1200, "likes, comments, follows, messages and uploads allowed per user per minute, in bursts of up to 100 (0: unlimited)")
	fs.DurationVar(&c.AnonymousFeedTTL, "http.anonymous-feed-ttl", time.Second, "how long the first feed page of anonymous viewers (the same for all of them) is served from memory; its counts lag by up to this (0: build it for every request)")
	fs.BoolVar(&c.TrustForwardedFor, "http.trust-forwarded-for", false, "take the client IP from X-Forwarded-For (only behind a proxy that sets it, e.g. the Istio ingress)")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.MaxUploadBytes < 1<<10 {
		return fmt.Errorf("http.max-upload-bytes must be at least 1024")
	}
	if c.AuthPerMinute < 0 || c.WritesPerMinute < 0 {
		return fmt.Errorf("rate limits must not be negative")
	}
	if c.AnonymousFeedTTL < 0 || c.AnonymousFeedTTL > time.Minute {
		return fmt.Errorf("http.anonymous-feed-ttl must be between 0 and 1m")
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return fmt.Errorf("http.time-zone: %w", err)
	}
	return nil
}

// Deps are the services and stores the edge calls. In one process they are the services
// themselves; in many they are Kitex clients behind the same interfaces.
type Deps struct {
	Users     userapi.UserService
	Videos    videoapi.VideoService
	Favorites favoriteapi.FavoriteService
	Comments  commentapi.CommentService
	Relations relationapi.RelationService
	Messages  messageapi.MessageService
	Blobs     blob.Store
	// LocalMediaDir, when set, is served under blob.MediaPathPrefix (the embedded blob store).
	LocalMediaDir string
	Tokens        *auth.Tokens
	// Moderator checks comments, chat messages, video titles and user names (nil: no list).
	Moderator Moderator
	// Ready reports whether the dependencies answer; it backs /readyz.
	Ready  func(context.Context) error
	Logger *slog.Logger
	// Metrics records every request by route (nil: not measured).
	Metrics interface {
		ObserveHTTP(route, method string, code int, took time.Duration)
	}
}

// Gateway is the HTTP edge.
type Gateway struct {
	cfg      Config
	deps     Deps
	location *time.Location
	binder   binder
	images   staticImages
	server   *server.Hertz
	// authLimit is keyed by client IP, writeLimit by user id.
	authLimit, writeLimit *limiter
	// firstPages caches the anonymous first feed page (nil: disabled).
	firstPages *pageCache
}

// New builds the edge and its routes; Run serves them.
func New(cfg Config, deps Deps) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, _ := time.LoadLocation(cfg.TimeZone)
	if cfg.FFprobePath != "" {
		if p, err := exec.LookPath(cfg.FFprobePath); err == nil {
			cfg.FFprobePath = p
		} else {
			cfg.FFprobePath = "" // not installed: uploads are checked by their magic bytes only
		}
	}
	images, err := newStaticImages()
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg: cfg, deps: deps, location: loc, images: images,
		authLimit:  newLimiter(cfg.AuthPerMinute, 10),
		writeLimit: newLimiter(cfg.WritesPerMinute, 100),
		firstPages: newPageCache(cfg.AnonymousFeedTTL),
	}
	g.server = server.New(
		server.WithHostPorts(cfg.Addr),
		// Bodies are streamed so an upload goes to disk, never whole into memory. Hertz then
		// buffers bodies up to the max size and streams larger ones, bypassing the limit: the
		// publish handler enforces the upload limit, limitBodies the limit of other requests.
		// Multipart forms are not pre-parsed, so the publish handler reads the stream itself.
		server.WithStreamBody(true),
		server.WithDisablePreParseMultipartForm(true),
		server.WithMaxRequestBodySize(maxSmallBodyBytes),
		server.WithRedirectTrailingSlash(false),
		server.WithRedirectFixedPath(false),
		server.WithHandleMethodNotAllowed(true),
		server.WithExitWaitTime(cfg.ShutdownGrace),
		server.WithDisablePrintRoute(true),
		server.WithReadTimeout(5*time.Minute),
	)
	g.routes()
	return g, nil
}

// Run serves until ctx is cancelled, then drains in-flight requests.
func (g *Gateway) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- g.server.Run() }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownGrace)
	defer cancel()
	if err := g.server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// routes is the route table. Every path answers with and without its trailing slash, never
// with a redirect (a 307 on a POST with a body is not followed by common clients).
func (g *Gateway) routes() {
	h := g.server
	h.Use(g.recoverPanics, g.accessLog, g.limitBodies)
	api := map[string]struct {
		method  string
		handler app.HandlerFunc
	}{
		"/douyin/feed/":                   {"GET", g.feed},
		"/douyin/user/register/":          {"POST", g.register},
		"/douyin/user/login/":             {"POST", g.login},
		"/douyin/user/":                   {"GET", g.userInfo},
		"/douyin/publish/action/":         {"POST", g.publish},
		"/douyin/publish/list/":           {"GET", g.publishList},
		"/douyin/favorite/action/":        {"POST", g.favoriteAction},
		"/douyin/favorite/list/":          {"GET", g.favoriteList},
		"/douyin/comment/action/":         {"POST", g.commentAction},
		"/douyin/comment/list/":           {"GET", g.commentList},
		"/douyin/relation/action/":        {"POST", g.relationAction},
		"/douyin/relation/follow/list/":   {"GET", g.followList},
		"/douyin/relation/follower/list/": {"GET", g.followerList},
		"/douyin/relation/friend/list/":   {"GET", g.friendList},
		"/douyin/message/action/":         {"POST", g.messageAction},
		"/douyin/message/chat/":           {"GET", g.messageChat},
	}
	for path, r := range api {
		for _, p := range []string{path, path[:len(path)-1]} {
			h.Handle(r.method, p, r.handler)
			// Some clients send the app's POST calls as GET with the same query and vice versa;
			// both carry their parameters in the query, so both methods are served.
			if r.method == "GET" {
				h.Handle("POST", p, r.handler)
			}
		}
	}
	// Unknown paths and methods keep the JSON envelope too.
	h.NoRoute(func(_ context.Context, c *app.RequestContext) {
		c.JSON(http.StatusNotFound, map[string]any{"status_code": int32(basecode.ErrCode_InvalidParam), "status_msg": "no such endpoint"})
	})
	h.NoMethod(func(_ context.Context, c *app.RequestContext) {
		c.JSON(http.StatusMethodNotAllowed, map[string]any{"status_code": int32(basecode.ErrCode_InvalidParam), "status_msg": "method not allowed on this endpoint"})
	})
	h.GET("/healthz", g.healthz)
	h.GET("/readyz", g.readyz)
	h.GET(avatarPath, g.images.serveAvatar)
	h.GET(backgroundPath, g.images.serveBackground)
	h.GET(processingCoverPath, g.images.serveProcessingCover)
	h.GET(failedCoverPath, g.images.serveFailedCover)
	if g.deps.LocalMediaDir != "" {
		g.serveLocalMedia(g.deps.LocalMediaDir)
	}
}

// maxSmallBodyBytes is the largest body of any request but a publish: the API's forms and
// JSON bodies are a few hundred bytes.
const maxSmallBodyBytes = 1 << 20

// limitBodies reads the body of every request but a publish into memory, refusing one over
// maxSmallBodyBytes with 413: with streamed bodies Hertz no longer enforces a limit, and the
// binder would read any stream whole.
func (g *Gateway) limitBodies(ctx context.Context, c *app.RequestContext) {
	path := string(c.Request.URI().Path())
	if strings.HasPrefix(path, "/douyin/publish/action") {
		c.Next(ctx)
		return
	}
	if c.Request.IsBodyStream() {
		body, err := io.ReadAll(io.LimitReader(c.RequestBodyStream(), maxSmallBodyBytes+1))
		if err != nil || len(body) > maxSmallBodyBytes {
			c.SetConnectionClose()
			c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, map[string]any{
				"status_code": int32(basecode.ErrCode_PayloadTooLarge), "status_msg": "the request body is too large"})
			return
		}
		c.Request.SetBody(body)
	}
	c.Next(ctx)
}
