package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/common/ut"

	"github.com/douyin-backend/douyin/internal/auth"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// fakeUsers answers logins for the CORS tests.
type fakeUsers struct {
	userapi.UserService // other methods are not used and panic if called
}

func (fakeUsers) Login(_ context.Context, _ *userapi.LoginRequest) (*userapi.LoginResponse, error) {
	return &userapi.LoginResponse{UserId: 7}, nil
}

// newRouterGateway builds a gateway whose router the tests drive without a listener.
func newRouterGateway(t *testing.T, corsOrigins string) *Gateway {
	t.Helper()
	g, err := New(Config{
		Addr: "127.0.0.1:0", MaxUploadBytes: 1 << 20, TimeZone: "UTC", ShutdownGrace: time.Second,
		CORSAllowedOrigins: corsOrigins,
	}, Deps{
		Users:  fakeUsers{},
		Tokens: auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// routed is an answer of the router, shaped like a net/http one for the assertions.
type routed struct {
	StatusCode int
	Header     http.Header
	Body       io.Reader
}

func perform(g *Gateway, method, path string, headers ...ut.Header) routed {
	resp := ut.PerformRequest(g.server.Engine, method, path, nil, headers...).Result()
	h := http.Header{}
	resp.Header.VisitAll(func(k, v []byte) { h.Add(string(k), string(v)) })
	return routed{StatusCode: resp.StatusCode(), Header: h, Body: bytes.NewReader(resp.Body())}
}

func TestCORSPreflightAnyOrigin(t *testing.T) {
	g := newRouterGateway(t, "*")
	for _, path := range []string{"/douyin/user/login/", "/douyin/user/login", "/douyin/feed/", "/douyin/publish/action/"} {
		resp := perform(g, http.MethodOptions, path,
			ut.Header{Key: "Origin", Value: "http://localhost:5173"},
			ut.Header{Key: "Access-Control-Request-Method", Value: "POST"},
			ut.Header{Key: "Access-Control-Request-Headers", Value: "authorization, content-type"})
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("OPTIONS %s: HTTP %d, want 204", path, resp.StatusCode)
		}
		want := map[string]string{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": corsAllowMethods,
			"Access-Control-Max-Age":       corsMaxAgeSeconds,
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("OPTIONS %s: %s = %q, want %q", path, k, got, v)
			}
		}
		allowHeaders := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type"} {
			if !strings.Contains(allowHeaders, h) {
				t.Errorf("OPTIONS %s: Access-Control-Allow-Headers %q lacks %s", path, allowHeaders, h)
			}
		}
		if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("credentials mode must stay off, got Allow-Credentials %q", got)
		}
	}
}

func TestCORSHeadersOnAnswers(t *testing.T) {
	g := newRouterGateway(t, "*")
	origin := ut.Header{Key: "Origin", Value: "https://client.example"}

	// A login from another origin: the answer is readable by the page.
	resp := perform(g, http.MethodPost, "/douyin/user/login/?username=someone&password=secret1", origin)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("login: HTTP %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Errorf("X-Request-Id not exposed: %q", resp.Header.Get("Access-Control-Expose-Headers"))
	}

	// An expired or forged token answers 401 with the envelope a web client can read, so it
	// can ask the person to log in again instead of showing a blank page.
	resp = perform(g, http.MethodGet, "/douyin/user/?token=forged", origin)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("bad token: HTTP %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	var env testEnvelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.StatusCode == 0 || env.StatusMsg == "" {
		t.Fatalf("bad token: envelope %+v, %v", env, err)
	}

	// Errors of the route table keep the headers too.
	if resp := perform(g, http.MethodGet, "/douyin/nothing/", origin); resp.StatusCode != http.StatusNotFound ||
		resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("unknown path: HTTP %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	// Same-origin and non-browser requests carry no Origin and get no CORS headers.
	if resp := perform(g, http.MethodGet, "/healthz"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no Origin, yet Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSListedOrigins(t *testing.T) {
	g := newRouterGateway(t, "https://app.example.com, http://localhost:5173")
	preflight := func(origin string) routed {
		return perform(g, http.MethodOptions, "/douyin/user/login/",
			ut.Header{Key: "Origin", Value: origin},
			ut.Header{Key: "Access-Control-Request-Method", Value: "POST"})
	}
	resp := preflight("http://localhost:5173")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Fatalf("listed origin: HTTP %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Errorf("an echoed origin needs Vary: Origin, got %q", resp.Header.Get("Vary"))
	}
	resp = preflight("https://evil.example")
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("unlisted origin: HTTP %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	var env testEnvelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.StatusCode == 0 {
		t.Fatalf("refused preflight without the envelope: %+v, %v", env, err)
	}
	// A simple request from an unlisted origin is served (the browser withholds the answer).
	resp = perform(g, http.MethodGet, "/healthz", ut.Header{Key: "Origin", Value: "https://evil.example"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("unlisted origin GET: HTTP %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSSettingValidated(t *testing.T) {
	for _, bad := range []string{"app.example.com", "ftp://x.example", "https://x.example/path", "https://"} {
		if _, err := parseCORSOrigins(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p, err := parseCORSOrigins("")
	if err != nil || p.allows("https://x.example") {
		t.Fatalf("empty setting: %+v, %v; want no origin allowed", p, err)
	}
	if p, _ := parseCORSOrigins("HTTPS://App.Example.com/"); !p.allows("https://app.example.com") {
		t.Fatal("origins compare case-insensitively and ignore a trailing slash")
	}
}

// TestWebAppRoutes: the page at /, its files under /web/, and the API, media and default
// images beside them.
func TestWebAppRoutes(t *testing.T) {
	g := newRouterGateway(t, "*")
	page := perform(g, http.MethodGet, "/")
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), `<script type="module" src="/web/js/main.js">`) {
		t.Fatalf("GET /: HTTP %d %q %.200s", page.StatusCode, page.Header.Get("Content-Type"), body)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("page CSP %q does not keep scripts and calls to this origin", csp)
	}
	js := perform(g, http.MethodGet, "/web/js/main.js")
	if js.StatusCode != http.StatusOK || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET main.js: HTTP %d %q", js.StatusCode, js.Header.Get("Content-Type"))
	}
	again := perform(g, http.MethodGet, "/web/js/main.js", ut.Header{Key: "If-None-Match", Value: js.Header.Get("ETag")})
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation with the ETag: HTTP %d, want 304", again.StatusCode)
	}
	if r := perform(g, http.MethodGet, "/web/nope.js"); r.StatusCode != http.StatusNotFound {
		t.Errorf("missing asset: HTTP %d, want 404", r.StatusCode)
	}
	if r := perform(g, http.MethodGet, avatarPath); r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "image/png" {
		t.Errorf("default avatar: HTTP %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if r := perform(g, http.MethodGet, "/douyin/nothing/"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown API path: HTTP %d, want 404", r.StatusCode)
	}
}
