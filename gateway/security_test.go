package gateway

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/cache"
)

// serveEdge runs a gateway with cfg (address, zone and grace filled in) on a loopback port.
func serveEdge(t *testing.T, cfg Config) string {
	t.Helper()
	_, addr := runGateway(t, cfg, Deps{})
	return addr
}

// runGateway is serveEdge with deps (a test token key and a discarding logger unless given)
// that also returns the gateway.
func runGateway(t testing.TB, cfg Config, deps Deps) (*Gateway, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = l.Addr().String()
	l.Close()
	cfg.TimeZone, cfg.ShutdownGrace, cfg.MaxUploadBytes = "UTC", time.Second, 1<<20
	if deps.Tokens == nil {
		deps.Tokens = auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	g, err := New(cfg, deps)
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
		resp, err := http.Get("http://" + cfg.Addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return g, cfg.Addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not serving within 10s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSlowHeadersAreCut sends a request's headers a byte at a time: the connection must be
// closed once the header timeout has passed, however steadily the bytes arrive.
func TestSlowHeadersAreCut(t *testing.T) {
	addr := serveEdge(t, Config{HeaderTimeout: 500 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	head := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + strings.Repeat("a", 200) + "\r\n\r\n"
	for i := 0; i < len(head); i++ {
		if _, err := conn.Write([]byte{head[i]}); err != nil {
			break // closed by the server: what we want
		}
		time.Sleep(20 * time.Millisecond)
		if time.Since(start) > 5*time.Second {
			t.Fatal("headers sent slowly for 5s are still being read")
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil && resp.StatusCode == http.StatusOK {
		t.Fatalf("headers sent over %v were answered", time.Since(start))
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the slow connection was closed after %v, want about the 500ms header timeout", took)
	}
}

// TestConnectionCap opens connections up to the cap: the next one is closed at once, and a
// slot frees when one closes.
func TestConnectionCap(t *testing.T) {
	addr := serveEdge(t, Config{MaxConnections: 2})
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// The readiness probe's keep-alive connection may still hold a slot: wait for its close.
	http.DefaultClient.CloseIdleConnections()
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	_ = over.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := over.Read(make([]byte, 1)); err == nil || n > 0 {
		t.Fatalf("a connection over the cap was kept open (read %d bytes, err %v)", n, err)
	}
	for _, c := range held {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection accepted after the held ones closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClientIPTakesRightmostUntrustedHop(t *testing.T) {
	proxies, err := parseProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ peer, xff, want string }{
		{"10.1.1.1", "1.2.3.4", "1.2.3.4"},                               // one trusted proxy
		{"10.1.1.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"},                      // spoofed leftmost hop
		{"10.1.1.1", "6.6.6.6, 1.2.3.4, 192.0.2.1, 10.2.2.2", "1.2.3.4"}, // a chain of proxies
		{"10.1.1.1", "", "10.1.1.1"},                                     // no header
		{"10.1.1.1", "garbage, 10.3.3.3", "10.1.1.1"},                    // malformed hop
	}
	for _, tc := range cases {
		if got := proxies.client(tc.peer, []string{tc.xff}); got != tc.want {
			t.Errorf("peer %s X-Forwarded-For %q: client %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	if proxies.contains("203.0.113.5") || !proxies.contains("192.0.2.1") || !proxies.contains("::ffff:10.9.9.9") {
		t.Error("contains disagrees with the configured proxies")
	}
	if _, err := parseProxies("10.0.0.0/33"); err == nil {
		t.Error("an invalid CIDR was accepted")
	}
}

func TestHostAllowList(t *testing.T) {
	l := newHostAllowList("api.example.com, media.example.com", ":8080")
	for host, want := range map[string]bool{"api.example.com": true, "API.example.com:8080": true, "evil.example": false, "": false} {
		if got := l.allows(host); got != want {
			t.Errorf("allows(%q) = %v, want %v", host, got, want)
		}
	}
	if l.fallback != "api.example.com:8080" {
		t.Errorf("fallback = %q, want the first allowed host with the listen port", l.fallback)
	}
	own := newHostAllowList("", "127.0.0.1:9000")
	if !own.allows("127.0.0.1:9000") || !own.allows("localhost") || own.allows("evil.example") {
		t.Error("the default list must hold this machine's addresses and localhost only")
	}
	if own.fallback != "127.0.0.1:9000" {
		t.Errorf("fallback = %q, want the listen address", own.fallback)
	}
}

func TestLoginBackoffGrowsAndIsPerAddress(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	b := &loginBackoff{kv: cache.NewMemory(100), freeFailures: 3, max: 8 * time.Second, now: func() time.Time { return now }}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := b.check(ctx, "Alice", "1.1.1.1"); err != nil {
			t.Fatalf("attempt %d refused within the free failures: %v", i+1, err)
		}
		_ = b.failed(ctx, "alice", "1.1.1.1")
	}
	wantWait := func(addr string, want time.Duration) {
		t.Helper()
		err := b.check(ctx, "alice", addr)
		var le limitError
		switch {
		case want == 0 && err != nil:
			t.Errorf("%s: refused (%v), want allowed", addr, err)
		case want > 0 && (err == nil || !asLimit(err, &le) || le.after != want):
			t.Errorf("%s: %v, want a wait of %v", addr, err, want)
		}
	}
	wantWait("1.1.1.1", time.Second)
	wantWait("2.2.2.2", 0) // the owner elsewhere is not delayed
	now = now.Add(time.Second)
	wantWait("1.1.1.1", 0)
	_ = b.failed(ctx, "alice", "1.1.1.1")
	wantWait("1.1.1.1", 2*time.Second)
	for i := 0; i < 10; i++ {
		_ = b.failed(ctx, "alice", "1.1.1.1")
	}
	wantWait("1.1.1.1", 8*time.Second) // capped
	_ = b.succeeded(ctx, "alice", "1.1.1.1")
	wantWait("1.1.1.1", 0)
}
