package gateway

import (
	"context"
	"math"
	"strconv"

	"github.com/cloudwego/hertz/pkg/app"

	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
)

// envelope is what every generated response model has.
type envelope interface {
	SetStatusCode(int32)
	SetStatusMsg(string)
}

// reply writes resp with the status of err. Every response keeps its full shape on failure
// too (lists as [], ids as 0), because the app reads every field.
func (g *Gateway) reply(ctx context.Context, c *app.RequestContext, resp envelope, err error) {
	c.Render(g.settle(ctx, c, resp, err), jsonBody{v: resp, bufs: g.jsonBufs})
}

// settle sets resp's status fields from err, logs what is the server's fault, and returns the
// HTTP status to answer with.
func (g *Gateway) settle(ctx context.Context, c *app.RequestContext, resp envelope, err error) int {
	code, msg := classify(err)
	o := outcomeOf(code)
	if msg == "" {
		msg = o.message
	}
	if code == basecode.ErrCode_InternalError || o.httpStatus >= 500 {
		g.deps.Logger.ErrorContext(ctx, "request failed", "path", string(c.Path()), requestIDAttr(ctx, requestID(c)), "err", err)
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
