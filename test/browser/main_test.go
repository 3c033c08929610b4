// Package browser drives the web app in a real Chromium (Debian's chromium, through chromedp)
// through what a person does: register and log in, watch, like, comment, follow, check the
// profile, chat between two browsers, and publish.
//
// With DOUYIN_E2E_BASE_URL set the test runs against that deployment; otherwise it builds
// cmd/douyin and starts it on a free loopback port with a fresh data dir. Screenshots of every
// step go to .run/browser-artifacts/<placement>-<time>/, with the console log of a failure.
package browser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const baseURLEnv = "DOUYIN_E2E_BASE_URL"

var (
	baseURL   string
	repoRoot  string
	placement string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	root, err := findRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser:", err)
		return 1
	}
	repoRoot = root
	if base := os.Getenv(baseURLEnv); base != "" {
		baseURL, placement = strings.TrimRight(base, "/"), "deployment"
		if err := waitReady(baseURL, nil); err != nil {
			fmt.Fprintf(os.Stderr, "browser: deployment at %s is not ready: %v\n", baseURL, err)
			return 1
		}
		return m.Run()
	}
	placement = "embedded"
	tmp, err := os.MkdirTemp("", "douyin-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "douyin")
	build := exec.Command("go", "build", "-o", bin, "github.com/douyin-backend/douyin/cmd/douyin")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "browser: go build ./cmd/douyin failed: %v\n%s\n", err, out)
		return 1
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser:", err)
		return 1
	}
	addr := l.Addr().String()
	l.Close()
	logPath := filepath.Join(tmp, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser:", err)
		return 1
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "-http.addr", addr, "-admin.addr", "127.0.0.1:0", "-data.dir", filepath.Join(tmp, "data"),
		"-seed.enabled=false", "-http.auth-rate-per-minute=0")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "browser: start server:", err)
		return 1
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	baseURL = "http://" + addr
	if err := waitReady(baseURL, exited); err != nil {
		stop()
		out, _ := os.ReadFile(logPath)
		fmt.Fprintf(os.Stderr, "browser: server not ready: %v\n%s\n", err, out)
		return 1
	}
	code := m.Run()
	stop()
	if code != 0 {
		out, _ := os.ReadFile(logPath)
		if len(out) > 16<<10 {
			out = out[len(out)-16<<10:]
		}
		fmt.Fprintf(os.Stderr, "browser: server log (tail):\n%s\n", out)
	}
	return code
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work found above the working directory")
		}
		dir = parent
	}
}

func waitReady(base string, exited <-chan struct{}) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /readyz: HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-exited:
			return errors.New("process exited before it was ready")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// apiCall is a setup call over plain HTTP (what the browser does is tested in the browser).
func apiCall(t *testing.T, method, path string, params url.Values, body *bytes.Buffer, contentType string) map[string]any {
	t.Helper()
	u := baseURL + path
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(method, u+"?"+params.Encode(), body)
		req.Header.Set("Content-Type", contentType)
	} else {
		req, err = http.NewRequest(method, u+"?"+params.Encode(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: HTTP %d, not JSON: %v", method, path, resp.StatusCode, err)
	}
	if code, _ := out["status_code"].(float64); code != 0 {
		t.Fatalf("%s %s: status %v %v", method, path, out["status_code"], out["status_msg"])
	}
	return out
}

// makeClip writes a short H.264/AAC clip with ffmpeg (installed by scripts/deps.sh).
func makeClip(t *testing.T, seconds int, pattern string) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is needed to make test clips: run scripts/deps.sh")
	}
	path := filepath.Join(t.TempDir(), pattern+".mp4")
	d := fmt.Sprint(seconds)
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", pattern+"=duration="+d+":size=480x854:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=330:duration="+d,
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return path
}

// publishClip publishes a clip over HTTP and waits until it is listed (ready).
func publishClip(t *testing.T, token string, userID int64, title, clip string) {
	t.Helper()
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("token", token)
	_ = mw.WriteField("title", title)
	fw, _ := mw.CreateFormFile("data", filepath.Base(clip))
	_, _ = fw.Write(data)
	_ = mw.Close()
	apiCall(t, "POST", "/douyin/publish/action/", url.Values{}, &body, mw.FormDataContentType())
	deadline := time.Now().Add(2 * time.Minute)
	for {
		list := apiCall(t, "GET", "/douyin/publish/list/", url.Values{"user_id": {fmt.Sprint(userID)}}, nil, "")
		for _, v := range list["video_list"].([]any) {
			if v.(map[string]any)["title"] == title {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("video %q not ready within 2m", title)
		}
		time.Sleep(500 * time.Millisecond) // polling the server's state, not synchronising goroutines
	}
}
