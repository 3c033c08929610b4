package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/db"
)

// TestOpenLoopCountsQueueing proves the coordinated-omission correction: one 300 ms stall
// of a single worker delays every request scheduled behind it. Measured from the intended
// send time, request k of the ~30 scheduled during the stall waits about 300-9k ms, so the
// p75 is near 80 ms; measured from the actual send (the closed loop), the same stall is one
// slow sample among fast ones and the p75 stays near the 1 ms service time.
func TestOpenLoopCountsQueueing(t *testing.T) {
	stallingOp := func() op {
		var calls atomic.Int64
		return func(ctx context.Context, _ int, _ *rand.Rand) error {
			d := time.Millisecond
			if calls.Add(1) == 1 {
				d = 300 * time.Millisecond
			}
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
			return nil
		}
	}
	open := run(context.Background(), []weighted{{name: "slow", weight: 1, do: stallingOp()}},
		runOptions{duration: time.Second, concurrency: 1, rate: 100})
	s := open.per["slow"]
	if s.hist.n < 50 {
		t.Fatalf("open loop ran %d requests in 1 s at 100/s, want about 100", s.hist.n)
	}
	if got := s.hist.max; got < 300*time.Millisecond {
		t.Errorf("open loop max = %v, want >= 300ms (the stall itself)", got)
	}
	if got := s.hist.quantile(0.75); got < 50*time.Millisecond {
		t.Errorf("open loop p75 = %v, want >= 50ms: requests queued behind the stall must count their wait", got)
	}
	closed := run(context.Background(), []weighted{{name: "slow", weight: 1, do: stallingOp()}},
		runOptions{duration: time.Second, concurrency: 1})
	if got := closed.per["slow"].hist.quantile(0.75); got > 20*time.Millisecond {
		t.Errorf("closed loop p75 = %v: expected the stall to be hidden there (one sample)", got)
	}
}

// TestOpenLoopDropsBeyondBacklog checks that sustained overload is counted as dropped
// requests instead of silently lowering the offered rate.
func TestOpenLoopDropsBeyondBacklog(t *testing.T) {
	slow := func(ctx context.Context, _ int, _ *rand.Rand) error {
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	}
	res := run(context.Background(), []weighted{{name: "slow", weight: 1, do: slow}},
		runOptions{duration: 1500 * time.Millisecond, concurrency: 1, rate: 200})
	s := res.per["slow"]
	if s.dropped == 0 {
		t.Fatalf("200/s offered to a 20/s worker for 1.5 s: dropped = 0, want > 0 (served %d)", s.hist.n)
	}
	if s.hist.max < 500*time.Millisecond {
		t.Errorf("max = %v, want the backlog wait (>= 500ms) to show", s.hist.max)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.9, 900 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*1.02 {
			t.Errorf("quantile(%v) = %v, want %v within 2%%", c.q, got, c.want)
		}
	}
}

func TestStatusCode(t *testing.T) {
	for body, want := range map[string]int64{`{"status_code":0,"x":1}`: 0, `{"status_msg":"x","status_code": 10012}`: 10012} {
		if got, ok := statusCode([]byte(body)); !ok || got != want {
			t.Errorf("statusCode(%s) = %d, %v", body, got, ok)
		}
	}
	if _, ok := statusCode([]byte(`{}`)); ok {
		t.Error("statusCode of a body without it reported ok")
	}
}

// TestSmoke seeds a tiny data set into SQLite, starts the real server binary on it and runs
// the default mix for two seconds: every scenario must run, and none may fail.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "douyin")
	build := exec.Command("go", "build", "-o", bin, "github.com/douyin-backend/douyin/cmd/douyin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build server: %v\n%s", err, out)
	}
	dataDir := filepath.Join(dir, "data")
	cfg := seedConfig{
		DB:       db.Config{Driver: db.DriverSQLite, MaxOpenConns: 4, MaxIdleConns: 4},
		DataDir:  dataDir,
		Preset:   "tiny",
		Manifest: filepath.Join(dir, "manifest.json"),
		Batch:    100,
		Seed:     1,
		Clip:     filepath.Join("..", "..", "internal", "seed", "assets", "testsrc.mp4"),
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := runSeed(context.Background(), cfg); err != nil {
		t.Fatalf("seed: %v", err)
	}

	addr := freeAddr(t)
	srv := exec.Command(bin, "-data.dir", dataDir, "-http.addr", addr, "-seed.enabled=false",
		"-http.auth-rate-per-minute=0", "-http.write-rate-per-minute=0", "-http.read-rate-per-minute=0")
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
		logFile.Close()
	})
	base := "http://" + addr
	waitReady(t, base, filepath.Join(dir, "server.log"))

	rep, err := load(context.Background(), runConfig{
		Target: base, Manifest: cfg.Manifest, Duration: 2 * time.Second, Concurrency: 4,
		Mix: defaultMix, ServerPIDs: fmt.Sprint(srv.Process.Pid),
	})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	md := rep.Markdown()
	for _, part := range strings.Split(defaultMix, ",") {
		name, _, _ := strings.Cut(part, "=")
		if !strings.Contains(md, "| "+name+" |") {
			t.Errorf("report lacks endpoint %s:\n%s", name, md)
		}
	}
	for _, e := range rep.Endpoints {
		if e.Requests == 0 || e.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (%s)", e.Name, e.Requests, e.Errors, e.ExampleError)
		}
	}
	if rep.Server == nil || rep.Server.CPUSeconds <= 0 || rep.Server.PeakRSSMB <= 0 {
		t.Errorf("server usage not measured: %+v", rep.Server)
	}
	t.Logf("\n%s", md)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(t *testing.T, base, logPath string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("server at %s not ready within 30 s; log:\n%s", base, log)
}

// A login the server refuses with 503 ("retry later") is tried again, up to loginRetries
// attempts; any other refusal fails at once.
func TestLoginRetriesWhatTheServerAsksToRetry(t *testing.T) {
	var calls, refuseFirst atomic.Int32
	refuseFirst.Store(2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case r.URL.Query().Get("username") == "bad":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status_code":10003,"status_msg":"wrong password"}`))
		case n <= refuseFirst.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status_code":10013,"status_msg":"the service did not answer in time, please retry later"}`))
		default:
			_, _ = w.Write([]byte(`{"status_code":0,"token":"tok"}`))
		}
	}))
	t.Cleanup(srv.Close)
	c := &client{base: srv.URL, http: srv.Client()}
	if tok, err := c.loginOne(context.Background(), "ok"); err != nil || tok != "tok" || calls.Load() != 3 {
		t.Fatalf("login after 2 refusals = %q, %v in %d calls; want the token in 3", tok, err, calls.Load())
	}
	calls.Store(0)
	if _, err := c.loginOne(context.Background(), "bad"); err == nil || calls.Load() != 1 {
		t.Fatalf("login refused with 400 = %v in %d calls; want the error at once", err, calls.Load())
	}
	calls.Store(0)
	refuseFirst.Store(loginRetries + 1)
	if _, err := c.loginOne(context.Background(), "ok"); err == nil || calls.Load() != loginRetries {
		t.Fatalf("login refused every time = %v in %d calls; want the error after %d", err, calls.Load(), loginRetries)
	}
}
