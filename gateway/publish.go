package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/errs"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

func (g *Gateway) publish(ctx context.Context, c *app.RequestContext) {
	resp := &api.PublishActionResponse{}
	g.reply(ctx, c, resp, g.doPublish(ctx, c))
}

// doPublish stores the upload and registers the video as processing; the media worker makes
// it ready. Whatever fails after the upload is stored removes it again.
func (g *Gateway) doPublish(ctx context.Context, c *app.RequestContext) error {
	var req api.PublishActionRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	author, err := g.writer(c, req.Token)
	if err != nil {
		return err
	}
	if strings.TrimSpace(req.Title) == "" {
		return errs.Invalid("title must not be empty")
	}
	file, err := c.FormFile("data")
	if err != nil {
		return errs.Invalid("data (the video file) is required as a multipart form file")
	}
	if file.Size > g.cfg.MaxUploadBytes {
		return errs.New(basecode.ErrCode_PayloadTooLarge, "the video is larger than the upload limit")
	}
	src, err := file.Open()
	if err != nil {
		return wrap("open upload", err)
	}
	defer src.Close()

	head := make([]byte, 512)
	n, err := io.ReadFull(src, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return wrap("read upload", err)
	}
	ext, ok := videoExtension(head[:n])
	if !ok {
		return errs.New(basecode.ErrCode_UnsupportedMedia, "the file is not a video (MP4, MOV, WebM, MKV, AVI or FLV expected)")
	}
	key := "uploads/" + randomHex(16) + ext
	body := io.MultiReader(bytes.NewReader(head[:n]), src)
	if _, err := g.deps.Blobs.Put(ctx, key, io.LimitReader(body, g.cfg.MaxUploadBytes+1)); err != nil {
		return wrap("store upload", err)
	}
	_, err = g.deps.Videos.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: author, Title: req.Title, SourceKey: key})
	if err != nil {
		if delErr := g.deps.Blobs.Delete(context.WithoutCancel(ctx), key); delErr != nil {
			g.deps.Logger.WarnContext(ctx, "remove rejected upload", "key", key, "err", delErr)
		}
		return wrap("create video", err)
	}
	return nil
}

// videoExtension recognises video containers by their magic bytes, never by file name.
func videoExtension(head []byte) (string, bool) {
	switch {
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		if string(head[8:10]) == "qt" {
			return ".mov", true
		}
		return ".mp4", true
	case bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		if bytes.Contains(head, []byte("webm")) {
			return ".webm", true
		}
		return ".mkv", true
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return ".avi", true
	case bytes.HasPrefix(head, []byte("FLV")):
		return ".flv", true
	}
	if strings.HasPrefix(http.DetectContentType(head), "video/") {
		return ".video", true
	}
	return "", false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (g *Gateway) publishList(ctx context.Context, c *app.RequestContext) {
	resp := &api.PublishListResponse{VideoList: []*base.Video{}}
	g.reply(ctx, c, resp, g.doPublishList(ctx, c, resp))
}

func (g *Gateway) doPublishList(ctx context.Context, c *app.RequestContext, resp *api.PublishListResponse) error {
	var req api.PublishListRequest
	if err := g.binder.bind(c, &req); err != nil {
		return err
	}
	if req.UserID <= 0 {
		return errs.Invalid("user_id must be a positive integer")
	}
	viewer, err := g.viewer(c, orEmpty(req.Token), false)
	if err != nil {
		return err
	}
	list, err := g.deps.Videos.PublishList(ctx, &videoapi.PublishListRequest{AuthorId: req.UserID})
	if err != nil {
		return wrap("publish list", err)
	}
	videos, err := g.videos(ctx, c, viewer, list.Videos)
	if err != nil {
		return err
	}
	resp.VideoList = videos
	return nil
}
