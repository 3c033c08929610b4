package gateway

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"go.opentelemetry.io/otel/trace"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/internal/telemetry"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
)

// The middlewares every request passes, in the order routes() installs them, and the
// per-IP limits hooked in front of the API.

// recoverPanics turns a panic into a 500 with the JSON envelope; the stack goes to the log only.
func (g *Gateway) recoverPanics(ctx context.Context, c *app.RequestContext) {
	defer func() {
		if r := recover(); r != nil {
			g.deps.Logger.ErrorContext(ctx, "panic", "path", string(c.Path()), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.AbortWithStatusJSON(http.StatusInternalServerError, map[string]any{
				"status_code": int32(basecode.ErrCode_InternalError),
				"status_msg":  outcomeOf(basecode.ErrCode_InternalError).message,
			})
		}
	}()
	c.Next(ctx)
}

// requestIDHeader carries the request id accessLog assigns, to the client and to the logs of
// the request (read back from the response: a value in the context's key map would cost a map
// per request).
const requestIDHeader = "X-Request-Id"

func requestID(c *app.RequestContext) string { return string(c.Response.Header.Peek(requestIDHeader)) }

// newRequestID is the id of an untraced request: the caller's X-Request-Id, or a random one.
func newRequestID(c *app.RequestContext) string {
	id := string(c.Request.Header.Peek(requestIDHeader))
	if id == "" || len(id) > 64 {
		// The size of a trace id, from the runtime's ChaCha8 generator: unique without a
		// system call per request.
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
		binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
		id = hex.EncodeToString(b[:])
	}
	return id
}

// requestIDAttr names the request in a log line written with ctx. A traced request's line
// names its trace_id already (the Logger of Deps), and that is the request id: the id once.
func requestIDAttr(ctx context.Context, id string) slog.Attr {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return slog.Attr{} // slog's handlers drop an empty Attr
	}
	return slog.String("request_id", id)
}

// accessLog logs one line per request. It logs the path and never the query string: the
// app's tokens travel there.
func (g *Gateway) accessLog(ctx context.Context, c *app.RequestContext) {
	start := time.Now()
	// A traced request's id is its trace id, so a user's report leads straight to the trace.
	// Its ids are encoded once, for the header and the line.
	var traced telemetry.SpanIDs
	var id string
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		traced = telemetry.SpanIDsOf(sc)
		id = traced.TraceID
	} else {
		id = newRequestID(c)
	}
	c.Response.Header.Set(requestIDHeader, id)
	c.Next(ctx)
	end := time.Now()
	if g.deps.Metrics != nil {
		route := c.FullPath() // the registered pattern, so ids never explode the label set
		if route == "" {
			route = "unmatched"
		}
		g.deps.Metrics.ObserveHTTP(route, string(c.Method()), c.Response.StatusCode(), end.Sub(start))
	}
	// The record goes straight to the handler without a source (pc 0): Logger.LogAttrs walks
	// the stack for one on every request, and the line names no source.
	h := g.deps.Logger.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	r := slog.NewRecord(end, slog.LevelInfo, "http", 0)
	if traced.TraceID != "" {
		traced.AddTo(&r) // first, so the handler does not add them again
	} else {
		r.AddAttrs(slog.String("request_id", id))
	}
	r.AddAttrs(
		slog.String("method", string(c.Method())),
		slog.String("path", string(c.Path())),
		slog.Int("status", c.Response.StatusCode()),
		slog.Duration("latency", end.Sub(start)),
		slog.String("client_ip", g.clientIP(c)),
	)
	_ = h.Handle(ctx, r) // a log write that fails has nowhere better to be reported
}

// authLimited applies the per-IP limit of sign-ups and logins, which guess passwords otherwise
// and cost a bcrypt hash each: over it, it answers the refusal and reports true.
func (g *Gateway) authLimited(ctx context.Context, c *app.RequestContext) bool {
	if ok, wait := g.authLimit.reserve(g.clientIP(c)); !ok {
		g.reply(ctx, c, &api.UserLoginResponse{}, rateLimited("too many sign-ups or logins from this address, please wait a minute", wait))
		return true
	}
	return false
}

// limitReads applies the per-IP limit of every other /douyin/ call: generous enough for the
// app's polling, low enough that one address cannot take the whole server.
func (g *Gateway) limitReads(ctx context.Context, c *app.RequestContext) {
	path := string(c.Request.URI().Path())
	if g.readLimit.off() || !strings.HasPrefix(path, "/douyin/") || strings.HasPrefix(path, strings.TrimSuffix(api.UserLoginPath, "/")) ||
		strings.HasPrefix(path, strings.TrimSuffix(api.UserRegisterPath, "/")) {
		c.Next(ctx)
		return
	}
	if ok, wait := g.readLimit.reserve(g.clientIP(c)); !ok {
		g.abortLimited(ctx, c, rateLimited("too many requests from this address, please slow down", wait))
		return
	}
	c.Next(ctx)
}

// abortLimited answers a refusal from a middleware with the envelope and stops the chain.
func (g *Gateway) abortLimited(ctx context.Context, c *app.RequestContext, err error) {
	resp := &api.FeedResponse{}
	status := g.settle(ctx, c, resp, err)
	c.AbortWithStatusJSON(status, map[string]any{"status_code": resp.StatusCode, "status_msg": resp.StatusMsg})
}

// secureHeaders marks every answer as not to be sniffed, and every API answer as not to be
// stored: most depend on the token (chat, a logged-in feed), and a cache keyed by path would
// serve one user's answer to another.
func (g *Gateway) secureHeaders(ctx context.Context, c *app.RequestContext) {
	c.Response.Header.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(string(c.Request.URI().Path()), "/douyin/") {
		c.Response.Header.Set("Cache-Control", "no-store")
	}
	c.Next(ctx)
}

// maxSmallBodyBytes is the largest body of any request but a publish: the API's forms and
// JSON bodies are a few hundred bytes.
const maxSmallBodyBytes = 1 << 20

// limitBodies reads the body of every request but a publish into memory, refusing one over
// maxSmallBodyBytes with 413: with streamed bodies Hertz no longer enforces a limit, and the
// binder would read any stream whole.
func (g *Gateway) limitBodies(ctx context.Context, c *app.RequestContext) {
	path := string(c.Request.URI().Path())
	if strings.HasPrefix(path, strings.TrimSuffix(api.PublishActionPath, "/")) {
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
