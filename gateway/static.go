package gateway

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/internal/blob"
)

// Paths of the default profile images; the user service hands them out as relative URLs.
const (
	avatarPath     = "/static/avatar.png"
	backgroundPath = "/static/background.png"
	// Covers of the author's own videos that are not ready: only their publish list shows them.
	processingCoverPath = "/static/cover-processing.png"
	failedCoverPath     = "/static/cover-failed.png"
)

// staticImages are the default avatar and background, drawn once at start so the binary needs
// no asset files and every new user has real images.
type staticImages struct {
	avatar, background           []byte
	processingCover, failedCover []byte
}

func newStaticImages() (staticImages, error) {
	avatar, err := encodePNG(drawAvatar(256))
	if err != nil {
		return staticImages{}, err
	}
	background, err := encodePNG(drawBackground(1080, 600))
	if err != nil {
		return staticImages{}, err
	}
	// Portrait like the app's videos: grey with a light clock face while processing, rose
	// with a white cross when processing failed.
	processing, err := encodePNG(drawCover(360, 640, color.RGBA{0x5F, 0x63, 0x68, 0xFF}, false))
	if err != nil {
		return staticImages{}, err
	}
	failed, err := encodePNG(drawCover(360, 640, color.RGBA{0xFE, 0x2C, 0x55, 0xFF}, true))
	if err != nil {
		return staticImages{}, err
	}
	return staticImages{avatar: avatar, background: background, processingCover: processing, failedCover: failed}, nil
}

// drawCover draws a placeholder cover: a ring (processing) or a cross (failed) on bg.
func drawCover(w, h int, bg color.RGBA, cross bool) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fg := color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	cx, cy, r := float64(w)/2, float64(h)/2, float64(w)/5
	for y := range h {
		for x := range w {
			fx, fy := float64(x)+0.5-cx, float64(y)+0.5-cy
			c := bg
			if cross {
				if (math.Abs(fx-fy) < r/6 || math.Abs(fx+fy) < r/6) && math.Abs(fx) < r && math.Abs(fy) < r {
					c = fg
				}
			} else if d := math.Hypot(fx, fy); math.Abs(d-r) < r/8 || (fx >= 0 && math.Abs(fy) < r/12 && fx < r*0.7) || (fy <= 0 && math.Abs(fx) < r/12 && -fy < r*0.8) {
				c = fg
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// drawAvatar draws a light silhouette (head and shoulders) on a rose disc.
func drawAvatar(size int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	bg := color.RGBA{0xFE, 0x2C, 0x55, 0xFF}
	fg := color.RGBA{0xFF, 0xF1, 0xF3, 0xFF}
	s := float64(size)
	for y := range size {
		for x := range size {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			if math.Hypot(fx-s/2, fy-s/2) > s/2 {
				continue // transparent outside the disc
			}
			c := bg
			head := math.Hypot(fx-s/2, fy-s*0.40) < s*0.17
			body := math.Hypot((fx-s/2)/1.5, fy-s*0.92) < s*0.26
			if head || body {
				c = fg
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// drawBackground draws a diagonal gradient from the brand's cyan to its rose.
func drawBackground(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	from := [3]float64{0x25, 0xF4, 0xEE}
	to := [3]float64{0xFE, 0x2C, 0x55}
	for y := range h {
		for x := range w {
			t := (float64(x)/float64(w) + float64(y)/float64(h)) / 2
			img.SetRGBA(x, y, color.RGBA{
				uint8(from[0] + (to[0]-from[0])*t),
				uint8(from[1] + (to[1]-from[1])*t),
				uint8(from[2] + (to[2]-from[2])*t),
				0xFF,
			})
		}
	}
	return img
}

const immutableCache = "public, max-age=31536000, immutable"

func (s staticImages) serveAvatar(_ context.Context, c *app.RequestContext) {
	c.Response.Header.Set("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/png", s.avatar)
}

func (s staticImages) serveProcessingCover(_ context.Context, c *app.RequestContext) {
	c.Response.Header.Set("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/png", s.processingCover)
}

func (s staticImages) serveFailedCover(_ context.Context, c *app.RequestContext) {
	c.Response.Header.Set("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/png", s.failedCover)
}

func (s staticImages) serveBackground(_ context.Context, c *app.RequestContext) {
	c.Response.Header.Set("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/png", s.background)
}

// serveLocalMedia serves the embedded blob store with HTTP Range, so the app's player can
// start and seek before the whole file is downloaded. Objects never change once written.
func (g *Gateway) serveLocalMedia(root string) {
	fs := &app.FS{
		Root:            root,
		AcceptByteRange: true,
		PathRewrite:     app.NewPathSlashesStripper(1),
		PathNotFound: func(_ context.Context, c *app.RequestContext) {
			c.JSON(http.StatusNotFound, map[string]any{"status_code": 404, "status_msg": "media not found"})
		},
	}
	handler := fs.NewRequestHandler()
	serve := func(ctx context.Context, c *app.RequestContext) {
		c.Response.Header.Set("Cache-Control", immutableCache)
		handler(ctx, c)
	}
	prefix := blob.MediaPathPrefix + "*path"
	g.server.GET(prefix, serve)
	g.server.HEAD(prefix, serve)
}
