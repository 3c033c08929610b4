package gateway

import (
	"bytes"
	"strings"
	"sync/atomic"

	"github.com/cloudwego/hertz/pkg/app"
)

// pageScope is what the assemblers take from the request they answer, computed once per
// request so that they never need the request itself: the base path-only URLs resolve
// against, and the route and request id that label a page served without an optional part.
type pageScope struct {
	urlBase   string
	route     string
	requestID string
	// degraded, when set, is raised by an optional part that failed: such a page is not cached.
	degraded *atomic.Bool
}

// scopeOf computes the pageScope of a request.
func (g *Gateway) scopeOf(c *app.RequestContext) pageScope {
	return pageScope{urlBase: g.urlBase(c), route: c.FullPath(), requestID: requestID(c)}
}

// url resolves a URL from a service against the request's base.
func (s pageScope) url(u string) string { return absoluteURL(s.urlBase, u) }

// urlBase is what path-only URLs from the services ("/media/…", "/static/…") are resolved
// against: the public base URL when one is configured; otherwise the scheme and host the
// client used, if that host is on the allow-list (by default this machine's own addresses and
// localhost, which is what a phone on the LAN types), and the listen address otherwise. A
// client-chosen Host therefore never ends up in a URL served to someone else.
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
