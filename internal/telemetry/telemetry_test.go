package telemetry

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/mq"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond) // the listener may not be up yet
	}
}

func TestAdminServesHealthReadinessAndMetrics(t *testing.T) {
	m := New()
	var notReady error
	addr := freeAddr(t)
	admin := NewAdmin(addr, false, m, func(context.Context) error { return notReady })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- admin.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("admin stop: %v", err)
		}
	}()

	if code, body := get(t, "http://"+addr+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	if code, _ := get(t, "http://"+addr+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d while ready", code)
	}
	notReady = errors.New("db down")
	if code, body := get(t, "http://"+addr+"/readyz"); code != 503 || strings.Contains(body, "db down") {
		t.Fatalf("/readyz = %d %q while not ready (and must not leak the cause)", code, body)
	}

	if code, _ := get(t, "http://"+addr+"/debug/pprof/"); code != 404 {
		t.Fatalf("/debug/pprof/ = %d without admin.pprof, want 404", code)
	}
	// The second request of a label set counts on the series the first one resolved.
	m.ObserveHTTP("/douyin/feed/", "GET", 200, 3*time.Millisecond)
	m.ObserveHTTP("/douyin/feed/", "GET", 200, 3*time.Millisecond)
	m.ObserveHTTP("/douyin/feed/", "GET", 404, time.Millisecond)
	m.ObserveRPC("video", "Feed", 0, time.Millisecond)
	m.CacheLookups("profiles", 3, 1)
	records := cache.NewLocalRecords("video:r", time.Hour, 50, func(id int64) int64 { return id })
	if err := records.MSet(context.Background(), []int64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	m.WatchCaches(records)
	q := mq.NewMemory()
	consumer, producer := m.Consumer(q), m.Producer(q)
	if err := consumer.Subscribe(mq.TopicFavorite, "g", func(context.Context, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := producer.Publish(context.Background(), mq.TopicFavorite, "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	_, metrics := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		`douyin_http_requests_total{code="200",method="GET",route="/douyin/feed/"} 2`,
		`douyin_http_requests_total{code="404",method="GET",route="/douyin/feed/"} 1`,
		`douyin_http_request_duration_seconds_count{method="GET",route="/douyin/feed/"} 3`,
		`douyin_rpc_requests_total{code="0",component="video",method="Feed"} 1`,
		`douyin_cache_requests_total{cache="profiles",result="hit"} 3`,
		`douyin_cache_entries{cache="video:r"} 3`,
		`douyin_cache_max_entries{cache="video:r"} 50`,
		`douyin_mq_published_total{result="ok",topic="douyin-favorite"} 1`,
		`douyin_mq_consumed_total{group="g",result="ok",topic="douyin-favorite"} 1`,
		`douyin_mq_consume_lag_seconds_count{group="g",topic="douyin-favorite"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestPprofOnlyWhenEnabled(t *testing.T) {
	addr := freeAddr(t)
	admin := NewAdmin(addr, true, New(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- admin.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	if code, body := get(t, "http://"+addr+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("/debug/pprof/ = %d with admin.pprof", code)
	}
}

// TestAdminDefaultsToLoopback: the admin port (metrics, readiness, optionally profiles) is
// not reachable from other machines unless an address is configured.
func TestAdminDefaultsToLoopback(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.RegisterFlags(fs)
	host, _, err := net.SplitHostPort(c.AdminAddr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		t.Fatalf("admin.addr defaults to %q, want a loopback address", c.AdminAddr)
	}
	if c.Pprof {
		t.Fatal("admin.pprof is on by default")
	}
}

// BenchmarkObserveHTTP: one request's metrics, on a label set seen before.
func BenchmarkObserveHTTP(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveHTTP("/douyin/feed/", "GET", 200, time.Millisecond)
	}
}
