package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"go.opentelemetry.io/otel/trace"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
)

// envelope is what every generated response model has.
type envelope interface {
	SetStatusCode(int32)
	SetStatusMsg(string)
}

// reply writes resp with the status of err. Every response keeps its full shape on failure
// too (lists as [], ids as 0), because the app reads every field.
func (g *Gateway) reply(ctx context.Context, c *app.RequestContext, resp envelope, err error) {
	c.JSON(g.settle(ctx, c, resp, err), resp)
}

// settle sets resp's status fields from err, logs what is the server's fault, and returns the
// HTTP status to answer with.
func (g *Gateway) settle(ctx context.Context, c *app.RequestContext, resp envelope, err error) int {
	code, msg := classify(err)
	o := outcomeOf(code)
	if msg == "" {
		msg = o.message
	}
	if code == base.ErrCode_InternalError || o.httpStatus >= 500 {
		g.deps.Logger.ErrorContext(ctx, "request failed", "path", string(c.Path()), "request_id", requestID(c), "err", err)
	}
	var limited limitError
	if asLimit(err, &limited) && limited.after > 0 {
		c.Response.Header.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(max(limited.after.Seconds(), 1))), 10))
	} else if o.retryAfter != "" {
		c.Response.Header.Set("Retry-After", o.retryAfter)
	}
	resp.SetStatusCode(int32(code))
	resp.SetStatusMsg(msg)
	return o.httpStatus
}

// viewer resolves the requesting user from the token parameter or an Authorization: Bearer
// header. It returns 0 for an anonymous request when the token is optional; a token that is
// present but invalid is always an error, never silently anonymous.
func (g *Gateway) viewer(ctx context.Context, c *app.RequestContext, token string, required bool) (int64, error) {
	if token == "" {
		if h := string(c.Request.Header.Peek("Authorization")); strings.HasPrefix(h, "Bearer ") {
			token = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		}
	}
	if token == "" {
		if required {
			return 0, errs.New(base.ErrCode_Unauthenticated, "login required: the token is missing")
		}
		return 0, nil
	}
	id, err := g.deps.Tokens.Verify(ctx, token)
	if errors.Is(err, auth.ErrRevocationUnavailable) {
		return 0, wrapUnavailable("verify token", err)
	}
	if err != nil {
		return 0, errs.New(base.ErrCode_Unauthenticated, "invalid, expired or revoked token, please log in again")
	}
	return id, nil
}

// writer resolves the user of a mutation and applies the per-user write rate limit.
func (g *Gateway) writer(ctx context.Context, c *app.RequestContext, token string) (int64, error) {
	id, err := g.viewer(ctx, c, token, true)
	if err != nil {
		return 0, err
	}
	if ok, wait := g.writeLimit.reserve(strconv.FormatInt(id, 10)); !ok {
		return 0, rateLimited("too many actions, please slow down", wait)
	}
	return id, nil
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orZero(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

const requestIDKey = "request_id"

func requestID(c *app.RequestContext) string { return c.GetString(requestIDKey) }

// requestIDOf is the id of the request: its trace id when tracing is on, so a user's report
// leads straight to the trace; otherwise the caller's X-Request-Id, or a random one.
func requestIDOf(ctx context.Context, c *app.RequestContext) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	id := string(c.Request.Header.Peek("X-Request-Id"))
	if id == "" || len(id) > 64 {
		var b [16]byte // the size of a trace id
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	return id
}

// accessLog logs one line per request. It logs the path and never the query string: the
// app's tokens travel there.
func (g *Gateway) accessLog(ctx context.Context, c *app.RequestContext) {
	start := time.Now()
	id := requestIDOf(ctx, c)
	c.Set(requestIDKey, id)
	c.Response.Header.Set("X-Request-Id", id)
	c.Next(ctx)
	if g.deps.Metrics != nil {
		route := c.FullPath() // the registered pattern, so ids never explode the label set
		if route == "" {
			route = "unmatched"
		}
		g.deps.Metrics.ObserveHTTP(route, string(c.Method()), c.Response.StatusCode(), time.Since(start))
	}
	g.deps.Logger.LogAttrs(ctx, slog.LevelInfo, "http",
		slog.String("request_id", id),
		slog.String("method", string(c.Method())),
		slog.String("path", string(c.Path())),
		slog.Int("status", c.Response.StatusCode()),
		slog.Duration("latency", time.Since(start)),
		slog.String("client_ip", g.clientIP(c)),
	)
}

// recoverPanics turns a panic into a 500 with the JSON envelope; the stack goes to the log only.
func (g *Gateway) recoverPanics(ctx context.Context, c *app.RequestContext) {
	defer func() {
		if r := recover(); r != nil {
			g.deps.Logger.ErrorContext(ctx, "panic", "path", string(c.Path()), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.AbortWithStatusJSON(http.StatusInternalServerError, map[string]any{
				"status_code": int32(base.ErrCode_InternalError),
				"status_msg":  outcomeOf(base.ErrCode_InternalError).message,
			})
		}
	}()
	c.Next(ctx)
}

func (g *Gateway) healthz(_ context.Context, c *app.RequestContext) {
	c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (g *Gateway) readyz(ctx context.Context, c *app.RequestContext) {
	if g.deps.Ready != nil {
		checkCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := g.deps.Ready(checkCtx); err != nil {
			g.deps.Logger.WarnContext(ctx, "not ready", "err", err)
			c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
			return
		}
	}
	c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// urlBase is what path-only URLs from the services ("/media/…", "/static/…") are resolved
// against: the public base URL when one is configured; otherwise the scheme and host the
// client used, if that host is on the allow-list (by default this machine's own addresses and
// localhost, which is what a phone on the LAN types), and the listen address otherwise. A
// client-chosen Host therefore never ends up in a URL served to someone else. A list computes
// it once.
func (g *Gateway) urlBase(c *app.RequestContext) string {
	if g.cfg.PublicBaseURL != "" {
		return strings.TrimRight(g.cfg.PublicBaseURL, "/")
	}
	host := string(c.Host())
	if !g.hosts.allows(host) {
		return "http://" + g.hosts.fallback
	}
	scheme := "http"
	if p := c.Request.Header.Peek("X-Forwarded-Proto"); bytes.Equal(p, []byte("https")) && g.fromTrustedProxy(c) {
		scheme = "https"
	}
	return scheme + "://" + host
}

// absoluteURL resolves u against base (urlBase); absolute URLs (a CDN) pass unchanged.
func absoluteURL(base, u string) string {
	if !strings.HasPrefix(u, "/") {
		return u
	}
	return base + u
}
