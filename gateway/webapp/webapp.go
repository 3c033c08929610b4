// Package webapp is the browser client of the API: plain JavaScript modules, CSS and icons
// embedded in the binary, so `go build` stays the only build and the page loads nothing from
// another origin. The gateway serves the page at / and its files under AssetPrefix.
package webapp

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
)

// AssetPrefix is where the page's files are served; it is clear of /douyin/, /media/ and
// /static/ (the default profile images).
const AssetPrefix = "/web/"

// contentSecurityPolicy keeps scripts, styles and fonts to this origin. Media and images may
// come from a CDN (the production blob store hands out its own URLs), so they may be remote.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; " +
	"img-src 'self' data: blob: http: https:; media-src 'self' blob: http: https:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// contentType is fixed here rather than read from the system's MIME tables, which differ
// between machines.
func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return ""
}

//go:embed site
var embedded embed.FS

// Site serves the embedded files.
type Site struct {
	files map[string]asset // by path below site/, e.g. "js/main.js"
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// New reads the embedded files once and computes their validators.
func New() (*Site, error) {
	s := &Site{files: map[string]asset{}}
	err := fs.WalkDir(embedded, "site", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		ct := contentType(path.Ext(p))
		if ct == "" {
			return fmt.Errorf("webapp: no content type for %s", p)
		}
		sum := sha256.Sum256(body)
		s.files[strings.TrimPrefix(p, "site/")] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webapp: read embedded files: %w", err)
	}
	if _, ok := s.files["index.html"]; !ok {
		return nil, fmt.Errorf("webapp: index.html is not embedded")
	}
	return s, nil
}

// ServeIndex answers / with the page.
func (s *Site) ServeIndex(_ context.Context, c *app.RequestContext) {
	h := &c.Response.Header
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	s.serve(c, s.files["index.html"])
}

// ServeAsset answers AssetPrefix + path; the route binds the rest of the path as "path".
func (s *Site) ServeAsset(_ context.Context, c *app.RequestContext) {
	name := strings.TrimPrefix(c.Param("path"), "/")
	a, ok := s.files[name]
	if !ok || name == "index.html" {
		c.JSON(http.StatusNotFound, map[string]any{"status_code": int32(basecode.ErrCode_InvalidParam), "status_msg": "no such file"})
		return
	}
	s.serve(c, a)
}

// serve answers with a, or 304 when the browser holds it already. Files are revalidated on
// every load (no-cache) so a new binary's page is never mixed with an old one's modules; the
// answer to a revalidation is a few bytes.
func (s *Site) serve(c *app.RequestContext, a asset) {
	h := &c.Response.Header
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if string(c.Request.Header.Peek("If-None-Match")) == a.etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, a.contentType, a.body)
}

// Files lists the embedded paths (below the site root), for tests.
func (s *Site) Files() []string {
	names := make([]string, 0, len(s.files))
	for n := range s.files {
		names = append(names, n)
	}
	return names
}
