package gateway

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
)

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
