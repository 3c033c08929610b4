// Package e2e holds the black-box end-to-end tests of the /douyin/ HTTP API.
//
// With DOUYIN_E2E_BASE_URL set the tests run against that deployment; otherwise TestMain builds
// cmd/douyin, starts it on a free loopback port with a fresh data dir and seeding off, and stops
// it afterwards. DOUYIN_E2E_SERVER_ARGS (space-separated) appends extra flags to every server the
// suite starts itself.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	baseURLEnv    = "DOUYIN_E2E_BASE_URL"
	serverArgsEnv = "DOUYIN_E2E_SERVER_ARGS"
	readyTimeout  = 30 * time.Second
	readyInterval = 50 * time.Millisecond
	stopTimeout   = 15 * time.Second
)

var (
	// api talks to the server under test (shared by every test; each test uses its own users).
	api *client
	// repoRoot is the directory holding go.work; fixtures are read from it.
	repoRoot string
	// binPath is the binary TestMain built; empty when testing an external deployment.
	binPath string
	// serverDataDir is the data dir of the server TestMain started.
	serverDataDir string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	root, err := findRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	repoRoot = root

	if base := os.Getenv(baseURLEnv); base != "" {
		base = strings.TrimRight(base, "/")
		if err := waitReady(base, nil); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: deployment at %s is not ready: %v\n", base, err)
			return 1
		}
		api = newClient(base)
		if v := os.Getenv(uploadDailyCountEnv); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				fmt.Fprintf(os.Stderr, "e2e: %s=%q: want a positive count\n", uploadDailyCountEnv, v)
				return 1
			}
			uploadDailyCount = n
		}
		return m.Run()
	}
	uploadDailyCount = testUploadDailyCount

	tmp, err := os.MkdirTemp("", "douyin-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	binPath = filepath.Join(tmp, "douyin")
	build := exec.Command("go", "build", "-o", binPath, "github.com/douyin-backend/douyin/cmd/douyin")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/douyin failed: %v\n%s\n", err, out)
		return 1
	}

	serverDataDir = filepath.Join(tmp, "data")
	srv, err := startServer(binPath, serverDataDir, filepath.Join(tmp, "server.log"), "-seed.enabled=false")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	api = newClient(srv.baseURL)

	code := m.Run()
	api.closeIdle()
	if err := srv.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stopping server:", err)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: server log (last 16 KiB of %s):\n%s\n", srv.logPath, srv.logTail(16<<10))
	}
	return code
}

// findRepoRoot walks up from the working directory to the directory containing go.work.
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

// server is one douyin process started by the suite.
type server struct {
	baseURL string
	logPath string
	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{}
	waitErr error
}

// freePort asks the kernel for a free loopback port. The port is released before the server
// binds it; the window is small and only other local processes could take it.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs bin with a fresh data dir and waits for /readyz. On failure the process is
// stopped and the error carries its output.
func startServer(bin, dataDir, logPath string, extraArgs ...string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("pick a free port: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// The limits stay on: the suite's client is a trusted proxy (loopback) and sends each call
	// as coming from its own address, while the limit tests send many from one.
	// Any free port for the admin server: several test servers run side by side.
	args := append([]string{"-http.addr", addr, "-data.dir", dataDir, "-http.trusted-proxies=127.0.0.1",
		fmt.Sprintf("-http.upload-daily-count=%d", testUploadDailyCount), "-admin.addr=127.0.0.1:0"}, extraArgs...)
	args = append(args, strings.Fields(os.Getenv(serverArgsEnv))...)

	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{baseURL: "http://" + addr, logPath: logPath, cmd: cmd, logFile: logFile, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	if err := waitReady(s.baseURL, s.exited); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("server %s %s did not become ready: %v\n--- server output (%s) ---\n%s",
			bin, strings.Join(args, " "), err, logPath, s.logTail(64<<10))
	}
	return s, nil
}

// waitReady polls GET /readyz until it answers 200. exited, when not nil, aborts the wait when
// the process dies.
func waitReady(base string, exited <-chan struct{}) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(readyInterval)
	defer tick.Stop()
	lastErr := errors.New("no answer yet")
	for {
		resp, err := hc.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			lastErr = fmt.Errorf("GET /readyz: HTTP %d", resp.StatusCode)
		} else {
			lastErr = err
		}
		select {
		case <-exited:
			return errors.New("process exited before it was ready")
		case <-deadline.C:
			return fmt.Errorf("timeout after %v: %v", readyTimeout, lastErr)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM, waits for the process to exit (SIGKILL after stopTimeout) and closes the log.
// A process that does not shut down gracefully in time is reported as an error.
func (s *server) stop() error {
	defer s.logFile.Close()
	select {
	case <-s.exited:
		return fmt.Errorf("server had already exited: %v", s.waitErr)
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM: %w", err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("server did not exit within %v of SIGTERM; killed", stopTimeout)
	}
}

// logTail returns at most n trailing bytes of the server's output.
func (s *server) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(cannot read log: " + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
