// Package media is the worker that turns an uploaded video into a playable video with a cover.
package media

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/mediatool"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

const (
	consumerGroup = "media"
	// probeTimeout bounds ffprobe and the cover extraction, which take well under a second on
	// a sane file; transcoding is bounded by Config.TranscodeTimeout.
	probeTimeout = 2 * time.Minute
	// Placeholder covers have the app's portrait video shape.
	placeholderWidth, placeholderHeight = 360, 640
	// The largest rendition fits a 720p box: 1280x720 for landscape clips, 720x1280 for the
	// portrait clips the app mostly shows.
	maxLongSide, maxShortSide = 1280, 720
	// coverPosition is where the cover frame is taken, as a fraction of the duration: past
	// fade-ins and black lead-in frames, still early enough to represent the clip.
	coverPosition = 0.10

	reasonNotPlayable   = "not a playable video"
	reasonSourceMissing = "uploaded file is missing"
)

// errUnplayable marks a file the tools reject: the video is marked failed, not retried.
var errUnplayable = errors.New(reasonNotPlayable)

// Config holds the worker's tools and limits.
type Config struct {
	// FFmpegPath transcodes and extracts covers; empty means the upload is played as is with
	// a generated placeholder cover (the embedded mode without ffmpeg, design §4).
	FFmpegPath string
	// FFprobePath checks that an upload holds a video stream and reads its codecs; empty
	// skips the check and always transcodes.
	FFprobePath string
	// NicePath runs the tools at a lower CPU priority; empty runs them at normal priority.
	NicePath string
	// TempDir holds working copies; empty means the system temporary directory.
	TempDir string
	// Concurrency is how many videos are processed at once.
	Concurrency int
	// Threads caps ffmpeg's threads per transcode (0: ffmpeg's choice, one per core).
	Threads int
	// Niceness is the CPU priority adjustment of the tools (0: unchanged).
	Niceness int
	// ToolLimits bound every ffmpeg and ffprobe run (through prlimit at PrlimitPath; empty:
	// not applied).
	ToolLimits  mediatool.Limits
	PrlimitPath string
	// TranscodeTimeout bounds one transcode; a file that takes longer is treated as unplayable.
	TranscodeTimeout time.Duration
	// QueueSize bounds the videos waiting for the in-process pool (SubscribeQueued).
	QueueSize int
	// RetryBackoff is the first pause before the in-process pool retries a transient failure;
	// it doubles per attempt. After RetryAttempts the video is left to the video service's
	// sweeper, which re-enqueues it later.
	RetryBackoff  time.Duration
	RetryAttempts int
	// DefaultRendition names the rendition play_url points at (one of renditionNames()).
	DefaultRendition string
}

// DefaultConfig finds ffmpeg, ffprobe and nice on PATH (each empty when not installed) and
// sets limits that keep two cores responsive while a video is transcoded.
func DefaultConfig() Config {
	cfg := Config{
		Concurrency: 1, Threads: 2, Niceness: 10, TranscodeTimeout: 10 * time.Minute,
		QueueSize: 256, RetryBackoff: time.Second, RetryAttempts: 5, DefaultRendition: "720p",
	}
	cfg.FFmpegPath, cfg.FFprobePath = "ffmpeg", "ffprobe"
	cfg.NicePath, _ = exec.LookPath("nice")
	cfg.PrlimitPath = mediatool.FindPrlimit()
	// About what a 720p transcode of a 100 MiB upload needs, with room to spare.
	cfg.ToolLimits = mediatool.Limits{CPUSeconds: 1200, MemoryBytes: 2 << 30, FileBytes: 1 << 30}
	return cfg
}

// lookTool resolves a tool name or path to an executable on PATH; "" when it is not there,
// which the worker treats as the tool being absent.
func lookTool(name string) string {
	if name == "" {
		return ""
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

// RegisterFlags registers the worker's settings with the receiver's values as defaults, so
// call it on DefaultConfig().
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.FFmpegPath, "media.ffmpeg", c.FFmpegPath, "ffmpeg to run, a name looked up on PATH at start or a path; it transcodes uploads and extracts covers (empty or not found: play uploads as they are, with placeholder covers)")
	fs.StringVar(&c.FFprobePath, "media.ffprobe", c.FFprobePath, "ffprobe to run, a name looked up on PATH at start or a path; it checks uploads and picks remux or transcode (empty or not found: always transcode)")
	fs.StringVar(&c.TempDir, "media.temp-dir", c.TempDir, "directory for working copies of videos (empty: the system temporary directory)")
	fs.IntVar(&c.Concurrency, "media.concurrency", c.Concurrency, "videos processed at once by this process")
	fs.IntVar(&c.Threads, "media.ffmpeg-threads", c.Threads, "threads per ffmpeg transcode (0: one per core); with media.concurrency it bounds the CPU the worker takes")
	fs.Int64Var(&c.ToolLimits.CPUSeconds, "media.tool-cpu-seconds", c.ToolLimits.CPUSeconds, "CPU seconds one ffmpeg or ffprobe run may use, all threads together (0: unlimited)")
	fs.Int64Var(&c.ToolLimits.MemoryBytes, "media.tool-memory-bytes", c.ToolLimits.MemoryBytes, "address space of one ffmpeg or ffprobe run (0: unlimited)")
	fs.Int64Var(&c.ToolLimits.FileBytes, "media.tool-file-bytes", c.ToolLimits.FileBytes, "largest file one ffmpeg run may write (0: unlimited)")
	fs.IntVar(&c.Niceness, "media.nice", c.Niceness, "CPU niceness of ffmpeg and ffprobe (0-19, 0: normal priority), so requests stay responsive while transcoding")
	fs.DurationVar(&c.TranscodeTimeout, "media.transcode-timeout", c.TranscodeTimeout, "longest transcode of one video; a file taking longer is marked failed")
	fs.IntVar(&c.QueueSize, "media.queue-size", c.QueueSize, "videos waiting for processing in the embedded mode before uploads wait")
	fs.DurationVar(&c.RetryBackoff, "media.retry-backoff", c.RetryBackoff, "first pause before the embedded mode retries a transient failure, doubled per attempt")
	fs.IntVar(&c.RetryAttempts, "media.retry-attempts", c.RetryAttempts, "attempts of the embedded mode per video before it is left to the video sweeper")
	fs.StringVar(&c.DefaultRendition, "media.default-rendition", c.DefaultRendition, "rendition play_url points at, one of "+strings.Join(renditionNames(), ", ")+" (every rendition is listed in the video's renditions)")
}

// Validate checks the limits.
func (c *Config) Validate() error {
	switch {
	case c.Concurrency < 1:
		return errors.New("media.concurrency must be at least 1")
	case c.Threads < 0:
		return errors.New("media.ffmpeg-threads must not be negative")
	case c.Niceness < 0 || c.Niceness > 19:
		return errors.New("media.nice must be in 0..19")
	case c.ToolLimits.CPUSeconds < 0 || c.ToolLimits.MemoryBytes < 0 || c.ToolLimits.FileBytes < 0:
		return errors.New("media.tool-* limits must not be negative")
	case c.TranscodeTimeout <= 0:
		return errors.New("media.transcode-timeout must be positive")
	case c.QueueSize < 1:
		return errors.New("media.queue-size must be at least 1")
	case c.RetryBackoff <= 0 || c.RetryAttempts < 1:
		return errors.New("media.retry-backoff must be positive and media.retry-attempts at least 1")
	case !slices.Contains(renditionNames(), c.DefaultRendition):
		return fmt.Errorf("media.default-rendition must be one of %s", strings.Join(renditionNames(), ", "))
	}
	return nil
}

// Worker processes published videos: probe, transcode, cover, then CompleteProcessing on the
// video service.
type Worker struct {
	blobs  blob.Store
	videos videoapi.VideoService
	cfg    Config
	log    *slog.Logger
	// slots is the concurrency limit shared by every way work arrives.
	slots chan struct{}
	// jobs feeds the in-process pool (SubscribeQueued); pending holds the ids queued or in
	// progress there, so a sweeper's re-enqueue of a video being processed is dropped.
	jobs    chan event.PublishEvent
	mu      sync.Mutex
	pending map[int64]bool
	// running is set while Run's pool works; before that the queued handler processes inline.
	running atomic.Bool
}

// New returns a worker reading and writing media in blobs and reporting to videos. Limits
// left at zero take DefaultConfig's values; a nil log means slog.Default().
func New(blobs blob.Store, videos videoapi.VideoService, cfg Config, log *slog.Logger) *Worker {
	cfg.FFmpegPath, cfg.FFprobePath = lookTool(cfg.FFmpegPath), lookTool(cfg.FFprobePath)
	def := DefaultConfig()
	if cfg.Concurrency < 1 {
		cfg.Concurrency = def.Concurrency
	}
	if cfg.TranscodeTimeout <= 0 {
		cfg.TranscodeTimeout = def.TranscodeTimeout
	}
	if cfg.QueueSize < 1 {
		cfg.QueueSize = def.QueueSize
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = def.RetryBackoff
	}
	if cfg.RetryAttempts < 1 {
		cfg.RetryAttempts = def.RetryAttempts
	}
	if !slices.Contains(renditionNames(), cfg.DefaultRendition) {
		cfg.DefaultRendition = def.DefaultRendition
	}
	if log == nil {
		log = slog.Default()
	}
	return &Worker{
		blobs: blobs, videos: videos, cfg: cfg, log: log,
		slots:   make(chan struct{}, cfg.Concurrency),
		jobs:    make(chan event.PublishEvent, cfg.QueueSize),
		pending: map[int64]bool{},
	}
}

// Subscribe registers the worker as the synchronous consumer of published videos: the
// handler returns once the video is processed, so a broker (RocketMQ) commits the message
// only then and a worker killed mid-transcode gets it again after restart.
func (w *Worker) Subscribe(c mq.Consumer) error {
	return c.Subscribe(mq.TopicPublish, consumerGroup, w.handle)
}

// SubscribeQueued registers a handler that only queues the video for Run's pool. It is for
// the in-process queue, which runs handlers inside Publish: processing there would hold the
// upload request for the whole transcode. Durability comes from the video row, which stays
// processing until the worker finishes, and from the video service's sweeper.
//
// Until Run starts, the handler processes inline instead: start-up work such as seeding
// demo content publishes videos and then likes them, which needs them ready.
func (w *Worker) SubscribeQueued(c mq.Consumer) error {
	return c.Subscribe(mq.TopicPublish, consumerGroup, func(ctx context.Context, body []byte) error {
		ev, err := decodeEvent(body)
		if err != nil {
			return err
		}
		if !w.running.Load() {
			return w.Process(ctx, ev)
		}
		return w.enqueue(ctx, ev)
	})
}

// enqueue hands ev to the pool, waiting while the queue is full (back-pressure on uploads).
func (w *Worker) enqueue(ctx context.Context, ev event.PublishEvent) error {
	w.mu.Lock()
	if w.pending[ev.VideoId] {
		w.mu.Unlock()
		return nil
	}
	w.pending[ev.VideoId] = true
	w.mu.Unlock()
	select {
	case w.jobs <- ev:
		return nil
	case <-ctx.Done():
		w.done(ev.VideoId)
		return fmt.Errorf("queue video %d: %w", ev.VideoId, ctx.Err())
	}
}

func (w *Worker) done(id int64) {
	w.mu.Lock()
	delete(w.pending, id)
	w.mu.Unlock()
}

// Run is the in-process pool behind SubscribeQueued: it processes queued videos until ctx
// ends, retrying transient failures with exponential backoff. A video unfinished at shutdown
// stays processing, and the sweeper re-enqueues it on the next start.
func (w *Worker) Run(ctx context.Context) error {
	w.running.Store(true)
	defer w.running.Store(false)
	var wg sync.WaitGroup
	for range w.cfg.Concurrency {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-w.jobs:
					w.processWithRetries(ctx, ev)
					w.done(ev.VideoId)
				}
			}
		})
	}
	wg.Wait()
	return nil
}

func (w *Worker) processWithRetries(ctx context.Context, ev event.PublishEvent) {
	backoff := w.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		err := w.Process(ctx, ev)
		if err == nil || ctx.Err() != nil {
			return
		}
		if attempt >= w.cfg.RetryAttempts {
			w.log.ErrorContext(ctx, "process video: left to the sweeper", "video_id", ev.VideoId, "attempts", attempt, "err", err)
			return
		}
		w.log.WarnContext(ctx, "process video: will retry", "video_id", ev.VideoId, "attempt", attempt, "backoff", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// handle processes one publish event. It returns an error, asking for redelivery, only for
// transient failures (storage, RPC); a bad file is marked failed and acknowledged.
func (w *Worker) handle(ctx context.Context, body []byte) error {
	ev, err := decodeEvent(body)
	if err != nil {
		return err
	}
	return w.Process(ctx, ev)
}

func decodeEvent(body []byte) (event.PublishEvent, error) {
	var ev event.PublishEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, fmt.Errorf("decode publish event: %w", err)
	}
	if ev.VideoId <= 0 || !blob.ValidKey(ev.SourceKey) {
		return ev, fmt.Errorf("malformed publish event %s", body)
	}
	return ev, nil
}

// Process turns the uploaded source of ev into a ready (or failed) video: the playable MP4
// at videos/<id>/play.mp4 and the cover at videos/<id>/cover.jpg. It is idempotent: outputs
// are overwritten and only a processing video changes state.
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
