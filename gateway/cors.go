package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
)

// corsPolicy lets web clients on other origins call the API. Tokens travel as parameters or
// in an Authorization header, never as cookies, so credentials mode stays off and "*" is safe.
//
// It is written here rather than taken from hertz-contrib/cors, which answers a refused
// origin with an empty 403 (the API keeps its JSON envelope on every status), panics on a bad
// setting instead of failing validation, and sends no Vary: Origin when it echoes an origin.
type corsPolicy struct {
	anyOrigin bool
	origins   map[string]bool
}

// CORS answers: the API's methods and the headers a browser client sends.
const (
	corsAllowMethods  = "GET, POST, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type, X-Request-Id"
	corsExposeHeaders = "X-Request-Id"
	corsMaxAgeSeconds = "600"
)

// parseCORSOrigins reads -http.cors-allowed-origins: "*", or a comma-separated list of
// origins (scheme://host[:port]); empty allows no other origin.
func parseCORSOrigins(setting string) (corsPolicy, error) {
	p := corsPolicy{origins: map[string]bool{}}
	for _, o := range strings.Split(setting, ",") {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o == "*":
			p.anyOrigin = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return corsPolicy{}, fmt.Errorf("http.cors-allowed-origins: %q is not an origin like https://app.example.com", o)
		}
		p.origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return p, nil
}

func (p corsPolicy) allows(origin string) bool {
	return p.anyOrigin || p.origins[strings.ToLower(origin)]
}

// middleware adds the CORS headers to every answer to an allowed origin and answers every
// preflight OPTIONS itself with 204 (a refused origin gets 403 with the JSON envelope), so a
// preflight never reaches the 405 of the route table.
func (p corsPolicy) middleware(ctx context.Context, c *app.RequestContext) {
	origin := string(c.Request.Header.Peek("Origin"))
	preflight := string(c.Method()) == http.MethodOptions
	if !p.anyOrigin {
		// The answer depends on the Origin header: caches must not share it across origins.
		c.Response.Header.Add("Vary", "Origin")
	}
	allowed := origin != "" && p.allows(origin)
	if allowed {
		if p.anyOrigin {
			c.Response.Header.Set("Access-Control-Allow-Origin", "*")
		} else {
			c.Response.Header.Set("Access-Control-Allow-Origin", origin)
		}
		c.Response.Header.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	}
	if !preflight {
		c.Next(ctx)
		return
	}
	if origin != "" && !allowed {
		c.AbortWithStatusJSON(http.StatusForbidden, map[string]any{
			"status_code": int32(basecode.ErrCode_PermissionDenied), "status_msg": "this origin may not call the API"})
		return
	}
	c.Response.Header.Set("Allow", corsAllowMethods)
	if allowed {
		c.Response.Header.Set("Access-Control-Allow-Methods", corsAllowMethods)
		c.Response.Header.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		c.Response.Header.Set("Access-Control-Max-Age", corsMaxAgeSeconds)
	}
	c.AbortWithStatus(http.StatusNoContent)
}
