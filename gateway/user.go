package gateway

import (
	"context"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/moderation"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

func (g *Gateway) register(ctx context.Context, c *app.RequestContext) {
	resp := &api.UserRegisterResponse{}
	g.reply(ctx, c, resp, g.doRegister(ctx, c, resp))
}

func (g *Gateway) doRegister(ctx context.Context, c *app.RequestContext, resp *api.UserRegisterResponse) error {
	var req api.UserRegisterRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	if _, err := g.moderate(moderation.UserName, req.Username); err != nil {
		return err
	}
	out, err := g.deps.Users.Register(ctx, &userapi.RegisterRequest{Username: req.Username, Password: req.Password})
	if err != nil {
		return wrap("register", err)
	}
	token, err := g.deps.Tokens.Issue(out.UserId)
	if err != nil {
		return wrap("issue token", err)
	}
	resp.UserID, resp.Token = out.UserId, token
	return nil
}

func (g *Gateway) login(ctx context.Context, c *app.RequestContext) {
	resp := &api.UserLoginResponse{}
	g.reply(ctx, c, resp, g.doLogin(ctx, c, resp))
}

func (g *Gateway) doLogin(ctx context.Context, c *app.RequestContext, resp *api.UserLoginResponse) error {
	var req api.UserLoginRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	ip := g.clientIP(c)
	if err := g.logins.check(ctx, req.Username, ip); err != nil {
		return err
	}
	out, err := g.deps.Users.Login(ctx, &userapi.LoginRequest{Username: req.Username, Password: req.Password})
	if errs.Is(err, base.ErrCode_LoginFailed) {
		if rerr := g.logins.failed(ctx, req.Username, ip); rerr != nil {
			g.deps.Logger.WarnContext(ctx, "record failed login", "err", rerr)
		}
	}
	if err != nil {
		return wrap("login", err)
	}
	if err := g.logins.succeeded(ctx, req.Username, ip); err != nil {
		g.deps.Logger.WarnContext(ctx, "clear login backoff", "err", err)
	}
	token, err := g.deps.Tokens.Issue(out.UserId)
	if err != nil {
		return wrap("issue token", err)
	}
	resp.UserID, resp.Token = out.UserId, token
	return nil
}

func (g *Gateway) userInfo(ctx context.Context, c *app.RequestContext) {
	resp := &api.UserResponse{}
	g.reply(ctx, c, resp, g.doUserInfo(ctx, c, resp))
}

func (g *Gateway) doUserInfo(ctx context.Context, c *app.RequestContext, resp *api.UserResponse) error {
	var req api.UserRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	target := orZero(req.UserID)
	if target < 0 {
		return errs.Invalid("user_id must be a positive integer")
	}
	viewer, err := g.viewer(ctx, c, orEmpty(req.Token), target == 0)
	if err != nil {
		return err
	}
	if target == 0 {
		target = viewer
	}
	users, err := g.users(ctx, g.scopeOf(c), viewer, []int64{target})
	if err != nil {
		return err
	}
	u, ok := users[target]
	if !ok {
		return errs.New(base.ErrCode_UserNotFound, "user not found")
	}
	resp.User = u
	return nil
}

func (g *Gateway) logout(ctx context.Context, c *app.RequestContext) {
	resp := &api.UserLogoutResponse{}
	g.reply(ctx, c, resp, g.doLogout(ctx, c))
}

// doLogout revokes the token of the request at once, on every gateway (the revocations are
// in the shared cache, or in the database when embedded). Other tokens of the user still work.
func (g *Gateway) doLogout(ctx context.Context, c *app.RequestContext) error {
	var req api.UserLogoutRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	token := orEmpty(req.Token)
	if token == "" {
		if h := string(c.Request.Header.Peek("Authorization")); strings.HasPrefix(h, "Bearer ") {
			token = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		}
	}
	if _, err := g.viewer(ctx, c, token, true); err != nil {
		return err
	}
	if err := g.deps.Tokens.Revoke(ctx, token); err != nil {
		return wrapUnavailable("revoke token", err)
	}
	return nil
}
