// Package media is the worker that turns an uploaded video into a playable video with a cover.
package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
	"github.com/douyin-backend/douyin/services/video"
)

const (
	consumerGroup = "media"
	// toolTimeout bounds one ffprobe/ffmpeg run; a file that keeps them busy longer is
	// treated as unplayable rather than redelivered forever.
	toolTimeout = 2 * time.Minute
	// Placeholder covers have the app's portrait video shape.
	placeholderWidth, placeholderHeight = 360, 640

	reasonNotPlayable   = "not a playable video"
	reasonSourceMissing = "uploaded file is missing"
)

// errUnplayable marks a file the tools reject: the video is marked failed, not retried.
var errUnplayable = errors.New(reasonNotPlayable)

// Config locates the media tools.
type Config struct {
	// FFmpegPath extracts covers; empty means a generated placeholder cover.
	FFmpegPath string
	// FFprobePath checks that an upload holds a video stream; empty skips the check.
	FFprobePath string
	// TempDir holds working copies; empty means the system temporary directory.
	TempDir string
}

// DefaultConfig finds ffmpeg and ffprobe on PATH; each is empty when not installed.
func DefaultConfig() Config {
	var cfg Config
	if p, err := exec.LookPath("ffmpeg"); err == nil {
		cfg.FFmpegPath = p
	}
	if p, err := exec.LookPath("ffprobe"); err == nil {
		cfg.FFprobePath = p
	}
	return cfg
}

// Worker processes published videos: probe, cover, then CompleteProcessing on the video service.
type Worker struct {
	blobs  blob.Store
	videos videoapi.VideoService
	cfg    Config
}

// New returns a worker reading and writing media in blobs and reporting to videos.
func New(blobs blob.Store, videos videoapi.VideoService, cfg Config) *Worker {
	return &Worker{blobs: blobs, videos: videos, cfg: cfg}
}

// Subscribe registers the worker as the consumer of published videos.
func (w *Worker) Subscribe(c mq.Consumer) error {
	return c.Subscribe(mq.TopicPublish, consumerGroup, w.handle)
}

// handle processes one publish event. It returns an error, asking for redelivery, only for
// transient failures (storage, RPC); a bad file is marked failed and acknowledged.
func (w *Worker) handle(ctx context.Context, body []byte) error {
	var ev video.PublishEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return fmt.Errorf("decode publish event: %w", err)
	}
	if ev.VideoID <= 0 || !blob.ValidKey(ev.SourceKey) {
		return fmt.Errorf("malformed publish event %s", body)
	}
	return w.Process(ctx, ev)
}

// Process turns the uploaded source of ev into a ready (or failed) video.
func (w *Worker) Process(ctx context.Context, ev video.PublishEvent) error {
	dir, err := os.MkdirTemp(w.cfg.TempDir, "media-*")
	if err != nil {
		return fmt.Errorf("create work dir: %w", err)
	}
	defer os.RemoveAll(dir)

	src := filepath.Join(dir, "source")
	err = w.download(ctx, ev.SourceKey, src)
	if errors.Is(err, blob.ErrNotFound) {
		return w.fail(ctx, ev.VideoID, reasonSourceMissing)
	}
	if err != nil {
		return err
	}
	if w.cfg.FFprobePath != "" {
		if err := w.probe(ctx, src); errors.Is(err, errUnplayable) {
			return w.fail(ctx, ev.VideoID, reasonNotPlayable)
		} else if err != nil {
			return err
		}
	}
	playKey, err := w.playbackKey(ctx, ev, src)
	if err != nil {
		return err
	}
	cover := filepath.Join(dir, "cover.jpg")
	if w.cfg.FFmpegPath != "" {
		err = w.extractCover(ctx, src, cover)
	} else {
		err = writePlaceholderCover(cover, ev.VideoID)
	}
	if errors.Is(err, errUnplayable) {
		return w.fail(ctx, ev.VideoID, reasonNotPlayable)
	}
	if err != nil {
		return err
	}
	coverKey := fmt.Sprintf("videos/%d/cover.jpg", ev.VideoID)
	if err := w.upload(ctx, coverKey, cover); err != nil {
		return err
	}
	_, err = w.videos.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{
		VideoId: ev.VideoID, Status: videoapi.VideoStatus_Ready, PlayKey: playKey, CoverKey: coverKey,
	})
	if errs.Is(err, base.ErrCode_VideoNotFound) {
		// The publish was rolled back after enqueueing: nothing will show this cover.
		if derr := w.blobs.Delete(ctx, coverKey); derr != nil {
			return derr
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("complete video %d: %w", ev.VideoID, err)
	}
	return nil
}

// playbackKey returns the object clients play. Today that is the upload itself; the
// transcode to H.264/AAC with +faststart (design §5) slots in here, writing a new object.
func (w *Worker) playbackKey(_ context.Context, ev video.PublishEvent, _ string) (string, error) {
	return ev.SourceKey, nil
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
		return fmt.Errorf("open cover: %w", err)
	}
	defer f.Close()
	if _, err := w.blobs.Put(ctx, key, f); err != nil {
		return fmt.Errorf("store cover: %w", err)
	}
	return nil
}

// probe returns errUnplayable unless ffprobe finds a video stream in path.
func (w *Worker) probe(ctx context.Context, path string) error {
	out, err := runTool(ctx, w.cfg.FFprobePath, "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", path)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "video" {
			return nil
		}
	}
	return errUnplayable
}

// extractCover writes a JPEG frame of src to dst: at one second, which skips black lead-in
// frames, or at the start for clips shorter than that.
func (w *Worker) extractCover(ctx context.Context, src, dst string) error {
	var err error
	for _, at := range []string{"1", "0"} {
		os.Remove(dst)
		// -ss before -i seeks the input quickly. A seek past the end exits 0 but writes
		// nothing, hence the size check.
		_, err = runTool(ctx, w.cfg.FFmpegPath, "-hide_banner", "-loglevel", "error", "-y",
			"-ss", at, "-i", src, "-frames:v", "1", "-q:v", "3", dst)
		if err != nil && !errors.Is(err, errUnplayable) {
			return err
		}
		if err == nil {
			if st, serr := os.Stat(dst); serr == nil && st.Size() > 0 {
				return nil
			}
		}
	}
	return errUnplayable
}

// runTool runs a media tool and returns its stdout. A tool that rejects the file (non-zero
// exit, or our own time limit) gives errUnplayable; failing to run it at all, or the
// caller's cancellation, is a transient error.
func runTool(ctx context.Context, path string, args ...string) (string, error) {
	tctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(tctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s: %w", filepath.Base(path), ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) || tctx.Err() != nil {
		return "", fmt.Errorf("%w: %s: %s", errUnplayable, filepath.Base(path), lastLine(stderr.String()))
	}
	return "", fmt.Errorf("run %s: %w", filepath.Base(path), err)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
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
