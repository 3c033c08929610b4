package e2e

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const codeRateLimited = 10012

// uploadDailyCountEnv tells the suite the per-user daily upload count of a deployment it did
// not start (the server's default: 50).
const uploadDailyCountEnv = "DOUYIN_E2E_UPLOAD_DAILY_COUNT"

// testUploadDailyCount is the quota of the servers the suite starts itself: above what any
// other test uploads per user, low enough to reach quickly.
const testUploadDailyCount = 4

// uploadDailyCount is the quota of the deployment under test.
var uploadDailyCount = 50

// clientAddrs counts the client addresses handed out, from a random start so that runs
// against one long-lived deployment do not reuse each other's (rate-limited) addresses.
var clientAddrs = func() *atomic.Uint32 {
	var n atomic.Uint32
	n.Store(rand.Uint32N(1 << 17))
	return &n
}()

// nextClientAddr returns a client address not used before in this run (198.18.0.0/15 is
// reserved for benchmarks, so it is nobody's real address).
func nextClientAddr() string {
	n := clientAddrs.Add(1) % (1 << 17)
	return fmt.Sprintf("198.%d.%d.%d", 18+n>>16, (n>>8)&0xff, n&0xff)
}

// fromAddr makes a request come from client address ip, through the trusted proxy.
func fromAddr(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }

// wantLimited asserts a 429 with the envelope and a Retry-After of at least a second.
func (r *apiResp) wantLimited(t *testing.T) {
	t.Helper()
	r.wantErr(t, http.StatusTooManyRequests, codeRateLimited)
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s: Retry-After = %q, want a positive number of seconds", r.what, r.Header.Get("Retry-After"))
	}
}

// TestSignUpAndLoginLimitedPerIP sends sign-ups from one address until the per-IP limit
// refuses them (bursts of 10 with the default setting), and checks that a spoofed leftmost
// X-Forwarded-For hop does not escape it: the rightmost hop not set by a trusted proxy counts.
func TestSignUpAndLoginLimitedPerIP(t *testing.T) {
	t.Parallel()
	ip := nextClientAddr()
	// Invalid sign-ups: refused by the limit before any hashing, so the test is cheap.
	bad := vals("username", "no spaces allowed", "password", testPassword)
	var limited *apiResp
	for i := 0; i < 40 && limited == nil; i++ {
		r := api.send(t, http.MethodPost, pathRegister, bad, nil, "", fromAddr(ip))
		if r.HTTPStatus == http.StatusTooManyRequests {
			limited = r
			break
		}
		r.wantInvalid(t)
	}
	if limited == nil {
		t.Fatalf("40 sign-ups from %s were all answered; want 429 after the burst", ip)
	}
	limited.wantLimited(t)
	// Logins from the same address share the limit.
	api.send(t, http.MethodPost, pathLogin, vals("username", "nobody", "password", testPassword), nil, "", fromAddr(ip)).wantLimited(t)
	// A client writing its own hop to the left is still keyed by the address the proxy saw.
	api.send(t, http.MethodPost, pathRegister, bad, nil, "", fromAddr("10.1.2.3, "+ip)).wantLimited(t)
	// Another address is not affected.
	api.send(t, http.MethodPost, pathRegister, bad, nil, "", fromAddr(nextClientAddr())).wantInvalid(t)
}

// TestLoginBackoffPerAccount fails logins of one account from one address until they are
// refused with 429, and checks that the owner, from another address, still logs in: the
// backoff is no lockout an attacker can trigger.
func TestLoginBackoffPerAccount(t *testing.T) {
	t.Parallel()
	u := api.register(t, "backoff")
	attacker := nextClientAddr()
	wrong := vals("username", u.Name, "password", "wrong-password-1")
	var limited *apiResp
	for i := 0; i < 8; i++ {
		r := api.send(t, http.MethodPost, pathLogin, wrong, nil, "", fromAddr(attacker))
		if r.HTTPStatus == http.StatusTooManyRequests {
			limited = r
			break
		}
		r.wantErr(t, http.StatusOK, codeLoginFailed)
	}
	if limited == nil {
		t.Fatal("8 failed logins of one account from one address were all checked; want 429 after 5")
	}
	limited.wantLimited(t)
	// While backing off, even the right password is not tried from that address.
	api.send(t, http.MethodPost, pathLogin, vals("username", u.Name, "password", u.Password), nil, "", fromAddr(attacker)).wantLimited(t)
	// The owner, elsewhere, is not locked out.
	checkAuth(t, api.send(t, http.MethodPost, pathLogin, vals("username", u.Name, "password", u.Password), nil, "", fromAddr(nextClientAddr())))
}

// TestReadsLimitedPerIP sends cheap calls from one address until the per-IP read limit
// refuses them; other addresses are unaffected.
func TestReadsLimitedPerIP(t *testing.T) {
	t.Parallel()
	ip := nextClientAddr()
	var limited *apiResp
	for i := 0; i < 2000 && limited == nil; i++ {
		// No token on the own profile: refused by the handler at once, but counted.
		r := api.send(t, http.MethodGet, pathUser, nil, nil, "", fromAddr(ip))
		if r.HTTPStatus == http.StatusTooManyRequests {
			limited = r
		}
	}
	if limited == nil {
		t.Fatal("2000 calls from one address were all answered; want 429 after the read burst")
	}
	limited.wantLimited(t)
	api.send(t, http.MethodGet, pathUser, nil, nil, "", fromAddr(nextClientAddr())).wantUnauth(t)
}

// TestSecurityHeaders checks nosniff on every kind of answer and no-store on the API's.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	u := api.register(t, "headers")
	for _, r := range []*apiResp{
		api.get(t, pathFeed, vals("token", u.Token)),
		api.get(t, pathChat, vals("token", u.Token, "to_user_id", u.ID)),
		api.get(t, "/douyin/no/such/", nil),
	} {
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", r.what, got)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", r.what, got)
		}
	}
	user := api.userInfo(t, u.Token, u.ID)
	resp, _ := api.fetch(t, user.Avatar, nil)
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("GET %s: X-Content-Type-Options = %q, want nosniff", user.Avatar, got)
	}
}

// TestMediaURLsIgnoreForeignHost asks with a Host header the server does not know: the URLs it
// answers must not point there (a cache or a victim's app would fetch from the attacker).
func TestMediaURLsIgnoreForeignHost(t *testing.T) {
	t.Parallel()
	u := api.register(t, "host")
	r := api.send(t, http.MethodGet, pathUser, vals("token", u.Token), nil, "", http.Header{"Host": {"attacker.example"}, "X-Forwarded-Proto": {"https"}}).mustOK(t)
	user := decodeAs[struct{ User User }](t, r).User
	for _, link := range []string{user.Avatar, user.BackgroundImage} {
		p, err := url.Parse(link)
		if err != nil || p.Host == "" {
			t.Fatalf("avatar URL %q is not absolute", link)
		}
		if strings.Contains(p.Host, "attacker") {
			t.Errorf("URL %q was built from the client's Host header", link)
		}
		if p.Scheme != "http" {
			t.Errorf("URL %q took its scheme from X-Forwarded-Proto of an untrusted client", link)
		}
	}
}

// rawRequest writes head (the request line and headers, CRLF-terminated, without the blank
// line) and the first bodyPrefix bytes of a body starting with body (padded with zeros), of a
// request declaring a much larger body, and returns the status code the server answers while
// the rest of the body is never sent.
func rawRequest(t *testing.T, head string, body []byte) int {
	t.Helper()
	u, err := url.Parse(api.base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, head+"Host: "+u.Host+"\r\nX-Forwarded-For: "+nextClientAddr()+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Hertz reads up to 8 KiB of a streamed body before it calls the handler.
	const bodyPrefix = 9 << 10
	if _, err := conn.Write(append(body, make([]byte, bodyPrefix-len(body))...)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: no answer while the declared body was not sent (the server waits for it): %v", strings.SplitN(head, "\r\n", 2)[0], err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestUploadRefusedBeforeBody declares uploads the server must refuse from their headers
// alone: over the size limit, without a valid token. Only a few bytes of the body are sent;
// an answer proves the server did not wait for the rest.
func TestUploadRefusedBeforeBody(t *testing.T) {
	t.Parallel()
	u := api.register(t, "early")
	const declared = 1 << 30
	head := func(query string) string {
		return "POST " + pathPublish + query + " HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: " + strconv.Itoa(declared) + "\r\n"
	}
	part := []byte("--xyz\r\nContent-Disposition: form-data; name=\"data\"; filename=\"a.mp4\"\r\n\r\n")
	if got := rawRequest(t, head("?token="+url.QueryEscape(u.Token)+"&title=big"), part); got != http.StatusRequestEntityTooLarge {
		t.Errorf("1 GiB declared: HTTP %d, want 413 at once", got)
	}
	small := "POST " + pathPublish + "?token=not-a-token&title=x HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: " + strconv.Itoa(50<<20) + "\r\n"
	if got := rawRequest(t, small, part); got != http.StatusUnauthorized {
		t.Errorf("bad token in the query: HTTP %d, want 401 before the body", got)
	}
	// A bad token in a form part that precedes the file stops the request there.
	tokenFirst := []byte("--xyz\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nnot-a-token\r\n" + string(part))
	if got := rawRequest(t, "POST "+pathPublish+" HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: "+strconv.Itoa(50<<20)+"\r\n", tokenFirst); got != http.StatusUnauthorized {
		t.Errorf("bad token part before the file: HTTP %d, want 401 before the file", got)
	}
}

// TestUploadDailyQuota uploads up to the per-user daily count; the next upload is refused
// with 429 before its body is read.
func TestUploadDailyQuota(t *testing.T) {
	t.Parallel()
	if uploadDailyCount > 10 {
		t.Fatalf("the deployment allows %d uploads a day; set %s to its http.upload-daily-count (the suite starts its servers with %d)", uploadDailyCount, uploadDailyCountEnv, testUploadDailyCount)
	}
	u := api.register(t, "quota")
	for i := 0; i < uploadDailyCount; i++ {
		api.publishRaw(t, map[string]string{"token": u.Token, "title": fmt.Sprintf("quota %d", i)}, mp4Upload(t, "testsrc.mp4"), nil).mustOK(t)
	}
	api.publishRaw(t, map[string]string{"token": u.Token, "title": "one too many"}, mp4Upload(t, "testsrc.mp4"), nil).wantLimited(t)
	head := "POST " + pathPublish + "?token=" + url.QueryEscape(u.Token) + "&title=x HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: " + strconv.Itoa(50<<20) + "\r\n"
	if got := rawRequest(t, head, []byte("--xyz\r\n")); got != http.StatusTooManyRequests {
		t.Errorf("upload over the quota: HTTP %d, want 429 before the body", got)
	}
}
