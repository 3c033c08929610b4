package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/mediatool"
	"github.com/douyin-backend/douyin/internal/moderation"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// probeTimeout bounds the upload check; ffprobe reads a sane file's header in milliseconds.
const probeTimeout = 20 * time.Second

// probeLimits bound the ffprobe run on an upload: it reads a header and writes nothing.
var probeLimits = mediatool.Limits{CPUSeconds: 20, MemoryBytes: 1 << 30, FileBytes: 1 << 20}

func (g *Gateway) publish(ctx context.Context, c *app.RequestContext) {
	resp := &api.PublishActionResponse{}
	g.reply(ctx, c, resp, g.doPublish(ctx, c))
}

// Limits of the publish form besides the file: the text fields are tiny, and whatever
// precedes or follows the file part must not make the server buffer much.
const (
	maxFormFieldBytes = 64 << 10
	maxFormParts      = 16
	// formOverheadBytes is what a request may carry beyond the file: part headers, boundaries
	// and the text fields. A Content-Length above the upload limit plus this is refused unread.
	formOverheadBytes = 1 << 20
	maxTitleRunes     = 100
	// rejectedDrainTime bounds how long the rest of a rejected upload is discarded.
	rejectedDrainTime = 2 * time.Second
)

// doPublish streams the upload to a temporary file (never holding it in memory), checks it,
// stores it and registers the video as processing; the media worker makes it ready. Every
// failure removes the temporary file and, once stored, the object.
//
// Nothing is read before what can be checked without the body: a declared length over the
// limit, a token in the query string or header (the app's), the user's daily quota and the
// temporary space. A token sent as a form field is checked as soon as its part arrives, before
// the file part when it comes first.
func (g *Gateway) doPublish(ctx context.Context, c *app.RequestContext) (err error) {
	defer func() {
		if err != nil {
			g.finishRejected(c)
		}
	}()
	declared := int64(c.Request.Header.ContentLength())
	if declared > g.cfg.MaxUploadBytes+formOverheadBytes {
		return errTooLarge()
	}
	var author int64
	if token := string(c.QueryArgs().Peek("token")); token != "" || len(c.Request.Header.Peek("Authorization")) > 0 {
		if author, err = g.uploader(ctx, c, token, declared); err != nil {
			return err
		}
	}
	reserved := declared
	if reserved <= 0 {
		reserved = g.cfg.MaxUploadBytes + formOverheadBytes // chunked: the most it may hold
	}
	if !g.spoolSpace.reserve(reserved) {
		return unavailable("the server is busy with other uploads, please retry in a minute", time.Minute)
	}
	defer g.spoolSpace.release(reserved)
	if g.cfg.UploadTimeout > 0 {
		// The body of an upload may take longer than the header deadline allows.
		_ = c.GetConn().SetReadTimeout(g.cfg.UploadTimeout)
	}
	form, err := g.readPublishForm(c, func(token string) error {
		if author == 0 {
			author, err = g.uploader(ctx, c, token, declared)
		}
		return err
	})
	if form.file != nil {
		defer func() {
			form.file.Close()
			os.Remove(form.file.Name())
		}()
	}
	if err != nil {
		return err
	}
	if author == 0 {
		// The file came before the token part, or there was no token at all.
		if author, err = g.uploader(ctx, c, form.token, declared); err != nil {
			return err
		}
	}
	title := strings.TrimSpace(form.title)
	if n := utf8.RuneCountInString(title); n == 0 || n > maxTitleRunes || !utf8.ValidString(title) {
		return errs.Invalid("title must be 1-%d characters", maxTitleRunes)
	}
	if title, err = g.moderate(moderation.VideoTitle, title); err != nil {
		return err
	}
	if form.file == nil {
		return errs.Invalid("data (the video file) is required as a multipart form file")
	}
	size, err := form.file.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = form.file.Seek(0, io.SeekStart)
	}
	if err != nil {
		return wrap("measure upload", err)
	}
	if declared <= 0 {
		if err := g.quota.check(ctx, author, size); err != nil {
			return err
		}
	}
	ext, err := g.checkVideo(ctx, form.file)
	if err != nil {
		return err
	}
	key := "uploads/" + randomHex(16) + ext
	if _, err := g.deps.Blobs.Put(ctx, key, form.file); err != nil {
		g.removeUpload(ctx, key) // a partly written object
		return wrap("store upload", err)
	}
	if _, err := g.deps.Videos.CreateVideo(ctx, &videoapi.CreateVideoRequest{AuthorId: author, Title: title, SourceKey: key}); err != nil {
		g.removeUpload(ctx, key)
		return wrap("create video", err)
	}
	if err := g.quota.add(ctx, author, size); err != nil {
		g.deps.Logger.WarnContext(ctx, "count upload quota", "err", err)
	}
	return nil
}

// uploader authenticates the uploading user, applies the write limit and checks the daily
// quota against the declared size (0 or less: unknown yet).
func (g *Gateway) uploader(ctx context.Context, c *app.RequestContext, token string, declared int64) (int64, error) {
	author, err := g.writer(ctx, c, token)
	if err != nil {
		return 0, err
	}
	if err := g.quota.check(ctx, author, max(declared-formOverheadBytes, 0)); err != nil {
		return 0, err
	}
	return author, nil
}

func errTooLarge() error {
	return errs.New(basecode.ErrCode_PayloadTooLarge, "the video is larger than the upload limit")
}

func (g *Gateway) removeUpload(ctx context.Context, key string) {
	// A cancelled request must not stop the cleanup.
	if err := g.deps.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		g.deps.Logger.WarnContext(ctx, "remove rejected upload", "key", key, "err", err)
	}
}

// finishRejected closes the connection of a rejected upload, as what is left of the stream
// is unknown. The answer is written first; Hertz then discards what the client still sends,
// for at most rejectedDrainTime, so a client busy sending reads the answer rather than a
// reset. A request refused before its body was read is not waited for beyond that either.
func (g *Gateway) finishRejected(c *app.RequestContext) {
	c.SetConnectionClose()
	_ = c.GetConn().SetReadTimeout(rejectedDrainTime)
}

// publishForm is the parsed publish request; file is the spooled video, positioned at 0.
type publishForm struct {
	token, title string
	file         *os.File
}

// readPublishForm parses the multipart body as a stream. Parts may come in any order (some
// clients send the file before the token and title); the token and title may also come in
// the query string, as the app sends them.
//
// authorize is called with the token part as soon as it is read, so a bad token stops the
// request before the file part that follows it is read.
func (g *Gateway) readPublishForm(c *app.RequestContext, authorize func(token string) error) (publishForm, error) {
	form := publishForm{token: string(c.QueryArgs().Peek("token")), title: string(c.QueryArgs().Peek("title"))}
	boundary := string(c.Request.Header.MultipartFormBoundary())
	if boundary == "" {
		return form, errs.Invalid("the upload must be multipart/form-data with the video in field data")
	}
	mr := multipart.NewReader(c.RequestBodyStream(), boundary)
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return form, errs.Invalid("malformed multipart body: %v", err)
		}
		if parts >= maxFormParts {
			return form, errs.Invalid("too many form fields")
		}
		switch name := part.FormName(); name {
		case "data":
			if form.file != nil {
				return form, errs.Invalid("only one file may be uploaded")
			}
			if form.file, err = g.spool(part); err != nil {
				return form, err
			}
		case "token", "title":
			b, err := io.ReadAll(io.LimitReader(part, maxFormFieldBytes+1))
			if err != nil {
				return form, errs.Invalid("malformed multipart body: %v", err)
			}
			if len(b) > maxFormFieldBytes {
				return form, errs.Invalid("form field %s is too long", name)
			}
			if name == "token" {
				form.token = string(b)
				if form.file == nil {
					if err := authorize(form.token); err != nil {
						return form, err
					}
				}
			} else {
				form.title = string(b)
			}
		default:
			// Unknown fields are skipped, within the overall size limits.
			if _, err := io.Copy(io.Discard, io.LimitReader(part, maxFormFieldBytes)); err != nil {
				return form, errs.Invalid("malformed multipart body: %v", err)
			}
		}
		part.Close()
	}
	return form, nil
}

// spool copies the file part to a temporary file, failing with PayloadTooLarge past the limit.
// The returned file is rewound; on error nothing is left on disk.
func (g *Gateway) spool(part io.Reader) (*os.File, error) {
	f, err := os.CreateTemp(g.cfg.UploadTempDir, "upload-*")
	if err != nil {
		return nil, wrap("create upload file", err)
	}
	n, err := io.Copy(f, io.LimitReader(part, g.cfg.MaxUploadBytes+1))
	if err == nil && n > g.cfg.MaxUploadBytes {
		err = errTooLarge()
	} else if err != nil {
		err = errs.Invalid("the upload was interrupted: %v", err)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// checkVideo accepts the spooled file by its magic bytes and, when ffprobe is configured,
// by a decodable video stream, and returns the object extension. The file is rewound.
func (g *Gateway) checkVideo(ctx context.Context, f *os.File) (string, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", wrap("read upload", err)
	}
	ext, ok := videoExtension(head[:n])
	if !ok {
		return "", errNotVideo()
	}
	if g.cfg.FFprobePath != "" {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		args := append(mediatool.InputArgs(), "-v", "error", "-select_streams", "v:0",
			"-show_entries", "stream=codec_type", "-of", "csv=p=0", f.Name())
		name, args := probeLimits.Command(g.prlimit, g.cfg.FFprobePath, args)
		out, err := exec.CommandContext(pctx, name, args...).Output()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit) || (err == nil && strings.TrimSpace(string(out)) != "video"):
			return "", errNotVideo()
		case err != nil && ctx.Err() == nil && pctx.Err() != nil:
			return "", errNotVideo() // ffprobe chewing on it for this long: not a sane video
		case err != nil:
			return "", wrap("probe upload", err)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", wrap("rewind upload", err)
	}
	return ext, nil
}

func errNotVideo() error {
	return errs.New(basecode.ErrCode_UnsupportedMedia, "the file is not a video (MP4, MOV, WebM, MKV, AVI or FLV expected)")
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
	viewer, err := g.viewer(ctx, c, orEmpty(req.Token), false)
	if err != nil {
		return err
	}
	list, err := g.deps.Videos.PublishList(ctx, &videoapi.PublishListRequest{AuthorId: req.UserID, ViewerId: viewer})
	if err != nil {
		return wrap("publish list", err)
	}
	videos, err := g.videos(ctx, g.scopeOf(c), viewer, list.Videos)
	if err != nil {
		return err
	}
	resp.VideoList = videos
	return nil
}
