package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hertzclient "github.com/cloudwego/hertz/pkg/app/client"
	"github.com/cloudwego/hertz/pkg/network/standard"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/hertz-contrib/websocket"

	"github.com/douyin-backend/douyin/internal/auth"
	"github.com/douyin-backend/douyin/internal/polltest"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// readyVideos knows the videos 1 to 99.
type readyVideos struct {
	videoapi.VideoService // other methods are not used and panic if called
}

func (readyVideos) MGetVideos(_ context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	out := map[int64]*videoapi.VideoRecord{}
	for _, id := range req.VideoIds {
		if id > 0 && id < 100 {
			out[id] = &videoapi.VideoRecord{Id: id}
		}
	}
	return &videoapi.MGetVideosResponse{Videos: out}, nil
}

// startLiveGateway serves a gateway with the given live settings on a free port until the
// test ends; it returns the base URL and the function that shuts the gateway down.
func startLiveGateway(t *testing.T, cfg Config) (*Gateway, string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg.Addr, cfg.MaxUploadBytes, cfg.TimeZone, cfg.ShutdownGrace = addr, 1<<20, "UTC", time.Second
	g, err := New(cfg, Deps{
		Videos: readyVideos{},
		Tokens: auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	stop := sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("the gateway did not stop")
		}
	})
	t.Cleanup(func() { _ = stop() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway did not start listening")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return g, "http://" + addr, stop
}

// dialLive performs the handshake; on a refusal it returns the HTTP status and body.
func dialLive(t *testing.T, base string, videoID int64) (*websocket.Conn, int, []byte) {
	t.Helper()
	hc, err := hertzclient.NewClient(hertzclient.WithDialer(standard.NewDialer()))
	if err != nil {
		t.Fatal(err)
	}
	req, resp := protocol.AcquireRequest(), protocol.AcquireResponse()
	req.SetRequestURI(base + LivePath + "?video_id=" + strconv.FormatInt(videoID, 10))
	req.SetMethod(http.MethodGet)
	up := &websocket.ClientUpgrader{}
	up.PrepareRequest(req)
	if err := hc.Do(context.Background(), req, resp); err != nil {
		t.Fatal(err)
	}
	conn, err := up.UpgradeResponse(req, resp)
	if err != nil {
		return nil, resp.StatusCode(), resp.Body()
	}
	t.Cleanup(func() { conn.Close() })
	return conn, http.StatusSwitchingProtocols, nil
}

// A watcher that stops reading is dropped once its send buffer fills; the watcher beside it
// keeps receiving every comment in order.
func TestLiveSlowReaderDroppedOthersServed(t *testing.T) {
	g, base, _ := startLiveGateway(t, Config{LiveSendBuffer: 2})
	slow, status, _ := dialLive(t, base, 1)
	fast, status2, _ := dialLive(t, base, 1)
	if slow == nil || fast == nil {
		t.Fatalf("handshakes answered %d and %d", status, status2)
	}
	polltest.Until(t, 5*time.Second, "both watchers registered", func() bool { return g.live.hub.Watchers() == 2 })
	// Until runLive has installed the hub, a publish reaches nobody: probe until one arrives.
	probe := []byte(`"probe"`)
	got := make(chan []byte, 1024)
	go func() {
		defer close(got)
		for {
			_, msg, err := fast.ReadMessage()
			if err != nil {
				return
			}
			got <- msg
		}
	}()
	ctx := context.Background()
	polltest.Until(t, 5*time.Second, "the fan-out to run", func() bool {
		_ = g.live.fanout.Publish(ctx, 1, probe)
		select {
		case <-got:
			return true
		case <-time.After(20 * time.Millisecond):
			return false
		}
	})
	// Comments far larger than the socket buffers: the silent watcher's writes stall at once,
	// its queue fills and it is dropped. Each comment is published once the fast watcher has
	// the one before, so only the silent one falls behind.
	const comments = 48
	pad := string(bytes.Repeat([]byte("x"), 1<<20))
	for i := range comments {
		body, _ := json.Marshal(map[string]any{"n": i, "pad": pad})
		_ = g.live.fanout.Publish(ctx, 1, body)
		for {
			var msg []byte
			select {
			case m, ok := <-got:
				if !ok {
					t.Fatalf("the fast watcher was disconnected after %d comments", i)
				}
				msg = m
			case <-time.After(10 * time.Second):
				t.Fatalf("the fast watcher did not receive comment %d", i)
			}
			if bytes.Equal(msg, probe) {
				continue
			}
			var c struct{ N int }
			if err := json.Unmarshal(msg, &c); err != nil || c.N != i {
				t.Fatalf("fast watcher got comment %d (%v), want %d", c.N, err, i)
			}
			break
		}
	}
	polltest.Until(t, 5*time.Second, "the slow watcher to be dropped", func() bool { return g.live.hub.Watchers() == 1 })
	_ = slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := slow.ReadMessage(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the dropped watcher's connection stayed open")
			}
			break
		}
	}
}

// Connections over the per-IP limit are refused before the upgrade with the JSON envelope;
// shutting the gateway down closes the open ones with "going away".
func TestLiveLimitAndShutdown(t *testing.T) {
	g, base, stop := startLiveGateway(t, Config{LivePerIP: 1})
	first, status, _ := dialLive(t, base, 5)
	if first == nil {
		t.Fatalf("first handshake answered %d", status)
	}
	_, status, body := dialLive(t, base, 6)
	var env struct {
		StatusCode int32  `json:"status_code"`
		StatusMsg  string `json:"status_msg"`
	}
	if err := json.Unmarshal(body, &env); err != nil || status != http.StatusTooManyRequests || env.StatusCode != int32(basecode.ErrCode_RateLimited) || env.StatusMsg == "" {
		t.Fatalf("second connection from one IP: HTTP %d %s, want 429 with status_code %d", status, body, basecode.ErrCode_RateLimited)
	}
	if _, status, body := dialLive(t, base, 100); status != http.StatusOK || !bytes.Contains(body, []byte(`"status_code":`+strconv.Itoa(int(basecode.ErrCode_VideoNotFound)))) {
		t.Fatalf("unknown video: HTTP %d %s, want 200 with status_code %d", status, body, basecode.ErrCode_VideoNotFound)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_ = first.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := first.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("after shutdown the watcher read %v, want a going-away close", err)
	}
	if n := g.live.hub.Watchers(); n != 0 {
		t.Fatalf("%d watchers after shutdown", n)
	}
}

// Pings keep a reading watcher connected past the ping timeout; one that never answers is
// closed after two intervals.
func TestLivePingsKeepReadersAndCloseSilentOnes(t *testing.T) {
	g, base, _ := startLiveGateway(t, Config{LivePingInterval: time.Second})
	reader, status, _ := dialLive(t, base, 3)
	silent, status2, _ := dialLive(t, base, 4)
	if reader == nil || silent == nil {
		t.Fatalf("handshakes answered %d and %d", status, status2)
	}
	var pings atomic.Int32
	reader.SetPingHandler(func(data string) error {
		pings.Add(1)
		return reader.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	got := make(chan []byte, 16)
	go func() {
		for {
			_, msg, err := reader.ReadMessage()
			if err != nil {
				close(got)
				return
			}
			got <- msg
		}
	}()
	// The silent watcher reads nothing, so it answers no ping: gone after two intervals.
	polltest.Until(t, 5*time.Second, "the silent watcher to be closed", func() bool { return g.live.hub.Watchers() == 1 })
	polltest.Until(t, 5*time.Second, "three pings answered", func() bool { return pings.Load() >= 3 })
	// Published until it arrives: the fan-out may not have been installed at the first try.
	polltest.Until(t, 5*time.Second, "a comment for the pinged watcher", func() bool {
		_ = g.live.fanout.Publish(context.Background(), 3, []byte(`"still here"`))
		select {
		case msg, ok := <-got:
			if !ok || string(msg) != `"still here"` {
				t.Fatalf("the pinged watcher got %q (open: %v)", msg, ok)
			}
			return true
		case <-time.After(20 * time.Millisecond):
			return false
		}
	})
}
