package media

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

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
