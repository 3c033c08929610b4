package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qiniu/go-sdk/v7/storagev2/uplog"

	"github.com/douyin-backend/douyin/internal/blob/qiniufake"
	"github.com/douyin-backend/douyin/internal/config"
)

const (
	testAccessKey = "test-access-key"
	testSecretKey = "test-secret-key"
	testBucket    = "douyin-test"
)

// proxyTrapHits counts connections that reached the proxy trap TestMain installs.
var proxyTrapHits atomic.Int64

// TestMain points the proxy variables at a local trap before anything reads them, so a
// request the SDK makes through its own default client (upload logs, region lookups) to any
// non-loopback host lands here, is counted, and fails the run, instead of leaving the machine.
// The store's own requests go through hostGuard, which refuses every host but the fake.
func TestMain(m *testing.M) {
	trap, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy trap:", err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := trap.Accept()
			if err != nil {
				return
			}
			proxyTrapHits.Add(1)
			c.Close()
		}
	}()
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		os.Setenv(v, "http://"+trap.Addr().String())
	}
	os.Unsetenv("NO_PROXY")
	os.Unsetenv("no_proxy")
	code := m.Run()
	trap.Close()
	if n := proxyTrapHits.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d connection(s) from the Qiniu SDK tried to leave the machine\n", n)
		code = 1
	}
	os.Exit(code)
}

// hostGuard is the store's transport in tests: it forwards requests for the fake's host and
// refuses, and remembers, every other.
type hostGuard struct {
	allow string
	next  http.RoundTripper
	mu    sync.Mutex
	other []string
}

func (g *hostGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != g.allow {
		g.mu.Lock()
		g.other = append(g.other, req.Method+" "+req.URL.String())
		g.mu.Unlock()
		return nil, fmt.Errorf("test transport refuses %s: only the fake Qiniu at %s may be called", req.URL.Host, g.allow)
	}
	return g.next.RoundTrip(req)
}

type fixture struct {
	store *Qiniu
	fake  *qiniufake.Server
	cfg   QiniuConfig
	http  *http.Client
}

// newFixture starts a fake Qiniu and a store pointed at it for every service (up, rs,
// download domain). edit adjusts the store's config before it is built.
func newFixture(t *testing.T, private bool, edit ...func(*QiniuConfig)) *fixture {
	t.Helper()
	// The SDK caches lookups and buffers logs under os.TempDir().
	t.Setenv("TMPDIR", t.TempDir())
	fake := qiniufake.New(qiniufake.Options{Bucket: testBucket, AccessKey: testAccessKey, SecretKey: testSecretKey, Private: private})
	t.Cleanup(fake.Close)
	u, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	t.Cleanup(transport.CloseIdleConnections)
	guard := &hostGuard{allow: u.Host, next: transport}
	t.Cleanup(func() {
		guard.mu.Lock()
		defer guard.mu.Unlock()
		if len(guard.other) > 0 {
			t.Errorf("the store tried hosts other than the fake: %v", guard.other)
		}
	})
	cfg := QiniuConfig{
		Bucket:             testBucket,
		AccessKey:          testAccessKey,
		SecretKey:          testSecretKey,
		Domain:             fake.URL,
		Private:            private,
		URLTTL:             time.Hour,
		UpHosts:            []string{fake.URL},
		RSHosts:            []string{fake.URL},
		ResumableThreshold: defaultResumableThreshold,
	}
	for _, e := range edit {
		e(&cfg)
	}
	client := &http.Client{Transport: guard}
	store, err := NewQiniu(cfg, WithHTTPClient(client))
	if err != nil {
		t.Fatal(err)
	}
	if uplog.IsUplogEnabled() {
		t.Fatal("NewQiniu left the SDK's upload logging on: it would post logs to Qiniu")
	}
	return &fixture{store: store, fake: fake, cfg: cfg, http: client}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	newStream(seed).Read(b)
	return b
}

// newStream returns a deterministic byte stream; ChaCha8 yields the same bytes however the
// reads are split.
func newStream(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// streamOnly hides every method but Read, as a request body would.
type streamOnly struct{ r io.Reader }

func (s streamOnly) Read(p []byte) (int, error) { return s.r.Read(p) }

func readAll(t *testing.T, ctx context.Context, s Store, key string) []byte {
	t.Helper()
	rc, err := s.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func TestQiniuFormUploadRoundTrip(t *testing.T) {
	f := newFixture(t, false)
	ctx := testContext(t)
	const key = "covers/1/cover.jpg"
	data := randomBytes(100<<10, 1)

	n, err := f.store.Put(ctx, key, streamOnly{bytes.NewReader(data)})
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Put = %d, %v; want %d", n, err, len(data))
	}
	if st := f.fake.Stats(); st.FormUploads != 1 || st.MultipartInits != 0 {
		t.Fatalf("a %d-byte body should take one form upload: %+v", len(data), st)
	}
	if got := readAll(t, ctx, f.store, key); !bytes.Equal(got, data) {
		t.Fatalf("Open returned %d bytes differing from the %d put", len(got), len(data))
	}

	// The token is scoped to bucket:key, so a second Put replaces the object.
	replacement := []byte("second version")
	if _, err := f.store.Put(ctx, key, bytes.NewReader(replacement)); err != nil {
		t.Fatalf("replacing Put: %v", err)
	}
	if got := readAll(t, ctx, f.store, key); !bytes.Equal(got, replacement) {
		t.Fatalf("after replacing, Open = %q", got)
	}

	// An empty object is an object.
	n, err = f.store.Put(ctx, "covers/1/empty.jpg", strings.NewReader(""))
	if err != nil || n != 0 {
		t.Fatalf("empty Put = %d, %v", n, err)
	}
	if got := readAll(t, ctx, f.store, "covers/1/empty.jpg"); len(got) != 0 {
		t.Fatalf("empty object read back as %d bytes", len(got))
	}
}

func TestQiniuResumableUploadRoundTrip(t *testing.T) {
	f := newFixture(t, false)
	ctx := testContext(t)
	const key = "videos/7/source.mp4"
	data := randomBytes(12<<20, 2)

	// A file positioned after a header: the store must upload from the current offset, not
	// from the start of the file as the SDK does with seekable sources.
	header := []byte("not part of the object")
	path := filepath.Join(t.TempDir(), "upload")
	if err := os.WriteFile(path, append(slices.Clone(header), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := file.Seek(int64(len(header)), io.SeekStart); err != nil {
		t.Fatal(err)
	}

	n, err := f.store.Put(ctx, key, file)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Put = %d, %v; want %d", n, err, len(data))
	}
	st := f.fake.Stats()
	if st.FormUploads != 0 || st.MultipartInits != 1 || st.MultipartDone != 1 || st.PartsUploaded != 3 {
		t.Fatalf("12 MiB should go as one multipart upload of three 4 MiB parts: %+v", st)
	}
	if f.fake.PendingUploads() != 0 {
		t.Fatalf("%d multipart uploads left open", f.fake.PendingUploads())
	}
	got := readAll(t, ctx, f.store, key)
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("Open returned %d bytes differing from the %d put", len(got), len(data))
	}
}

// generated is a stream of n pseudo-random bytes that calls at(offset) before each read, so
// a test can look at the server while the upload is under way.
type generated struct {
	n, off int64
	rng    *rand.ChaCha8
	at     func(off int64)
}

func (g *generated) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	if g.at != nil {
		g.at(g.off)
	}
	p = p[:min(int64(len(p)), g.n-g.off)]
	g.rng.Read(p)
	g.off += int64(len(p))
	return len(p), nil
}

func TestQiniuPutStreamsParts(t *testing.T) {
	f := newFixture(t, false)
	ctx := testContext(t)
	const size = 32 << 20
	// The SDK has at most uploadConcurrency parts in flight and slices one more while it
	// waits, so reading past (uploadConcurrency+1) parts requires a part to have reached the
	// server. Were the body read whole before uploading, no part would have arrived yet.
	limit := int64((uploadConcurrency + 1) * partSize)
	var checked bool
	var partsSeen int
	body := &generated{n: size, rng: newStream(3), at: func(off int64) {
		if off > limit && !checked {
			checked = true
			partsSeen = f.fake.Stats().PartsUploaded
		}
	}}
	n, err := f.store.Put(ctx, "videos/8/source.mp4", body)
	if err != nil || n != size {
		t.Fatalf("Put = %d, %v", n, err)
	}
	if !checked || partsSeen == 0 {
		t.Fatalf("the body was read past %d bytes before any part reached the server: Put buffers instead of streaming", limit)
	}
	want := make([]byte, size)
	(&generated{n: size, rng: newStream(3)}).Read(want)
	if got, ok := f.fake.Object("videos/8/source.mp4"); !ok || !bytes.Equal(got, want) {
		t.Fatalf("stored object differs from the stream (%d bytes, present %v)", len(got), ok)
	}
}

func TestQiniuOpenMissing(t *testing.T) {
	f := newFixture(t, false)
	if _, err := f.store.Open(testContext(t), "videos/404/source.mp4"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open of a missing key = %v, want ErrNotFound", err)
	}
}

func TestQiniuDelete(t *testing.T) {
	f := newFixture(t, false)
	ctx := testContext(t)
	const key = "videos/9/source.mp4"
	if _, err := f.store.Put(ctx, key, strings.NewReader("bytes")); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, ok := f.fake.Object(key); ok {
		t.Fatal("the object is still stored after Delete")
	}
	if _, err := f.store.Open(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after Delete = %v, want ErrNotFound", err)
	}
	if err := f.store.Delete(ctx, key); err != nil {
		t.Fatalf("deleting a missing object: %v", err)
	}
	if st := f.fake.Stats(); st.Deletes != 1 || st.RejectedSigns != 0 {
		t.Fatalf("want one signed delete that removed something: %+v", st)
	}
}

func TestQiniuPublicURL(t *testing.T) {
	f := newFixture(t, false)
	ctx := testContext(t)
	const key = "covers/2/cover.jpg"
	if got, want := f.store.URL(key), f.fake.URL+"/"+key; got != want {
		t.Fatalf("URL = %q, want %q", got, want)
	}
	if _, err := f.store.Put(ctx, key, strings.NewReader("jpeg")); err != nil {
		t.Fatal(err)
	}
	resp, err := f.http.Get(f.store.URL(key))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "jpeg" {
		t.Fatalf("GET URL = %s %q", resp.Status, body)
	}
}

func TestQiniuPrivateURL(t *testing.T) {
	const ttl = 10 * time.Minute
	f := newFixture(t, true, func(c *QiniuConfig) { c.URLTTL = ttl })
	ctx := testContext(t)
	const key = "videos/10/source.mp4"
	if _, err := f.store.Put(ctx, key, strings.NewReader("private bytes")); err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	raw := f.store.URL(key)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.fake.URL + "/" + key; !strings.HasPrefix(raw, want+"?e=") {
		t.Fatalf("URL = %q, want %s?e=…&token=…", raw, want)
	}
	deadline, err := strconv.ParseInt(u.Query().Get("e"), 10, 64)
	if err != nil {
		t.Fatalf("URL deadline: %v", err)
	}
	// Deadlines are absolute Unix seconds: in the future, and no later than now+TTL.
	if dl := time.Unix(deadline, 0); !dl.After(before) || dl.After(time.Now().Add(ttl)) || dl.Before(before.Add(ttl-time.Minute)) {
		t.Fatalf("deadline %v not within (now, now+%v]", dl, ttl)
	}
	if err := f.fake.CheckPrivateURL(raw); err != nil {
		t.Fatalf("the fake refuses the signed URL: %v", err)
	}
	if got := readAll(t, ctx, f.store, key); string(got) != "private bytes" {
		t.Fatalf("Open on a private bucket = %q", got)
	}

	// A tampered deadline, an unsigned URL, and a URL signed with another key are refused.
	tampered := strings.Replace(raw, "e="+u.Query().Get("e"), "e="+strconv.FormatInt(deadline+3600, 10), 1)
	forged := strings.Replace(raw, "token="+u.Query().Get("token"), "token="+testAccessKey+":"+strings.Repeat("A", 27)+"=", 1)
	for name, bad := range map[string]string{"tampered deadline": tampered, "unsigned": f.fake.URL + "/" + key, "forged signature": forged} {
		if err := f.fake.CheckPrivateURL(bad); err == nil {
			t.Errorf("%s URL accepted: %s", name, bad)
		}
		resp, err := f.http.Get(bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET with a %s URL = %s, want 401", name, resp.Status)
		}
	}

	// A store that does not sign cannot read a private bucket, and says why rather than
	// reporting the object missing.
	unsigned, err := NewQiniu(func() QiniuConfig { c := f.cfg; c.Private = false; return c }(), WithHTTPClient(f.http))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unsigned.Open(ctx, key); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("unsigned Open of a private object = %v, want a 401 error", err)
	}
}

func TestQiniuInvalidKeys(t *testing.T) {
	f := newFixture(t, false)
	ctx := testContext(t)
	for _, bad := range []string{"../x", "a/../../x", "/abs", "A/b", "", "a//b", "a b", "a?b"} {
		if _, err := f.store.Put(ctx, bad, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q) accepted an unsafe key", bad)
		}
		if _, err := f.store.Open(ctx, bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q) = %v, want an invalid-key error", bad, err)
		}
		if err := f.store.Delete(ctx, bad); err == nil {
			t.Errorf("Delete(%q) accepted an unsafe key", bad)
		}
		if u := f.store.URL(bad); u != "" {
			t.Errorf("URL(%q) = %q, want empty", bad, u)
		}
	}
	if st := f.fake.Stats(); st != (qiniufake.Stats{}) {
		t.Fatalf("invalid keys reached the server: %+v", st)
	}
}

func TestQiniuCancelledContext(t *testing.T) {
	f := newFixture(t, false)
	ctx := testContext(t)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.store.Put(cancelled, "covers/3/a.jpg", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := f.store.Open(cancelled, "covers/3/a.jpg"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context = %v, want context.Canceled", err)
	}
	if err := f.store.Delete(cancelled, "covers/3/a.jpg"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context = %v, want context.Canceled", err)
	}

	// Cancelled in the middle of a multipart upload: Put stops and nothing is stored.
	mid, cancelMid := context.WithCancel(ctx)
	defer cancelMid()
	body := &generated{n: 64 << 20, rng: newStream(4), at: func(off int64) {
		if off >= 6<<20 {
			cancelMid()
		}
	}}
	start := time.Now()
	_, err := f.store.Put(mid, "videos/11/source.mp4", body)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put cancelled mid-stream = %v, want context.Canceled", err)
	}
	if body.off >= body.n {
		t.Fatal("the whole body was read despite the cancellation")
	}
	if keys := f.fake.Keys(); len(keys) != 0 {
		t.Fatalf("objects stored by cancelled uploads: %v", keys)
	}
	t.Logf("cancelled upload returned after %v having read %d of %d bytes", time.Since(start), body.off, body.n)
}

func TestQiniuRejectsForgedCredentials(t *testing.T) {
	f := newFixture(t, false)
	ctx := testContext(t)
	forger, err := NewQiniu(func() QiniuConfig { c := f.cfg; c.SecretKey = "not-the-secret-key"; return c }(), WithHTTPClient(f.http))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := forger.Put(ctx, "covers/4/a.jpg", strings.NewReader("small")); err == nil {
		t.Fatal("form upload with a forged token succeeded")
	}
	if _, err := forger.Put(ctx, "videos/12/source.mp4", bytes.NewReader(randomBytes(5<<20, 5))); err == nil {
		t.Fatal("multipart upload with a forged token succeeded")
	}
	if _, err := f.store.Put(ctx, "covers/4/b.jpg", strings.NewReader("kept")); err != nil {
		t.Fatal(err)
	}
	if err := forger.Delete(ctx, "covers/4/b.jpg"); err == nil {
		t.Fatal("delete with a forged signature succeeded")
	}
	st := f.fake.Stats()
	if st.RejectedTokens < 2 || st.RejectedSigns < 1 || st.MultipartInits != 0 {
		t.Fatalf("the fake should have refused both uploads and the delete: %+v", st)
	}
	if keys := f.fake.Keys(); !slices.Equal(keys, []string{"covers/4/b.jpg"}) {
		t.Fatalf("stored keys = %v, want only the honest upload", keys)
	}

	// Correctly signed tokens that do not cover the request are refused too.
	postForm := func(token, key string) int {
		t.Helper()
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("key", key)
		w.WriteField("token", token)
		fw, _ := w.CreateFormFile("file", "a.jpg")
		fw.Write([]byte("payload"))
		w.Close()
		resp, err := f.http.Post(f.fake.URL+"/", w.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	future := time.Now().Add(time.Hour).Unix()
	cases := []struct {
		name   string
		policy map[string]any
		status int
	}{
		{"token for another key", map[string]any{"scope": testBucket + ":covers/4/other.jpg", "deadline": future}, http.StatusForbidden},
		{"expired token", map[string]any{"scope": testBucket + ":covers/4/c.jpg", "deadline": time.Now().Add(-time.Minute).Unix()}, http.StatusUnauthorized},
		{"token for another bucket", map[string]any{"scope": "other-bucket:covers/4/c.jpg", "deadline": future}, http.StatusUnauthorized},
		{"bucket-wide token overwriting", map[string]any{"scope": testBucket, "deadline": future}, 614},
	}
	for _, c := range cases {
		key := "covers/4/c.jpg"
		if c.name == "bucket-wide token overwriting" {
			key = "covers/4/b.jpg"
		}
		if got := postForm(f.fake.UploadToken(c.policy), key); got != c.status {
			t.Errorf("%s: status %d, want %d", c.name, got, c.status)
		}
	}
	if got := postForm(f.fake.UploadToken(map[string]any{"scope": testBucket + ":covers/4/c.jpg", "deadline": future}), "covers/4/c.jpg"); got != http.StatusOK {
		t.Fatalf("a valid token was refused: %d (the checks above prove nothing)", got)
	}
}

func TestQiniuConfig(t *testing.T) {
	valid := func() QiniuConfig {
		return QiniuConfig{Bucket: "b", AccessKey: "ak", SecretKey: "sk", Domain: "https://cdn.example.com", URLTTL: time.Hour, ResumableThreshold: 4 << 20}
	}
	if err := (&Config{Backend: BackendLocal}).Validate(); err != nil {
		t.Fatalf("local backend: %v", err)
	}
	if err := (&Config{Backend: "s3"}).Validate(); err == nil {
		t.Fatal("unknown backend accepted")
	}
	c := valid()
	if err := (&Config{Backend: BackendQiniu, Qiniu: c}).Validate(); err != nil {
		t.Fatalf("valid qiniu config: %v", err)
	}
	bad := map[string]func(*QiniuConfig){
		"no bucket":           func(c *QiniuConfig) { c.Bucket = "" },
		"no keys":             func(c *QiniuConfig) { c.AccessKey, c.SecretKey = "", "" },
		"half the keys":       func(c *QiniuConfig) { c.SecretKey = "" },
		"keys and file":       func(c *QiniuConfig) { c.CredentialsFile = "/nonexistent" },
		"no domain":           func(c *QiniuConfig) { c.Domain = "" },
		"relative domain":     func(c *QiniuConfig) { c.Domain = "cdn.example.com" },
		"private without ttl": func(c *QiniuConfig) { c.Private, c.URLTTL = true, 0 },
		"up hosts alone":      func(c *QiniuConfig) { c.UpHosts = []string{"http://127.0.0.1:1"} },
		"bad region":          func(c *QiniuConfig) { c.Region = "Z0 " },
		"zero threshold":      func(c *QiniuConfig) { c.ResumableThreshold = 0 },
		"huge threshold":      func(c *QiniuConfig) { c.ResumableThreshold = 1 << 40 },
	}
	for name, edit := range bad {
		c := valid()
		edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := NewQiniu(c); err == nil {
			t.Errorf("%s: NewQiniu accepted", name)
		}
	}

	dir := t.TempDir()
	files := map[string]string{
		"lines": "AK1\nSK1\n",
		"yaml":  "access_key: AK1\nsecret_key: SK1\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		c := valid()
		c.AccessKey, c.SecretKey, c.CredentialsFile = "", "", p
		ak, sk, err := c.credentials()
		if err != nil || ak != "AK1" || sk != "SK1" {
			t.Errorf("credentials file (%s) = %q, %q, %v", name, ak, sk, err)
		}
	}
	for name, content := range map[string]string{"one line": "AK1\n", "yaml without secret": "access_key: AK1\n"} {
		p := filepath.Join(dir, "bad")
		os.WriteFile(p, []byte(content), 0o600)
		c := valid()
		c.AccessKey, c.SecretKey, c.CredentialsFile = "", "", p
		if err := c.Validate(); err == nil {
			t.Errorf("credentials file with %s accepted", name)
		}
	}

	// Flags: names, defaults, and the secrets refused outside the environment.
	var cfg Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.RegisterFlags(fs)
	err := config.Load(fs, []string{"-blob.backend=qiniu", "-blob.qiniu.up-hosts=http://a:1, http://b:2/", "-blob.qiniu.region=z0"},
		func(name string) (string, bool) {
			v, ok := map[string]string{"DOUYIN_BLOB_QINIU_ACCESS_KEY": "envak", "DOUYIN_BLOB_QINIU_SECRET_KEY": "envsk"}[name]
			return v, ok
		}, SecretFlags())
	if err != nil {
		t.Fatal(err)
	}
	q := cfg.Qiniu
	if cfg.Backend != BackendQiniu || q.AccessKey != "envak" || q.SecretKey != "envsk" || !slices.Equal(q.UpHosts, []string{"http://a:1", "http://b:2"}) ||
		q.URLTTL != time.Hour || q.ResumableThreshold != 4<<20 || !q.UseHTTPS || q.Uplog {
		t.Fatalf("flags parsed to %+v", cfg)
	}
	fs = flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	(&Config{}).RegisterFlags(fs)
	if err := config.Load(fs, []string{"-blob.qiniu.secret-key=leak"}, func(string) (string, bool) { return "", false }, SecretFlags()); err == nil {
		t.Fatal("the secret key was accepted on the command line")
	}

	// Uplog is opt-in; building a store without it switches the SDK's logging off again.
	t.Setenv("TMPDIR", t.TempDir())
	c = valid()
	c.Uplog = true
	if _, err := NewQiniu(c); err != nil || !uplog.IsUplogEnabled() {
		t.Fatalf("Uplog=true: err %v, enabled %v", err, uplog.IsUplogEnabled())
	}
	c.Uplog = false
	if _, err := NewQiniu(c); err != nil || uplog.IsUplogEnabled() {
		t.Fatalf("Uplog=false: err %v, enabled %v", err, uplog.IsUplogEnabled())
	}
}
