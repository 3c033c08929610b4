package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/blob"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// fakeVideos records CreateVideo calls.
type fakeVideos struct {
	videoapi.VideoService // other methods are not used and panic if called
	mu                    sync.Mutex
	created               []*videoapi.CreateVideoRequest
}

func (f *fakeVideos) CreateVideo(_ context.Context, req *videoapi.CreateVideoRequest) (*videoapi.CreateVideoResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, req)
	return &videoapi.CreateVideoResponse{VideoId: int64(len(f.created))}, nil
}

type edge struct {
	base    string
	videos  *fakeVideos
	blobDir string
	tmpDir  string
	token   string
}

// startEdge serves a real gateway on a loopback port: the streaming upload path only exists
// behind a real listener (ut.PerformRequest bypasses the body reader).
func startEdge(t *testing.T, maxUpload int64) *edge {
	t.Helper()
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatal("ffprobe must be on PATH for the publish tests (scripts/deps.sh installs ffmpeg)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	e := &edge{base: "http://" + addr, videos: &fakeVideos{}, blobDir: t.TempDir(), tmpDir: t.TempDir()}
	blobs, err := blob.NewLocal(e.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	if e.token, err = tokens.Issue(42); err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{
		Addr: addr, MaxUploadBytes: maxUpload, UploadTempDir: e.tmpDir, FFprobePath: ffprobe,
		TimeZone: "UTC", ShutdownGrace: time.Second,
	}, Deps{Videos: e.videos, Blobs: blobs, Tokens: tokens, LocalMediaDir: e.blobDir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(e.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not serving within 10s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return e
}

type testEnvelope struct {
	StatusCode int    `json:"status_code"`
	StatusMsg  string `json:"status_msg"`
}

// post sends a multipart publish with the parts in the given order.
func (e *edge) post(t *testing.T, parts [][2]string, file []byte) (int, testEnvelope) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		if p[0] == "data" {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="data"; filename="x.mp4"`)
			h.Set("Content-Type", "video/mp4")
			w, _ := mw.CreatePart(h)
			w.Write(file)
			continue
		}
		mw.WriteField(p[0], p[1])
	}
	mw.Close()
	resp, err := http.Post(e.base+"/douyin/publish/action/", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env testEnvelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("HTTP %d: body is not the JSON envelope: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, env
}

// assertNothingLeft fails when an upload left an object, a temp file or a video behind.
func (e *edge) assertNothingLeft(t *testing.T) {
	t.Helper()
	var objects []string
	filepath.WalkDir(e.blobDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			objects = append(objects, p)
		}
		return nil
	})
	if len(objects) != 0 {
		t.Errorf("objects left in the blob store: %v", objects)
	}
	if left, _ := os.ReadDir(e.tmpDir); len(left) != 0 {
		t.Errorf("%d temporary files left", len(left))
	}
	e.videos.mu.Lock()
	defer e.videos.mu.Unlock()
	if len(e.videos.created) != 0 {
		t.Errorf("videos created: %+v", e.videos.created)
	}
}

func makeTestClip(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "clip.mp4")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=1:size=320x240:rate=25",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg must be on PATH (scripts/deps.sh installs it): %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPublishStreamsUploadInAnyFieldOrder(t *testing.T) {
	e := startEdge(t, 10<<20)
	clip := makeTestClip(t)
	// The file first, then the token and title.
	status, env := e.post(t, [][2]string{{"data", ""}, {"title", "  hello  "}, {"token", e.token}}, clip)
	if status != http.StatusOK || env.StatusCode != 0 {
		t.Fatalf("publish: HTTP %d %+v, want 200 success", status, env)
	}
	e.videos.mu.Lock()
	defer e.videos.mu.Unlock()
	if len(e.videos.created) != 1 {
		t.Fatalf("%d videos created, want 1", len(e.videos.created))
	}
	req := e.videos.created[0]
	if req.AuthorId != 42 || req.Title != "hello" || !strings.HasPrefix(req.SourceKey, "uploads/") || !strings.HasSuffix(req.SourceKey, ".mp4") {
		t.Fatalf("CreateVideo(%+v), want author 42, trimmed title, an uploads/*.mp4 key", req)
	}
	stored, err := os.ReadFile(filepath.Join(e.blobDir, filepath.FromSlash(req.SourceKey)))
	if err != nil || !bytes.Equal(stored, clip) {
		t.Fatalf("stored upload differs from the clip (%d vs %d bytes): %v", len(stored), len(clip), err)
	}
	if left, _ := os.ReadDir(e.tmpDir); len(left) != 0 {
		t.Errorf("%d temporary files left after a successful upload", len(left))
	}
}

func TestPublishRejectsAndLeavesNothing(t *testing.T) {
	const limit = 64 << 10
	e := startEdge(t, limit)
	clip := makeTestClip(t)
	if len(clip) > limit {
		t.Fatalf("test clip of %d bytes exceeds the %d limit", len(clip), limit)
	}
	text := []byte(strings.Repeat("this is plain text, not a video\n", 64))
	// Magic bytes of an MP4 followed by garbage: only ffprobe can tell.
	fakeMP4 := append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), bytes.Repeat([]byte{0x42}, 4096)...)
	oversize := append(bytes.Clone(clip), make([]byte, limit+1-len(clip))...)
	cases := []struct {
		name       string
		parts      [][2]string
		file       []byte
		httpStatus int
		code       int
		msg        string
	}{
		{"text file named x.mp4", [][2]string{{"token", e.token}, {"title", "t"}, {"data", ""}}, text, 200, 10010, "not a video"},
		{"MP4 header over garbage", [][2]string{{"token", e.token}, {"title", "t"}, {"data", ""}}, fakeMP4, 200, 10010, "not a video"},
		{"one byte over the limit", [][2]string{{"token", e.token}, {"title", "t"}, {"data", ""}}, oversize, 413, 10011, "larger than the upload limit"},
		{"empty title", [][2]string{{"token", e.token}, {"title", " \t "}, {"data", ""}}, clip, 200, 10001, "title"},
		{"101-character title", [][2]string{{"token", e.token}, {"title", strings.Repeat("题", 101)}, {"data", ""}}, clip, 200, 10001, "title"},
		{"missing token", [][2]string{{"title", "t"}, {"data", ""}}, clip, 401, 10002, "token"},
		{"missing file", [][2]string{{"token", e.token}, {"title", "t"}}, nil, 200, 10001, "data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, env := e.post(t, tc.parts, tc.file)
			if status != tc.httpStatus || env.StatusCode != tc.code || !strings.Contains(env.StatusMsg, tc.msg) {
				t.Errorf("HTTP %d %+v, want HTTP %d status_code %d mentioning %q", status, env, tc.httpStatus, tc.code, tc.msg)
			}
			e.assertNothingLeft(t)
		})
	}
}

func TestSmallBodiesAreLimited(t *testing.T) {
	e := startEdge(t, 1<<20)
	big := strings.NewReader("token=" + strings.Repeat("a", maxSmallBodyBytes))
	resp, err := http.Post(e.base+"/douyin/comment/action/", "application/x-www-form-urlencoded", big)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env testEnvelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge || env.StatusCode != 10011 {
		t.Fatalf("oversize form: HTTP %d %+v %v, want 413 with the envelope", resp.StatusCode, env, err)
	}
}

func TestLocalMediaServing(t *testing.T) {
	e := startEdge(t, 1<<20)
	clip := makeTestClip(t)
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}
	for name, data := range map[string][]byte{"videos/1/play.mp4": clip, "videos/1/cover.jpg": jpeg} {
		p := filepath.Join(e.blobDir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path, rng string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, e.base+blob.MediaPathPrefix+path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := get("videos/1/play.mp4", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp4" || !bytes.Equal(b, clip) {
		t.Fatalf("GET play.mp4: HTTP %d Content-Type %q, %d bytes; want 200 video/mp4 with the file", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q, want immutable", cc)
	}
	resp, b = get("videos/1/play.mp4", "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, clip[100:200]) ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(clip)) {
		t.Fatalf("Range bytes=100-199: HTTP %d Content-Range %q, %d bytes; want 206 with bytes 100-199", resp.StatusCode, resp.Header.Get("Content-Range"), len(b))
	}
	resp, _ = get("videos/1/cover.jpg", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET cover.jpg: HTTP %d Content-Type %q, want 200 image/jpeg", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
