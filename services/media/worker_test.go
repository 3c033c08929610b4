package media

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
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
	f.worker = New(blobs, f.videos, cfg, nil)
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

func TestProcessRealClips(t *testing.T) {
	cfg := toolsConfig(t)
	asset, err := os.ReadFile(filepath.Join("..", "..", "internal", "seed", "assets", "testsrc.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	// A 0.5 s clip: a seek into it can find no frame, and the worker falls back to the start.
	short := filepath.Join(t.TempDir(), "short.mp4")
	gen := exec.Command(cfg.FFmpegPath, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=0.5",
		"-pix_fmt", "yuv420p", short)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate clip: %v: %s", err, out)
	}
	shortData, err := os.ReadFile(short)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		id            int64
		data          []byte
		width, height int
	}{
		{"seed asset", 7, asset, 360, 640},
		{"clip shorter than the seek", 8, shortData, 320, 240},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cfg)
			f.put(t, "uploads/clip.mp4", tc.data)
			if err := f.worker.Process(context.Background(), event.PublishEvent{VideoId: tc.id, SourceKey: "uploads/clip.mp4"}); err != nil {
				t.Fatal(err)
			}
			call := f.videos.only(t)
			wantCover := "videos/" + strconv.FormatInt(tc.id, 10) + "/cover.jpg"
			wantPlay := "videos/" + strconv.FormatInt(tc.id, 10) + "/720p/play.mp4"
			if call.VideoId != tc.id || call.Status != videoapi.VideoStatus_Ready || call.PlayKey != wantPlay || call.CoverKey != wantCover {
				t.Fatalf("CompleteProcessing(%+v), want ready with play_key %s cover_key %s", call, wantPlay, wantCover)
			}
			if _, err := f.blobs.Open(context.Background(), "uploads/clip.mp4"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("the processed upload is still stored: %v", err)
			}
			if w, h := f.cover(t, wantCover); w != tc.width || h != tc.height {
				t.Fatalf("cover is %dx%d, want the clip's %dx%d", w, h, tc.width, tc.height)
			}
			f.assertNoTempFiles(t)
		})
	}
}

func TestProcessRejectsNonVideo(t *testing.T) {
	tools := toolsConfig(t)
	cases := []struct {
		name string
		cfg  Config
	}{
		{"ffprobe finds no video stream", tools},
		{"ffmpeg alone cannot extract a frame", Config{FFmpegPath: tools.FFmpegPath}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.cfg)
			f.put(t, "uploads/notes.mp4", []byte("this is a text file, not a video\n"))
			if err := f.worker.Process(context.Background(), event.PublishEvent{VideoId: 3, SourceKey: "uploads/notes.mp4"}); err != nil {
				t.Fatalf("a bad file must be acknowledged, got %v", err)
			}
			call := f.videos.only(t)
			if call.Status != videoapi.VideoStatus_Failed || call.FailureReason != "not a playable video" {
				t.Fatalf("CompleteProcessing(%+v), want failed: not a playable video", call)
			}
			f.assertNoCover(t, "3")
			f.assertNoTempFiles(t)
		})
	}
}

func TestProcessAudioOnlyFails(t *testing.T) {
	cfg := toolsConfig(t)
	audio := filepath.Join(t.TempDir(), "tone.m4a")
	gen := exec.Command(cfg.FFmpegPath, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", audio)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate audio: %v: %s", err, out)
	}
	data, err := os.ReadFile(audio)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, cfg)
	f.put(t, "uploads/tone.mp4", data)
	if err := f.worker.Process(context.Background(), event.PublishEvent{VideoId: 4, SourceKey: "uploads/tone.mp4"}); err != nil {
		t.Fatal(err)
	}
	if call := f.videos.only(t); call.Status != videoapi.VideoStatus_Failed {
		t.Fatalf("audio-only upload: %+v, want failed", call)
	}
}

func TestPlaceholderCoverWithoutFFmpeg(t *testing.T) {
	f := newFixture(t, Config{})
	f.put(t, "uploads/any.mp4", []byte("not inspected without tools"))
	if err := f.worker.Process(context.Background(), event.PublishEvent{VideoId: 12, SourceKey: "uploads/any.mp4"}); err != nil {
		t.Fatal(err)
	}
	call := f.videos.only(t)
	if call.Status != videoapi.VideoStatus_Ready || call.CoverKey != "videos/12/cover.jpg" || call.PlayKey != "uploads/any.mp4" {
		t.Fatalf("CompleteProcessing(%+v), want ready with a placeholder cover", call)
	}
	if w, h := f.cover(t, "videos/12/cover.jpg"); w != 360 || h != 640 {
		t.Fatalf("placeholder is %dx%d, want 360x640", w, h)
	}
	f.assertNoTempFiles(t)
}

func TestMissingSourceFails(t *testing.T) {
	f := newFixture(t, Config{})
	if err := f.worker.Process(context.Background(), event.PublishEvent{VideoId: 5, SourceKey: "uploads/gone.mp4"}); err != nil {
		t.Fatal(err)
	}
	if call := f.videos.only(t); call.Status != videoapi.VideoStatus_Failed || call.FailureReason != "uploaded file is missing" {
		t.Fatalf("CompleteProcessing(%+v), want failed: uploaded file is missing", call)
	}
}

func TestCompletionErrors(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		wantRetry bool
		wantCover bool
	}{
		{"video deleted meanwhile: acknowledge and drop the cover", errs.New(base.ErrCode_VideoNotFound, "video not found"), false, false},
		{"video service unreachable: redeliver", errors.New("connection refused"), true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			f.videos.err = tc.err
			f.put(t, "uploads/a.mp4", []byte("x"))
			err := f.worker.Process(context.Background(), event.PublishEvent{VideoId: 6, SourceKey: "uploads/a.mp4"})
			if (err != nil) != tc.wantRetry {
				t.Fatalf("Process = %v, want retry %v", err, tc.wantRetry)
			}
			_, oerr := f.blobs.Open(context.Background(), "videos/6/cover.jpg")
			if (oerr == nil) != tc.wantCover {
				t.Fatalf("cover present = %v, want %v", oerr == nil, tc.wantCover)
			}
			f.assertNoTempFiles(t)
		})
	}
}

func TestSubscribeHandlesPublishEvents(t *testing.T) {
	f := newFixture(t, Config{})
	q := mq.NewMemory()
	if err := f.worker.Subscribe(q); err != nil {
		t.Fatal(err)
	}
	f.put(t, "uploads/b.mp4", []byte("x"))
	// The wire format as the video service has always sent it (JSON; messages already queued).
	body := []byte(`{"video_id":9,"source_key":"uploads/b.mp4"}`)
	if err := q.Publish(context.Background(), mq.TopicPublish, "9", body); err != nil {
		t.Fatal(err)
	}
	if call := f.videos.only(t); call.VideoId != 9 || call.Status != videoapi.VideoStatus_Ready {
		t.Fatalf("CompleteProcessing(%+v), want video 9 ready", call)
	}
	for _, bad := range []string{"{", `{"video_id":0,"source_key":"uploads/b.mp4"}`, `{"video_id":1,"source_key":"../x"}`} {
		if err := q.Publish(context.Background(), mq.TopicPublish, "1", []byte(bad)); err == nil {
			t.Errorf("malformed event %s accepted", bad)
		}
	}
}

// unreachableBlobs fails every read, like object storage timing out.
type unreachableBlobs struct{ blob.Store }

func (unreachableBlobs) Open(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("dial tcp: i/o timeout")
}

func TestStorageFailureIsRedelivered(t *testing.T) {
	f := newFixture(t, Config{})
	w := New(unreachableBlobs{f.blobs}, f.videos, Config{TempDir: f.tmp}, nil)
	if err := w.Process(context.Background(), event.PublishEvent{VideoId: 2, SourceKey: "uploads/a.mp4"}); err == nil {
		t.Fatal("Process succeeded with storage down; want an error so the event is redelivered")
	}
	if len(f.videos.calls) != 0 {
		t.Fatalf("a transient failure reported %+v to the video service", f.videos.calls[0])
	}
	f.assertNoTempFiles(t)
}
