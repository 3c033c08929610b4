// Package gateway is the Hertz HTTP edge of the app's /douyin/ API: it binds and validates
// requests, authenticates tokens, calls the services, assembles the app's objects in
// batches, maps errors in one table, and in the embedded mode serves the stored media.
//
// idl/api.thrift is the one source of the HTTP surface. scripts/gen.sh turns it into the
// request models (hz: parameter names, types, which are optional) and the route table
// (tools/cmd/apiroutes: paths, methods, and api.Handlers, which Gateway implements with one
// method per IDL method). The binder reads the models' tags; value rules use the IDL's enums
// and constants, worded by internal/errs like the services word them. That is all the
// machinery: no hz-generated router or handler layout (the handlers need the gateway's
// dependencies), and TestServedAPIMatchesTheIDL fails when what is served differs.
package gateway

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/network/standard"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/webapp"
	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/live"
	"github.com/douyin-backend/douyin/internal/mediatool"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/internal/telemetry"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
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
	// Rate limits: sign-ups and logins per client IP, writes per user, other API calls per
	// client IP (0 disables).
	AuthPerMinute   float64
	WritesPerMinute float64
	ReadsPerMinute  float64
	// LoginFreeFailures failed logins of one account from one address pass before the
	// backoff starts (0 disables it); LoginBackoffMax caps the wait.
	LoginFreeFailures int
	LoginBackoffMax   time.Duration
	// Per-user daily upload quota (0 disables each).
	UploadsPerDay     int
	UploadBytesPerDay int64
	// UploadSpoolBytes bounds the temporary space of all uploads in flight (0: unbounded).
	UploadSpoolBytes int64
	// TrustedProxies (CIDRs) may set X-Forwarded-For and X-Forwarded-Proto.
	TrustedProxies string
	// AllowedHosts are the Host values media URLs may be built from without a public base URL.
	AllowedHosts string
	// Connection limits: header (and small body) read, upload body read, keep-alive idle,
	// each write; open connections (0 disables each).
	HeaderTimeout  time.Duration
	UploadTimeout  time.Duration
	IdleTimeout    time.Duration
	WriteTimeout   time.Duration
	MaxConnections int
	// AnonymousFeedTTL is how long the anonymous first feed page is served from memory.
	AnonymousFeedTTL time.Duration
	// CardCacheEntries bounds the encoded videos a gateway keeps where every write passes
	// through its process (the embedded mode); 0: defaultCardCacheEntries.
	CardCacheEntries int
	// CORSAllowedOrigins lists the web origins that may call the API ("*": any; empty: none).
	CORSAllowedOrigins string
	// Live comments: comments queued per watcher before it is dropped as too slow, open
	// connections per user and per client IP (0: unlimited), ping interval (0 of the buffer
	// or the ping: their defaults).
	LiveSendBuffer   int
	LivePerUser      int
	LivePerIP        int
	LivePingInterval time.Duration
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
	fs.IntVar(&c.CardCacheEntries, "http.card-cache-entries", defaultCardCacheEntries, "encoded videos (about 700 bytes each) feed and recommended pages are spliced from, in the embedded mode; size it to the videos viewers page through (0: the default)")
	fs.StringVar(&c.CORSAllowedOrigins, "http.cors-allowed-origins", "*", "web origins allowed to call the API from a browser: * for any, or a comma-separated list such as https://app.example.com (empty: none; tokens never travel in cookies, so credentials mode stays off)")
	fs.Float64Var(&c.ReadsPerMinute, "http.read-rate-per-minute", 1200, "other /douyin/ calls allowed per client IP per minute, in bursts of up to 200 (0: unlimited)")
	fs.IntVar(&c.LoginFreeFailures, "http.login-free-failures", 5, "failed logins of one account from one client IP before each further attempt waits 1s, 2s, 4s … (0: no backoff)")
	fs.DurationVar(&c.LoginBackoffMax, "http.login-backoff-max", 15*time.Minute, "longest wait between failed logins of one account from one client IP")
	fs.IntVar(&c.UploadsPerDay, "http.upload-daily-count", 50, "videos one user may upload per UTC day (0: unlimited)")
	fs.Int64Var(&c.UploadBytesPerDay, "http.upload-daily-bytes", 2<<30, "bytes one user may upload per UTC day (0: unlimited)")
	fs.Int64Var(&c.UploadSpoolBytes, "http.upload-spool-bytes", 1<<30, "temporary disk space all uploads in flight may use together; an upload that does not fit is refused with 503 (0: unbounded)")
	fs.StringVar(&c.TrustedProxies, "http.trusted-proxies", "", "comma-separated addresses or CIDRs of proxies in front of the gateway: their X-Forwarded-For (rightmost untrusted hop) gives the client IP, their X-Forwarded-Proto the scheme")
	fs.StringVar(&c.AllowedHosts, "http.allowed-hosts", "", "comma-separated host names media URLs may be built from when http.public-base-url is empty (empty: this machine's addresses and localhost)")
	fs.DurationVar(&c.HeaderTimeout, "http.header-timeout", 10*time.Second, "time to read a request's headers and small body (0: none)")
	fs.DurationVar(&c.UploadTimeout, "http.upload-timeout", 10*time.Minute, "time to read an upload's body (0: none)")
	fs.DurationVar(&c.IdleTimeout, "http.idle-timeout", 60*time.Second, "how long an idle keep-alive connection is kept (0: none)")
	fs.DurationVar(&c.WriteTimeout, "http.write-timeout", 60*time.Second, "longest time one write to a client may block, e.g. a stalled media download (0: none)")
	fs.IntVar(&c.MaxConnections, "http.max-connections", 10000, "open client connections; further ones are closed at once (0: unlimited)")
	fs.IntVar(&c.LiveSendBuffer, "http.live-send-buffer", defaultLiveSendBuffer, "live comments queued for one watcher; a watcher that falls this far behind is disconnected")
	fs.IntVar(&c.LivePerUser, "http.live-per-user", 8, "open live-comment connections of one signed-in user on one gateway (0: unlimited)")
	fs.IntVar(&c.LivePerIP, "http.live-per-ip", 64, "open live-comment connections from one client IP on one gateway (0: unlimited)")
	fs.DurationVar(&c.LivePingInterval, "http.live-ping-interval", defaultLivePing, "how often live-comment connections are pinged; one silent for two intervals is closed")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.MaxUploadBytes < 1<<10 {
		return fmt.Errorf("http.max-upload-bytes must be at least 1024")
	}
	if c.AuthPerMinute < 0 || c.WritesPerMinute < 0 || c.ReadsPerMinute < 0 {
		return fmt.Errorf("rate limits must not be negative")
	}
	if c.LoginFreeFailures < 0 || c.UploadsPerDay < 0 || c.UploadBytesPerDay < 0 || c.UploadSpoolBytes < 0 || c.MaxConnections < 0 {
		return fmt.Errorf("http limits must not be negative")
	}
	if c.LoginFreeFailures > 0 && c.LoginBackoffMax < time.Second {
		return fmt.Errorf("http.login-backoff-max must be at least 1s")
	}
	if c.UploadSpoolBytes > 0 && c.UploadSpoolBytes < c.MaxUploadBytes+formOverheadBytes {
		return fmt.Errorf("http.upload-spool-bytes must hold at least one upload (http.max-upload-bytes + 1 MiB)")
	}
	if c.LiveSendBuffer < 0 || c.LivePerUser < 0 || c.LivePerIP < 0 {
		return fmt.Errorf("live comment limits must not be negative")
	}
	if c.LivePingInterval != 0 && c.LivePingInterval < time.Second {
		return fmt.Errorf("http.live-ping-interval must be at least 1s")
	}
	if c.HeaderTimeout < 0 || c.UploadTimeout < 0 || c.IdleTimeout < 0 || c.WriteTimeout < 0 {
		return fmt.Errorf("http timeouts must not be negative")
	}
	if _, err := parseProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.AnonymousFeedTTL < 0 || c.AnonymousFeedTTL > time.Minute {
		return fmt.Errorf("http.anonymous-feed-ttl must be between 0 and 1m")
	}
	if c.CardCacheEntries != 0 && c.CardCacheEntries < minCardCacheEntries {
		return fmt.Errorf("http.card-cache-entries must be at least %d (or 0: the default)", minCardCacheEntries)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return fmt.Errorf("http.time-zone: %w", err)
	}
	if _, err := parseCORSOrigins(c.CORSAllowedOrigins); err != nil {
		return err
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
	Recommend recommendapi.RecommendService
	Blobs     blob.Store
	// LocalMediaDir, when set, is served under blob.MediaPathPrefix (the embedded blob store).
	LocalMediaDir string
	Tokens        *auth.Tokens
	// Moderator checks comments, chat messages, video titles and user names (nil: no list).
	Moderator Moderator
	// KV holds the login backoff and upload quotas; shared (Redis) when gateways are
	// replicated. Nil: an in-process store.
	KV cache.KV
	// Live carries posted comments to the live-comment watchers of every gateway (nil: this
	// process only, the embedded mode); LiveMetrics counts them (nil: not measured).
	Live        live.Fanout
	LiveMetrics *live.Metrics
	// Ready reports whether the dependencies answer; it backs /readyz.
	Ready func(context.Context) error
	// Logger names the trace_id of a traced request's lines (telemetry.NewLogger), which then
	// carry no request_id: that is the same id.
	Logger *slog.Logger
	// Metrics records every request by route, and the pages served degraded (nil: not
	// measured).
	Metrics interface {
		ObserveHTTP(route, method string, code int, took time.Duration)
		ObserveDegraded(route, part string)
	}
	// Tracing opens a server span per request, continuing a caller's W3C trace context; the
	// X-Request-Id answered is then the trace id. Nil or off: no tracing work at all.
	Tracing *telemetry.Tracing
	// InProcess says the services above answer in this process with a plain call (-target=all):
	// a page then calls them one after another instead of in parallel goroutines.
	InProcess bool
	// WritesHere says every write passes through this process (InProcess on the in-memory
	// caches and queue): logged-in feed pages are then spliced from cached per-video cards
	// (see cardCache). Events must then deliver the services' activity events: a video turning
	// ready is the one write no request here makes.
	WritesHere bool
	Events     mq.Consumer
}

// Gateway is the HTTP edge. Its exported methods serve the API of idl/api.thrift.
type Gateway struct {
	cfg      Config
	deps     Deps
	location *time.Location
	binder   binder
	images   staticImages
	server   *server.Hertz
	// traceRequests opens each request's span (nil: tracing off).
	traceRequests app.HandlerFunc
	// authLimit and readLimit are keyed by client IP, writeLimit by user id.
	authLimit, writeLimit, readLimit *limiter
	logins                           *loginBackoff
	quota                            *uploadQuota
	spoolSpace                       *spoolBudget
	proxies                          proxySet
	prlimit                          string // limits the upload check's ffprobe; "": not installed
	hosts                            hostAllowList
	// firstPages caches the anonymous first feed page (nil: disabled).
	firstPages *pageCache
	cors       corsPolicy
	// site is the browser client served at / (gateway/webapp).
	site *webapp.Site
	live *liveComments
	// jsonBufs are the reused encoding buffers of the JSON replies (see jsonBody).
	jsonBufs *sync.Pool
	// cards are the encoded videos of logged-in feed pages (nil: Deps.WritesHere is false);
	// feedHead starts every such page.
	cards    *cardCache
	feedHead []byte
	// inProcess are the services' calls that card pages make (set with cards).
	inProcess struct {
		feedIDs feedIDLister
		likes   likesAmong
		follows followsAmong
	}
}

var _ api.Handlers = (*Gateway)(nil)

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
	cors, _ := parseCORSOrigins(cfg.CORSAllowedOrigins) // checked by Validate
	proxies, _ := parseProxies(cfg.TrustedProxies)      // checked by Validate
	kv := deps.KV
	if kv == nil {
		kv = cache.NewMemory(maxLimitEntries)
	}
	site, err := webapp.New()
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg: cfg, deps: deps, location: loc, images: images, cors: cors, site: site, jsonBufs: newJSONBuffers(),
		authLimit:  newLimiter(cfg.AuthPerMinute, authBurst),
		writeLimit: newLimiter(cfg.WritesPerMinute, writeBurst),
		readLimit:  newLimiter(cfg.ReadsPerMinute, readBurst),
		logins:     &loginBackoff{kv: kv, freeFailures: cfg.LoginFreeFailures, max: cfg.LoginBackoffMax, now: time.Now},
		quota:      &uploadQuota{kv: kv, perDay: cfg.UploadsPerDay, bytesDay: cfg.UploadBytesPerDay, now: time.Now},
		spoolSpace: &spoolBudget{limit: cfg.UploadSpoolBytes},
		proxies:    proxies,
		hosts:      newHostAllowList(cfg.AllowedHosts, cfg.Addr),
		prlimit:    mediatool.FindPrlimit(),
		firstPages: newPageCache(cfg.AnonymousFeedTTL),
	}
	if deps.WritesHere {
		if err := g.useCards(); err != nil {
			return nil, err
		}
	}
	ln, err := listen(cfg)
	if err != nil {
		return nil, err
	}
	opts := []config.Option{
		server.WithHostPorts(cfg.Addr),
		// The standard transport over our listener: it caps connections, bounds each write, and
		// gives every request an absolute deadline for its headers (the netpoll transport's read
		// timeout restarts with every byte, so a slow client could hold a connection forever).
		server.WithTransport(standard.NewTransporter),
		server.WithListener(ln),
		server.WithReadTimeout(cfg.HeaderTimeout),
		server.WithIdleTimeout(cfg.IdleTimeout),
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
	}
	if deps.Tracing != nil && deps.Tracing.Enabled() {
		g.traceRequests = newRequestTracer(deps.Tracing.Provider(), deps.Tracing.Propagator(), g.clientIP).middleware
	}
	g.server = server.New(opts...)
	// A hijacked connection (the live-comment WebSockets) must not return to Hertz's pool.
	g.server.NoHijackConnPool = true
	g.live = g.newLiveComments()
	g.routes()
	return g, nil
}

// Run serves until ctx is cancelled, then drains in-flight requests.
func (g *Gateway) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- g.server.Run() }()
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	go g.runLive(liveCtx)
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// WebSockets are hijacked out of the server's drain: close them (with a close frame) here.
	g.live.hub.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownGrace)
	defer cancel()
	if err := g.server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// untraced are the requests that open no span: probes, which would drown the real traffic.
// It reads the raw request line, compared in place, without copying the URI.
func untraced(c *app.RequestContext) bool {
	uri := c.Request.Header.RequestURI()
	if q := bytes.IndexByte(uri, '?'); q >= 0 {
		uri = uri[:q]
	}
	return string(uri) == "/healthz" || string(uri) == "/readyz"
}

// routes installs the middlewares and the routes. The API's paths and methods come from
// idl/api.thrift: scripts/gen.sh generates api.Handlers, one method per IDL method, which the
// Gateway implements, and api.Routes, which pairs each with its path. Every path answers with
// and without its trailing slash, never with a redirect (a 307 on a POST with a body is not
// followed by common clients).
func (g *Gateway) routes() {
	h := g.server
	if g.traceRequests != nil {
		// First, so the access log, a recovered panic and every call downstream see the span.
		h.Use(g.traceRequests)
	}
	h.Use(g.recoverPanics, g.accessLog, g.secureHeaders, g.cors.middleware, g.limitReads, g.limitBodies)
	for _, r := range api.Routes(g) {
		for _, p := range []string{r.Path, strings.TrimSuffix(r.Path, "/")} {
			h.Handle(r.Method, p, r.Handler)
			// Some clients send the app's POST calls as GET with the same query and vice versa;
			// both carry their parameters in the query, so both methods are served.
			if r.Method == "GET" {
				h.Handle("POST", p, r.Handler)
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
	h.GET(LivePath, g.liveWatch)
	h.GET(LivePath[:len(LivePath)-1], g.liveWatch)
	h.GET("/healthz", g.healthz)
	h.GET("/readyz", g.readyz)
	// The web app: its page at / and its files under /web/, clear of the API, /media/ and /static/.
	for _, method := range []string{"GET", "HEAD"} {
		h.Handle(method, "/", g.site.ServeIndex)
		h.Handle(method, webapp.AssetPrefix+"*path", g.site.ServeAsset)
	}
	h.GET(avatarPath, g.images.serveAvatar)
	h.GET(backgroundPath, g.images.serveBackground)
	h.GET(processingCoverPath, g.images.serveProcessingCover)
	h.GET(failedCoverPath, g.images.serveFailedCover)
	if g.deps.LocalMediaDir != "" {
		g.serveLocalMedia(g.deps.LocalMediaDir)
	}
}
