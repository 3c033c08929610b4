// Package qiniufake is an in-memory stand-in for the parts of Qiniu Kodo that blob.Qiniu
// uses, for tests: form upload, multipart upload v2, the rs delete call, and downloads, with
// upload tokens, management signatures and private download URLs checked against the
// configured keys. Qiniu itself is unreachable from CI, so this is what the adapter's tests
// run against. The API shapes follow go-sdk v7.27.0 (storagev2/apis).
package qiniufake

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits Qiniu enforces on multipart upload v2.
const (
	minPartSize = 1 << 20
	maxPartSize = 1 << 30
	maxParts    = 10000
	// maxClockSkew is how far X-Qiniu-Date may be from the server's clock.
	maxClockSkew = 15 * time.Minute
)

// Options configures a Server.
type Options struct {
	Bucket    string
	AccessKey string
	SecretKey string
	// Private makes downloads require a signed URL (e=<deadline>&token=AK:sign).
	Private bool
}

// Stats counts what the server saw, so tests can tell which upload method was used and that
// bad credentials were refused rather than ignored.
type Stats struct {
	FormUploads      int // successful form uploads
	MultipartInits   int // successful multipart initiations
	PartsUploaded    int // successful part uploads
	MultipartDone    int // successful multipart completions
	Deletes          int // delete calls that removed an object
	Downloads        int // successful GETs
	RejectedTokens   int // upload tokens refused: bad signature, unknown key, expired, wrong scope
	RejectedSigns    int // management signatures refused
	RejectedURLs     int // private download URLs refused
	OtherBadRequests int // malformed requests
}

// Server is the fake. Its URL serves the upload, rs and download APIs on one host.
type Server struct {
	URL string

	opts Options
	srv  *httptest.Server

	mu      sync.Mutex
	objects map[string][]byte
	uploads map[string]*upload // by upload id
	stats   Stats
}

type upload struct {
	key   string
	parts map[int64]part
}

type part struct {
	data []byte
	etag string
}

// New starts a fake serving opts.Bucket. Close it when done.
func New(opts Options) *Server {
	s := &Server{
		opts:    opts,
		objects: map[string][]byte{},
		uploads: map[string]*upload{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Object returns a copy of the stored object.
func (s *Server) Object(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	return bytes.Clone(b), ok
}

// Keys lists the stored keys, sorted.
func (s *Server) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.objects))
	for k := range s.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// PendingUploads counts multipart uploads initiated and neither completed nor aborted.
func (s *Server) PendingUploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

// UploadToken signs a put policy with the server's keys, the way Qiniu expects it; tests
// use it to build tokens the adapter would never make (wrong scope, expired).
func (s *Server) UploadToken(policy map[string]any) string {
	return SignUploadToken(s.opts.AccessKey, s.opts.SecretKey, policy)
}

// SignUploadToken returns AK:base64url(HMAC-SHA1(SK, encodedPolicy)):encodedPolicy.
func SignUploadToken(accessKey, secretKey string, policy map[string]any) string {
	raw, _ := json.Marshal(policy)
	encoded := base64.URLEncoding.EncodeToString(raw)
	return accessKey + ":" + sign(secretKey, encoded) + ":" + encoded
}

func sign(secretKey, data string) string {
	h := hmac.New(sha1.New, []byte(secretKey))
	h.Write([]byte(data))
	return base64.URLEncoding.EncodeToString(h.Sum(nil))
}

// Causes of refusal, counted separately in Stats.
const (
	causeOther = iota
	causeToken
	causeSignature
	causeMissing
)

// apiError is a Qiniu-style error reply.
type apiError struct {
	status int
	msg    string
	cause  int
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

func fail(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...), cause: causeOther}
}

func missing(status int, msg string) *apiError {
	return &apiError{status: status, msg: msg, cause: causeMissing}
}

func badToken(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...), cause: causeToken}
}

func badSignature(format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnauthorized, msg: fmt.Sprintf(format, args...), cause: causeSignature}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// The SDK refuses (as hijacked) any answer without a request id.
	w.Header().Set("X-Reqid", newID())
	var (
		reply any
		err   *apiError
	)
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/":
		reply, err = s.formUpload(r)
	case len(segs) >= 5 && segs[0] == "buckets" && segs[2] == "objects" && segs[4] == "uploads":
		reply, err = s.multipart(r, segs)
	case r.Method == http.MethodPost && len(segs) == 2 && segs[0] == "delete":
		reply, err = s.delete(r, segs[1])
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		s.download(w, r)
		return
	default:
		err = fail(http.StatusNotFound, "no such API: %s %s", r.Method, r.URL.Path)
	}
	if err != nil {
		s.count(err)
		writeJSON(w, err.status, map[string]string{"error": err.msg})
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) count(err *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch err.cause {
	case causeToken:
		s.stats.RejectedTokens++
	case causeSignature:
		s.stats.RejectedSigns++
	case causeOther:
		s.stats.OtherBadRequests++
	}
}

// policy is the part of a put policy the fake honours.
type policy struct {
	Scope      string `json:"scope"`
	Deadline   int64  `json:"deadline"`
	InsertOnly int    `json:"insertOnly"`
	Prefixal   int    `json:"isPrefixalScope"`
	ReturnBody string `json:"returnBody"`
}

// checkUploadToken verifies the token's signature, deadline and scope for key.
func (s *Server) checkUploadToken(token, key string) (*policy, *apiError) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 {
		return nil, badToken(http.StatusUnauthorized, "bad token: want AK:sign:policy")
	}
	if parts[0] != s.opts.AccessKey {
		return nil, badToken(http.StatusUnauthorized, "bad token: unknown access key")
	}
	if subtle.ConstantTimeCompare([]byte(parts[1]), []byte(sign(s.opts.SecretKey, parts[2]))) != 1 {
		return nil, badToken(http.StatusUnauthorized, "bad token: signature mismatch")
	}
	raw, err := base64.URLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, badToken(http.StatusUnauthorized, "bad token: policy encoding")
	}
	var p policy
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, badToken(http.StatusUnauthorized, "bad token: policy JSON")
	}
	if p.Deadline < time.Now().Unix() {
		return nil, badToken(http.StatusUnauthorized, "expired token")
	}
	bucket, scopeKey, hasKey := strings.Cut(p.Scope, ":")
	if bucket != s.opts.Bucket {
		return nil, badToken(http.StatusUnauthorized, "bad token: no such bucket %q", bucket)
	}
	switch {
	case !hasKey:
	case p.Prefixal == 1 && strings.HasPrefix(key, scopeKey):
	case p.Prefixal != 1 && key == scopeKey:
	default:
		return nil, badToken(http.StatusForbidden, "key doesn't match with scope")
	}
	return &p, nil
}

// mayWrite applies Qiniu's overwrite rule: a token scoped to the bucket alone, or with
// insertOnly, only creates.
func mayWrite(p *policy, exists bool) *apiError {
	if exists && (!strings.Contains(p.Scope, ":") || p.InsertOnly == 1) {
		return fail(614, "file exists")
	}
	return nil
}

// store saves data under key and answers as Qiniu does: the policy's returnBody with magic
// variables filled in, or {"hash","key"}.
func (s *Server) store(p *policy, key string, data []byte) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, exists := s.objects[key]
	if err := mayWrite(p, exists); err != nil {
		return nil, err
	}
	s.objects[key] = data
	hash := etag(data)
	if p.ReturnBody == "" {
		return map[string]string{"hash": hash, "key": key}, nil
	}
	body := strings.NewReplacer(
		"$(key)", key, "$(etag)", hash, "$(hash)", hash, "$(bucket)", s.opts.Bucket,
		"$(fsize)", strconv.Itoa(len(data)),
	).Replace(p.ReturnBody)
	if !json.Valid([]byte(body)) {
		return nil, fail(http.StatusBadRequest, "returnBody is not JSON after substitution")
	}
	return json.RawMessage(body), nil
}

func (s *Server) formUpload(r *http.Request) (any, *apiError) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, fail(http.StatusBadRequest, "form upload needs multipart/form-data")
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	fields := map[string]string{}
	var data []byte
	haveFile := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fail(http.StatusBadRequest, "read form: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, fail(http.StatusBadRequest, "read form field %s: %v", p.FormName(), err)
		}
		if p.FormName() == "file" {
			data, haveFile = b, true
		} else {
			fields[p.FormName()] = string(b)
		}
	}
	if !haveFile {
		return nil, fail(http.StatusBadRequest, "file is missing")
	}
	key, ok := fields["key"]
	if !ok {
		return nil, fail(http.StatusBadRequest, "key is missing (the fake does not name objects by hash)")
	}
	p, apiErr := s.checkUploadToken(fields["token"], key)
	if apiErr != nil {
		return nil, apiErr
	}
	if c, ok := fields["crc32"]; ok {
		want, err := strconv.ParseUint(c, 10, 32)
		if err != nil || uint32(want) != crc32.ChecksumIEEE(data) {
			return nil, fail(406, "crc32 not match")
		}
	}
	reply, apiErr := s.store(p, key, data)
	if apiErr == nil {
		s.mu.Lock()
		s.stats.FormUploads++
		s.mu.Unlock()
	}
	return reply, apiErr
}

// multipart serves /buckets/<bucket>/objects/<b64 key>/uploads[/<id>[/<part>]].
func (s *Server) multipart(r *http.Request, segs []string) (any, *apiError) {
	if segs[1] != s.opts.Bucket {
		return nil, fail(631, "no such bucket")
	}
	if segs[3] == "~" {
		return nil, fail(http.StatusBadRequest, "the fake needs an object key")
	}
	rawKey, err := base64.URLEncoding.DecodeString(segs[3])
	if err != nil {
		return nil, fail(http.StatusBadRequest, "object key is not base64url")
	}
	key := string(rawKey)
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "UpToken ")
	if !ok {
		return nil, badToken(http.StatusUnauthorized, "bad token: no UpToken authorization")
	}
	p, apiErr := s.checkUploadToken(token, key)
	if apiErr != nil {
		return nil, apiErr
	}
	switch {
	case len(segs) == 5 && r.Method == http.MethodPost:
		id := newID()
		s.mu.Lock()
		s.uploads[id] = &upload{key: key, parts: map[int64]part{}}
		s.stats.MultipartInits++
		s.mu.Unlock()
		return map[string]any{"uploadId": id, "expireAt": time.Now().Add(7 * 24 * time.Hour).Unix()}, nil
	case len(segs) == 7 && r.Method == http.MethodPut:
		return s.uploadPart(r, key, segs[5], segs[6])
	case len(segs) == 6 && r.Method == http.MethodPost:
		return s.complete(r, p, key, segs[5])
	case len(segs) == 6 && r.Method == http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		if u, ok := s.uploads[segs[5]]; !ok || u.key != key {
			return nil, missing(612, "no such upload")
		}
		delete(s.uploads, segs[5])
		return map[string]any{}, nil
	}
	return nil, fail(http.StatusNotFound, "no such API: %s %s", r.Method, r.URL.Path)
}

func (s *Server) uploadPart(r *http.Request, key, id, number string) (any, *apiError) {
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n < 1 || n > maxParts {
		return nil, fail(http.StatusBadRequest, "part number %q out of range", number)
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxPartSize+1))
	if err != nil {
		return nil, fail(http.StatusBadRequest, "read part: %v", err)
	}
	if len(data) == 0 || len(data) > maxPartSize {
		return nil, fail(http.StatusBadRequest, "part size %d out of range", len(data))
	}
	sum := md5.Sum(data)
	if want := r.Header.Get("Content-MD5"); want != "" && !strings.EqualFold(want, hex.EncodeToString(sum[:])) {
		return nil, fail(http.StatusBadRequest, "Content-MD5 mismatch")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.uploads[id]
	if !ok || u.key != key {
		return nil, missing(612, "no such upload")
	}
	tag := newID()
	u.parts[n] = part{data: data, etag: tag}
	s.stats.PartsUploaded++
	return map[string]string{"etag": tag, "md5": hex.EncodeToString(sum[:])}, nil
}

func (s *Server) complete(r *http.Request, p *policy, key, id string) (any, *apiError) {
	var req struct {
		Parts []struct {
			PartNumber int64  `json:"partNumber"`
			Etag       string `json:"etag"`
		} `json:"parts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return nil, fail(http.StatusBadRequest, "complete body: %v", err)
	}
	if len(req.Parts) == 0 {
		return nil, fail(http.StatusBadRequest, "no parts")
	}
	s.mu.Lock()
	u, ok := s.uploads[id]
	if !ok || u.key != key {
		s.mu.Unlock()
		return nil, missing(612, "no such upload")
	}
	var data []byte
	for i, pi := range req.Parts {
		pt, ok := u.parts[pi.PartNumber]
		switch {
		case i > 0 && pi.PartNumber <= req.Parts[i-1].PartNumber:
			s.mu.Unlock()
			return nil, fail(http.StatusBadRequest, "parts out of order")
		case !ok || pt.etag != pi.Etag:
			s.mu.Unlock()
			return nil, fail(http.StatusBadRequest, "part %d unknown or etag mismatch", pi.PartNumber)
		case i < len(req.Parts)-1 && len(pt.data) < minPartSize:
			s.mu.Unlock()
			return nil, fail(http.StatusBadRequest, "part %d is %d bytes; all but the last need at least %d", pi.PartNumber, len(pt.data), minPartSize)
		}
		data = append(data, pt.data...)
	}
	delete(s.uploads, id)
	s.stats.MultipartDone++
	s.mu.Unlock()
	return s.store(p, key, data)
}

// delete serves the rs call POST /delete/<base64url(bucket:key)>, signed with the
// management ("Qiniu") signature.
func (s *Server) delete(r *http.Request, encodedEntry string) (any, *apiError) {
	if err := s.checkManagementSignature(r); err != nil {
		return nil, err
	}
	raw, err := base64.URLEncoding.DecodeString(encodedEntry)
	if err != nil {
		return nil, fail(http.StatusBadRequest, "entry is not base64url")
	}
	bucket, key, ok := strings.Cut(string(raw), ":")
	if !ok || bucket != s.opts.Bucket {
		return nil, fail(631, "no such bucket")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[key]; !ok {
		return nil, missing(612, "no such file or directory")
	}
	delete(s.objects, key)
	s.stats.Deletes++
	return map[string]any{}, nil
}

// checkManagementSignature verifies "Authorization: Qiniu AK:sign", where sign is the
// HMAC-SHA1 of "<METHOD> <path>[?query]\nHost: <host>\nContent-Type: <type>\n", the sorted
// X-Qiniu-* headers as "Name: value\n", a blank line, and the body for form or JSON bodies.
func (s *Server) checkManagementSignature(r *http.Request) *apiError {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Qiniu ")
	if !ok {
		return badSignature("bad signature: no Qiniu authorization")
	}
	ak, got, ok := strings.Cut(token, ":")
	if !ok || ak != s.opts.AccessKey {
		return badSignature("bad signature: unknown access key")
	}
	if date := r.Header.Get("X-Qiniu-Date"); date != "" {
		t, err := time.Parse("20060102T150405Z", date)
		if err != nil || time.Since(t).Abs() > maxClockSkew {
			return badSignature("bad signature: X-Qiniu-Date %q too far from now", date)
		}
	}
	contentType := r.Header.Get("Content-Type")
	if contentType == "" {
		contentType = "application/x-www-form-urlencoded"
	}
	var b strings.Builder
	b.WriteString(r.Method + " " + r.URL.Path)
	if r.URL.RawQuery != "" {
		b.WriteString("?" + r.URL.RawQuery)
	}
	b.WriteString("\nHost: " + r.Host + "\nContent-Type: " + contentType + "\n")
	var names []string
	for name := range r.Header {
		if c := textproto.CanonicalMIMEHeaderKey(name); len(c) > len("X-Qiniu-") && strings.HasPrefix(c, "X-Qiniu-") {
			names = append(names, c)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		b.WriteString(name + ": " + r.Header.Get(name) + "\n")
	}
	b.WriteString("\n")
	if contentType == "application/x-www-form-urlencoded" || contentType == "application/json" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return fail(http.StatusBadRequest, "read body: %v", err)
		}
		b.Write(body)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(sign(s.opts.SecretKey, b.String()))) != 1 {
		return badSignature("bad signature: mismatch")
	}
	return nil
}

// download serves GET /<key>, requiring e=<deadline>&token=AK:sign on a private bucket, the
// sign covering "http://<host>/<path>?e=<deadline>".
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/")
	if s.opts.Private {
		if err := s.checkPrivateURL(r); err != nil {
			s.mu.Lock()
			s.stats.RejectedURLs++
			s.mu.Unlock()
			writeJSON(w, err.status, map[string]string{"error": err.msg})
			return
		}
	}
	s.mu.Lock()
	data, ok := s.objects[key]
	if ok {
		s.stats.Downloads++
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Document not found"})
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Etag", `"`+etag(data)+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(data)
	}
}

// CheckPrivateURL reports whether rawURL, as handed to a client, would be accepted by the
// fake: signature by the server's keys over everything before "&token=", deadline not passed.
func (s *Server) CheckPrivateURL(rawURL string) error {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	if err := s.checkPrivateURL(req); err != nil {
		return err
	}
	return nil
}

func (s *Server) checkPrivateURL(r *http.Request) *apiError {
	q := r.URL.Query()
	e, token := q.Get("e"), q.Get("token")
	if e == "" || token == "" {
		return fail(http.StatusUnauthorized, "missing e or token")
	}
	deadline, err := strconv.ParseInt(e, 10, 64)
	if err != nil {
		return fail(http.StatusUnauthorized, "bad e")
	}
	if deadline < time.Now().Unix() {
		return fail(http.StatusUnauthorized, "token out of date")
	}
	ak, got, ok := strings.Cut(token, ":")
	if !ok || ak != s.opts.AccessKey {
		return fail(http.StatusUnauthorized, "bad token: unknown access key")
	}
	signed := "http://" + r.Host + r.URL.EscapedPath() + "?e=" + e
	if subtle.ConstantTimeCompare([]byte(got), []byte(sign(s.opts.SecretKey, signed))) != 1 {
		return fail(http.StatusUnauthorized, "bad token: signature mismatch")
	}
	return nil
}

// etag is Qiniu's content hash: SHA-1 of the data (≤ 4 MiB) or of the concatenated SHA-1s of
// its 4 MiB blocks, prefixed with 0x16 or 0x96 and base64url-encoded.
func etag(data []byte) string {
	const block = 4 << 20
	if len(data) <= block {
		sum := sha1.Sum(data)
		return base64.URLEncoding.EncodeToString(append([]byte{0x16}, sum[:]...))
	}
	var all []byte
	for off := 0; off < len(data); off += block {
		sum := sha1.Sum(data[off:min(off+block, len(data))])
		all = append(all, sum[:]...)
	}
	sum := sha1.Sum(all)
	return base64.URLEncoding.EncodeToString(append([]byte{0x96}, sum[:]...))
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
