package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// healthz answers while the process serves at all (liveness).
func (g *Gateway) healthz(_ context.Context, c *app.RequestContext) {
	c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only while the dependencies answer (readiness).
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
