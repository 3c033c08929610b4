package media

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/blob"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// fakeVideos records CompleteProcessing calls and answers with err.
type fakeVideos struct {
	videoapi.VideoService // other methods are not used and panic if called
	mu                    sync.Mutex
	calls                 []*videoapi.CompleteProcessingRequest
	err                   error
}

func (f *fakeVideos) CompleteProcessing(_ context.Context, req *videoapi.CompleteProcessingRequest) (*videoapi.CompleteProcessingResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, req)
	if f.err != nil {
		return nil, f.err
	}
	return &videoapi.CompleteProcessingResponse{}, nil
}

func (f *fakeVideos) only(t *testing.T) *videoapi.CompleteProcessingRequest {
	t.Helper()
	if len(f.calls) != 1 {
		t.Fatalf("%d CompleteProcessing calls, want 1", len(f.calls))
	}
	return f.calls[0]
}

type fixture struct {
	worker *Worker
	blobs  *blob.Local
	videos *fakeVideos
	tmp    string
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	blobs, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{blobs: blobs, videos: &fakeVideos{}, tmp: t.TempDir()}
	cfg.TempDir = f.tmp
	f.worker = New(blobs, f.videos, cfg)
	return f
}

// toolsConfig requires ffmpeg and ffprobe: a missing tool fails the test rather than skipping
// the code path production depends on.
func toolsConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	if cfg.FFmpegPath == "" || cfg.FFprobePath == "" {
		t.Fatal("ffmpeg and ffprobe must be on PATH for the media tests (apt-get install ffmpeg)")
	}
	return cfg
}

func (f *fixture) put(t *testing.T, key string, data []byte) {
	t.Helper()
	if _, err := f.blobs.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

// cover reads the stored cover of a video, asserts it is a JPEG and returns its size.
func (f *fixture) cover(t *testing.T, key string) (width, height int) {
	t.Helper()
	r, err := f.blobs.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("cover %s: %v", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}) {
		t.Fatalf("cover %s does not start with the JPEG magic: % x", key, data[:min(len(data), 3)])
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("cover %s does not decode: %v", key, err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func (f *fixture) assertNoTempFiles(t *testing.T) {
	t.Helper()
	left, err := os.ReadDir(f.tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("%d temporary entries left behind", len(left))
	}
}

func (f *fixture) assertNoCover(t *testing.T, id string) {
	t.Helper()
	if _, err := f.blobs.Open(context.Background(), "videos/"+id+"/cover.jpg"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("cover of video %s stored: %v", id, err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	if err := good.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for _, mutate := range []func(*Config){
		func(c *Config) { c.Concurrency = 0 },
		func(c *Config) { c.Niceness = 20 },
		func(c *Config) { c.TranscodeTimeout = 0 },
		func(c *Config) { c.Threads = -1 },
		func(c *Config) { c.DefaultRendition = "1080p" },
	} {
		c := DefaultConfig()
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("invalid config %+v accepted", c)
		}
	}
}
