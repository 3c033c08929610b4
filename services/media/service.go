// Package media is the worker that turns an uploaded video into a playable video with a cover.
package media

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/mediatool"
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
// left at zero take DefaultConfig's values; opts add a logger.
func New(blobs blob.Store, videos videoapi.VideoService, cfg Config, opts ...Option) *Worker {
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
	w := &Worker{
		blobs: blobs, videos: videos, cfg: cfg, log: slog.Default(),
		slots:   make(chan struct{}, cfg.Concurrency),
		jobs:    make(chan event.PublishEvent, cfg.QueueSize),
		pending: map[int64]bool{},
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Option configures the worker.
type Option func(*Worker)

// WithLogger sets where the worker reports what it does (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(w *Worker) { w.log = l }
}
