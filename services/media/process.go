package media

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// errUnplayable marks a file the tools reject: the video is marked failed, not retried.
var errUnplayable = errors.New(reasonNotPlayable)

// Process turns the uploaded source of ev into a ready (or failed) video: an MP4 per
// rendition at videos/<id>/<rendition>/play.mp4 and the cover at videos/<id>/cover.jpg. It
// is idempotent: outputs are overwritten and only a processing video changes state.
func (w *Worker) Process(ctx context.Context, ev event.PublishEvent) error {
	select {
	case w.slots <- struct{}{}:
		defer func() { <-w.slots }()
	case <-ctx.Done():
		return fmt.Errorf("wait for a media slot: %w", ctx.Err())
	}
	dir, err := os.MkdirTemp(w.cfg.TempDir, "media-*")
	if err != nil {
		return fmt.Errorf("create work dir: %w", err)
	}
	defer os.RemoveAll(dir)

	src := filepath.Join(dir, "source")
	err = w.download(ctx, ev.SourceKey, src)
	if errors.Is(err, blob.ErrNotFound) {
		return w.fail(ctx, ev.VideoId, reasonSourceMissing)
	}
	if err != nil {
		return err
	}
	out, err := w.render(ctx, ev, dir, src)
	if errors.Is(err, errUnplayable) {
		w.log.InfoContext(ctx, "video not playable", "video_id", ev.VideoId, "err", err)
		return w.fail(ctx, ev.VideoId, reasonNotPlayable)
	}
	if err != nil {
		return err
	}
	playKey := out.playKey
	_, err = w.videos.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{
		VideoId: ev.VideoId, Status: videoapi.VideoStatus_Ready, PlayKey: playKey, CoverKey: out.coverKey,
		Renditions: out.renditions,
	})
	if errs.Is(err, base.ErrCode_VideoNotFound) {
		// The publish was rolled back after enqueueing: nothing will show these outputs.
		for _, key := range out.keys() {
			if key == ev.SourceKey {
				continue
			}
			if derr := w.blobs.Delete(ctx, key); derr != nil {
				return derr
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("complete video %d: %w", ev.VideoId, err)
	}
	if playKey != ev.SourceKey {
		// Nothing references the upload any more; a failed delete only wastes space.
		if derr := w.blobs.Delete(ctx, ev.SourceKey); derr != nil {
			w.log.WarnContext(ctx, "remove processed upload", "key", ev.SourceKey, "err", derr)
		}
	}
	return nil
}

// rendered is what render stored.
type rendered struct {
	playKey, coverKey string
	// renditions is empty without ffprobe (their sizes are unknown) or without ffmpeg.
	renditions []*videoapi.RenditionFile
	// mp4Keys are the stored renditions, listed or not.
	mp4Keys []string
}

func (r rendered) keys() []string { return append([]string{r.coverKey}, r.mp4Keys...) }

// renditionKey names rendition name of a video: keys differ only by the resolution segment.
func renditionKey(videoID int64, name string) string {
	return fmt.Sprintf("videos/%d/%s/play.mp4", videoID, name)
}

// render stores the renditions and the cover of src and returns their keys.
func (w *Worker) render(ctx context.Context, ev event.PublishEvent, dir, src string) (rendered, error) {
	out := rendered{coverKey: fmt.Sprintf("videos/%d/cover.jpg", ev.VideoId)}
	cover := filepath.Join(dir, "cover.jpg")
	if w.cfg.FFmpegPath == "" {
		if err := writePlaceholderCover(cover, ev.VideoId); err != nil {
			return out, err
		}
		if err := w.upload(ctx, out.coverKey, cover); err != nil {
			return out, err
		}
		out.playKey = ev.SourceKey
		return out, nil
	}
	var info probeInfo
	if w.cfg.FFprobePath != "" {
		var err error
		if info, err = w.probe(ctx, src); err != nil {
			return out, err
		}
	}
	var outs []renditionOutput
	defaultPath := ""
	for _, r := range renditions() {
		o := renditionOutput{rendition: r, path: filepath.Join(dir, r.name+".mp4")}
		outs = append(outs, o)
		if r.name == w.cfg.DefaultRendition {
			defaultPath = o.path
		}
	}
	if err := w.transcode(ctx, src, outs, info); err != nil {
		return out, err
	}
	// The cover comes from the rendition clients play, so it has the same size and is
	// decoded from at most 720p.
	if err := w.extractCover(ctx, defaultPath, cover, info.Duration); err != nil {
		return out, err
	}
	for _, o := range outs {
		key := renditionKey(ev.VideoId, o.name)
		if err := w.upload(ctx, key, o.path); err != nil {
			return out, err
		}
		out.mp4Keys = append(out.mp4Keys, key)
		if o.name == w.cfg.DefaultRendition {
			out.playKey = key
		}
		if info.Width > 0 {
			width, height := o.fit(info.Width, info.Height)
			out.renditions = append(out.renditions, &videoapi.RenditionFile{Height: int32(height), Width: int32(width), Key: key})
		}
	}
	if err := w.upload(ctx, out.coverKey, cover); err != nil {
		return out, err
	}
	return out, nil
}

// fail marks the video failed. A video that no longer exists needs nothing.
func (w *Worker) fail(ctx context.Context, videoID int64, reason string) error {
	_, err := w.videos.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{
		VideoId: videoID, Status: videoapi.VideoStatus_Failed, FailureReason: reason,
	})
	if err != nil && !errs.Is(err, base.ErrCode_VideoNotFound) {
		return fmt.Errorf("mark video %d failed: %w", videoID, err)
	}
	return nil
}

func (w *Worker) download(ctx context.Context, key, path string) error {
	r, err := w.blobs.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("open %s: %w", key, err)
	}
	defer r.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create work file: %w", err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", key, err)
	}
	return nil
}

func (w *Worker) upload(ctx context.Context, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open output: %w", err)
	}
	defer f.Close()
	if _, err := w.blobs.Put(ctx, key, f); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

// placeholderPalette holds the cover colours when ffmpeg is absent; the video id picks one,
// so neighbouring videos in the feed look different.
var placeholderPalette = []color.RGBA{
	{0xE5, 0x73, 0x73, 0xFF}, {0xBA, 0x68, 0xC8, 0xFF}, {0x79, 0x86, 0xCB, 0xFF}, {0x4F, 0xC3, 0xF7, 0xFF},
	{0x4D, 0xB6, 0xAC, 0xFF}, {0xAE, 0xD5, 0x81, 0xFF}, {0xFF, 0xD5, 0x4F, 0xFF}, {0xFF, 0x8A, 0x65, 0xFF},
}

// writePlaceholderCover writes a solid-colour portrait JPEG, which design §4 allows in the
// embedded mode without ffmpeg.
func writePlaceholderCover(path string, videoID int64) error {
	img := image.NewRGBA(image.Rect(0, 0, placeholderWidth, placeholderHeight))
	c := placeholderPalette[uint64(videoID)%uint64(len(placeholderPalette))]
	draw.Draw(img, img.Bounds(), &image.Uniform{C: c}, image.Point{}, draw.Src)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create placeholder cover: %w", err)
	}
	err = jpeg.Encode(f, img, &jpeg.Options{Quality: 85})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("encode placeholder cover: %w", err)
	}
	return nil
}
