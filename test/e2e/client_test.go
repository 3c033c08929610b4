package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/polltest"
)

// Error codes of idl/base.thrift as the edge reports them in status_code (10000, internal, is
// never expected).
const (
	codeOK               = 0
	codeInvalidParam     = 10001
	codeUnauthenticated  = 10002
	codeUserExists       = 10003
	codeLoginFailed      = 10004
	codeUserNotFound     = 10005
	codeVideoNotFound    = 10006
	codeCommentNotFound  = 10007
	codePermissionDenied = 10008
	codeFollowSelf       = 10009
	codeNotVideo         = 10010
	codeTooLarge         = 10011
)

const (
	pathFeed         = "/douyin/feed/"
	pathRegister     = "/douyin/user/register/"
	pathLogin        = "/douyin/user/login/"
	pathUser         = "/douyin/user/"
	pathPublish      = "/douyin/publish/action/"
	pathPublishList  = "/douyin/publish/list/"
	pathFavorite     = "/douyin/favorite/action/"
	pathFavoriteList = "/douyin/favorite/list/"
	pathComment      = "/douyin/comment/action/"
	pathCommentList  = "/douyin/comment/list/"
	pathRelation     = "/douyin/relation/action/"
	pathFollowList   = "/douyin/relation/follow/list/"
	pathFollowerList = "/douyin/relation/follower/list/"
	pathFriendList   = "/douyin/relation/friend/list/"
	pathMessage      = "/douyin/message/action/"
	pathChat         = "/douyin/message/chat/"
)

const (
	testPassword = "e2e-Pass-123"
	// garbageToken is syntactically URL-safe but was never issued.
	garbageToken = "not-a-real-token.abc.def"
	// missingID is an id no test creates (below 2^53, as every id must be).
	missingID = int64(1)<<52 + 424242
	// publishTimeout bounds how long a published video may take to show up: processing is
	// async, and the parallel tests' transcodes queue behind each other on a loaded 2-core box
	// (10 s timed out there once). Polling ends as soon as the video shows.
	publishTimeout  = 30 * time.Second
	publishInterval = 100 * time.Millisecond
)

// Objects of the contract.

type User struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	FollowCount     int64  `json:"follow_count"`
	FollowerCount   int64  `json:"follower_count"`
	IsFollow        bool   `json:"is_follow"`
	Avatar          string `json:"avatar"`
	BackgroundImage string `json:"background_image"`
	Signature       string `json:"signature"`
	TotalFavorited  int64  `json:"total_favorited"`
	WorkCount       int64  `json:"work_count"`
	FavoriteCount   int64  `json:"favorite_count"`
}

type Video struct {
	ID            int64  `json:"id"`
	Author        User   `json:"author"`
	PlayURL       string `json:"play_url"`
	CoverURL      string `json:"cover_url"`
	FavoriteCount int64  `json:"favorite_count"`
	CommentCount  int64  `json:"comment_count"`
	IsFavorite    bool   `json:"is_favorite"`
	Title         string `json:"title"`
	// Renditions is an addition to the app's contract, listed largest first.
	Renditions []Rendition `json:"renditions"`
}

type Rendition struct {
	Height int    `json:"height"`
	Width  int    `json:"width"`
	URL    string `json:"url"`
}

type Comment struct {
	ID         int64  `json:"id"`
	User       User   `json:"user"`
	Content    string `json:"content"`
	CreateDate string `json:"create_date"`
}

type Message struct {
	ID         int64  `json:"id"`
	ToUserID   int64  `json:"to_user_id"`
	FromUserID int64  `json:"from_user_id"`
	Content    string `json:"content"`
	CreateTime int64  `json:"create_time"`
}

// FriendUser is a User flattened with the latest message (note the camelCase msgType).
type FriendUser struct {
	User
	Message string `json:"message"`
	MsgType int64  `json:"msgType"`
}

type authResp struct {
	UserID int64  `json:"user_id"`
	Token  string `json:"token"`
}

type feedResp struct {
	VideoList []Video `json:"video_list"`
	NextTime  int64   `json:"next_time"`
}

// testUser is a freshly registered account.
type testUser struct {
	ID       int64
	Name     string
	Password string
	Token    string
}

// apiResp is one answer of the API: HTTP status, raw body, the body decoded as a generic JSON
// object (numbers as json.Number) and the envelope.
type apiResp struct {
	what       string
	HTTPStatus int
	Header     http.Header
	Body       []byte
	Raw        map[string]any
	Code       int64
	Msg        string
}

// client is a small typed client of the /douyin/ API.
type client struct {
	base  string
	hc    *http.Client // API calls: redirects are returned, never followed
	media *http.Client // play/cover/avatar URLs: ordinary client
}

func newClient(base string) *client {
	return &client{
		base: base,
		hc: &http.Client{
			Timeout:       60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		media: &http.Client{Timeout: 60 * time.Second},
	}
}

// closeIdle drops the client's idle keep-alive connections, so that a server being stopped
// has nothing left to drain.
func (c *client) closeIdle() {
	c.hc.CloseIdleConnections()
	c.media.CloseIdleConnections()
}

// vals builds url.Values from key, value pairs; values are formatted with fmt.Sprint.
func vals(kv ...any) url.Values {
	if len(kv)%2 != 0 {
		panic("vals: odd number of arguments")
	}
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i].(string), fmt.Sprint(kv[i+1]))
	}
	return v
}

// withToken adds the token parameter unless token is empty (anonymous call).
func withToken(v url.Values, token string) url.Values {
	if token != "" {
		v.Set("token", token)
	}
	return v
}

// do sends a request with every parameter in the query string, as the app does.
func (c *client) do(t *testing.T, method, path string, query url.Values) *apiResp {
	t.Helper()
	return c.send(t, method, path, query, nil, "", nil)
}

func (c *client) get(t *testing.T, path string, query url.Values) *apiResp {
	t.Helper()
	return c.do(t, http.MethodGet, path, query)
}

func (c *client) post(t *testing.T, path string, query url.Values) *apiResp {
	t.Helper()
	return c.do(t, http.MethodPost, path, query)
}

// postForm sends the parameters as an application/x-www-form-urlencoded body (no query).
func (c *client) postForm(t *testing.T, path string, form url.Values) *apiResp {
	t.Helper()
	return c.send(t, http.MethodPost, path, nil, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", nil)
}

// postJSON sends body as a JSON request body (no query).
func (c *client) postJSON(t *testing.T, path string, body any) *apiResp {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("marshal JSON body: %v", err)
	}
	return c.send(t, http.MethodPost, path, nil, bytes.NewReader(b), "application/json", nil)
}

// doBearer sends the token in an Authorization: Bearer header instead of a parameter.
func (c *client) doBearer(t *testing.T, method, path string, query url.Values, token string) *apiResp {
	t.Helper()
	return c.send(t, method, path, query, nil, "", http.Header{"Authorization": {"Bearer " + token}})
}

// send performs one API call and checks what every answer must satisfy: no redirect, a JSON
// object body with the status_code/status_msg envelope.
func (c *client) send(t *testing.T, method, path string, query url.Values, body io.Reader, contentType string, hdr http.Header) *apiResp {
	t.Helper()
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatalf("build request %s %s: %v", method, path, err)
	}
	if sr, ok := body.(*sizedReader); ok {
		req.ContentLength = sr.size
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	// Each call comes from its own client address (the server trusts loopback as a proxy), so
	// the per-IP limits see the suite as many clients; the limit tests set one address.
	req.Header.Set("X-Forwarded-For", nextClientAddr())
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if h := hdr.Get("Host"); h != "" {
		req.Host = h
	}
	what := describe(method, path, query)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: read body: %v", what, err)
	}
	r := &apiResp{what: what, HTTPStatus: resp.StatusCode, Header: resp.Header, Body: b}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		t.Fatalf("%s: HTTP %d redirect to %q; paths must be answered directly", what, resp.StatusCode, resp.Header.Get("Location"))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json (HTTP %d, body %s)", what, ct, resp.StatusCode, snippet(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&r.Raw); err != nil || r.Raw == nil {
		t.Fatalf("%s: HTTP %d: body is not a JSON object (%v): %s", what, resp.StatusCode, err, snippet(b))
	}
	code, ok := r.Raw["status_code"].(json.Number)
	if !ok {
		t.Fatalf("%s: status_code missing or not a number: %s", what, snippet(b))
	}
	if r.Code, err = code.Int64(); err != nil {
		t.Fatalf("%s: status_code %q is not an integer", what, code)
	}
	if r.Msg, ok = r.Raw["status_msg"].(string); !ok {
		t.Fatalf("%s: status_msg missing or not a string: %s", what, snippet(b))
	}
	return r
}

// describe names a call in failure messages: method, path and query, with the token redacted
// and long values shortened.
func describe(method, path string, query url.Values) string {
	if len(query) == 0 {
		return method + " " + path
	}
	short := url.Values{}
	for k, vs := range query {
		for _, v := range vs {
			switch {
			case k == "token":
				v = "…"
			case len(v) > 24:
				v = fmt.Sprintf("%.16s…(%d bytes)", v, len(v))
			}
			short.Add(k, v)
		}
	}
	q, _ := url.QueryUnescape(short.Encode())
	return method + " " + path + "?" + q
}

func snippet(b []byte) string {
	const limit = 600
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

// mustOK fails the test unless the call succeeded (HTTP 200, status_code 0).
func (r *apiResp) mustOK(t *testing.T) *apiResp {
	t.Helper()
	if r.HTTPStatus != http.StatusOK || r.Code != codeOK {
		t.Fatalf("%s: want HTTP 200 status_code 0, got HTTP %d status_code %d status_msg %q: %s",
			r.what, r.HTTPStatus, r.Code, r.Msg, snippet(r.Body))
	}
	return r
}

// leakMarkers must never appear in a status_msg: they reveal internals.
var leakMarkers = []string{"sql", "SQL", "gorm", "panic", "goroutine", ".go:", "/work/", "/tmp/"}

// wantErr asserts a failure with the given HTTP status and status_code, a non-empty status_msg
// and no leaked internals.
func (r *apiResp) wantErr(t *testing.T, httpStatus int, code int64) {
	t.Helper()
	if r.HTTPStatus != httpStatus || r.Code != code {
		t.Errorf("%s: want HTTP %d status_code %d, got HTTP %d status_code %d status_msg %q",
			r.what, httpStatus, code, r.HTTPStatus, r.Code, r.Msg)
	}
	if strings.TrimSpace(r.Msg) == "" {
		t.Errorf("%s: failure (status_code %d) with an empty status_msg", r.what, r.Code)
	}
	for _, m := range leakMarkers {
		if strings.Contains(r.Msg, m) {
			t.Errorf("%s: status_msg %q leaks internals (contains %q)", r.what, r.Msg, m)
		}
	}
}

// Shorthands for the common failures.
func (r *apiResp) wantInvalid(t *testing.T) {
	t.Helper()
	r.wantErr(t, http.StatusOK, codeInvalidParam)
}
func (r *apiResp) wantUnauth(t *testing.T) {
	t.Helper()
	r.wantErr(t, http.StatusUnauthorized, codeUnauthenticated)
}

// decodeAs decodes the body into a typed struct (catches wrong JSON types).
func decodeAs[T any](t *testing.T, r *apiResp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("%s: decode body into %T: %v: %s", r.what, v, err, snippet(r.Body))
	}
	return v
}

// Raw schema checks: every field of the contract must be present with the right JSON type.

type jsonKind int

const (
	kindInt jsonKind = iota
	kindString
	kindBool
	kindObject
)

var userFields = map[string]jsonKind{
	"id": kindInt, "name": kindString, "follow_count": kindInt, "follower_count": kindInt,
	"is_follow": kindBool, "avatar": kindString, "background_image": kindString, "signature": kindString,
	"total_favorited": kindInt, "work_count": kindInt, "favorite_count": kindInt,
}

var videoFields = map[string]jsonKind{
	"id": kindInt, "author": kindObject, "play_url": kindString, "cover_url": kindString,
	"favorite_count": kindInt, "comment_count": kindInt, "is_favorite": kindBool, "title": kindString,
}

var commentFields = map[string]jsonKind{
	"id": kindInt, "user": kindObject, "content": kindString, "create_date": kindString,
}

var messageFields = map[string]jsonKind{
	"id": kindInt, "to_user_id": kindInt, "from_user_id": kindInt, "content": kindString, "create_time": kindInt,
}

var friendFields = func() map[string]jsonKind {
	m := map[string]jsonKind{"message": kindString, "msgType": kindInt}
	for k, v := range userFields {
		m[k] = v
	}
	return m
}()

const maxSafeInt = int64(1) << 53

// checkFields asserts v is a JSON object holding every field with its kind; "id" fields must be
// positive and below 2^53. It returns the object.
func checkFields(t *testing.T, ctx string, v any, fields map[string]jsonKind) map[string]any {
	t.Helper()
	obj, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: want a JSON object, got %T (%v)", ctx, v, v)
	}
	for name, kind := range fields {
		val, present := obj[name]
		if !present {
			t.Errorf("%s: field %q is missing (fields must never be omitted)", ctx, name)
			continue
		}
		switch kind {
		case kindInt:
			n, ok := val.(json.Number)
			if !ok {
				t.Errorf("%s: field %q = %v (%T), want an integer", ctx, name, val, val)
				continue
			}
			i, err := n.Int64()
			if err != nil {
				t.Errorf("%s: field %q = %s, want an integer", ctx, name, n)
				continue
			}
			if (name == "id" || strings.HasSuffix(name, "_id")) && (i <= 0 || i >= maxSafeInt) {
				t.Errorf("%s: field %q = %d, want 0 < id < 2^53", ctx, name, i)
			}
		case kindString:
			if _, ok := val.(string); !ok {
				t.Errorf("%s: field %q = %v (%T), want a string", ctx, name, val, val)
			}
		case kindBool:
			if _, ok := val.(bool); !ok {
				t.Errorf("%s: field %q = %v (%T), want a bool", ctx, name, val, val)
			}
		case kindObject:
			if _, ok := val.(map[string]any); !ok {
				t.Errorf("%s: field %q = %v (%T), want an object", ctx, name, val, val)
			}
		}
	}
	return obj
}

func checkUser(t *testing.T, ctx string, v any) {
	t.Helper()
	checkFields(t, ctx, v, userFields)
}

func checkVideo(t *testing.T, ctx string, v any) {
	t.Helper()
	obj := checkFields(t, ctx, v, videoFields)
	if a, ok := obj["author"]; ok {
		checkUser(t, ctx+".author", a)
	}
}

func checkComment(t *testing.T, ctx string, v any) {
	t.Helper()
	obj := checkFields(t, ctx, v, commentFields)
	if u, ok := obj["user"]; ok {
		checkUser(t, ctx+".user", u)
	}
}

func checkMessage(t *testing.T, ctx string, v any) {
	t.Helper()
	checkFields(t, ctx, v, messageFields)
}

func checkFriend(t *testing.T, ctx string, v any) {
	t.Helper()
	checkFields(t, ctx, v, friendFields)
}

// checkList asserts raw[key] is a JSON array (never null or missing) and checks each element.
func checkList(t *testing.T, r *apiResp, key string, check func(*testing.T, string, any)) []any {
	t.Helper()
	v, present := r.Raw[key]
	if !present {
		t.Fatalf("%s: %q is missing; lists must always be present: %s", r.what, key, snippet(r.Body))
	}
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: %q = %v (%T), want an array ([] when empty, never null)", r.what, key, v, v)
	}
	for i, e := range list {
		check(t, fmt.Sprintf("%s %s[%d]", r.what, key, i), e)
	}
	return list
}

// requireInt asserts raw[key] is present and an integer and returns it.
func requireInt(t *testing.T, r *apiResp, key string) int64 {
	t.Helper()
	n, ok := r.Raw[key].(json.Number)
	if !ok {
		t.Fatalf("%s: %q missing or not a number: %s", r.what, key, snippet(r.Body))
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%s: %q = %s is not an integer", r.what, key, n)
	}
	return i
}

// Users.

var nameSeq atomic.Int64

// uniqueCore returns a fresh token of letters and digits (about 17 characters).
func uniqueCore() string {
	return "e2e" + strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatInt(nameSeq.Add(1), 36)
}

// uniqueName returns a fresh valid username (≤32 chars, e-mail like as the app's login screen).
func uniqueName(tag string) string {
	core := uniqueCore()
	const suffix = "@x.io"
	if room := 32 - len(core) - 1 - len(suffix); len(tag) > room {
		tag = tag[:room]
	}
	return core + "_" + tag + suffix
}

var urlSafeToken = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// checkAuth asserts a successful register/login answer and returns it.
func checkAuth(t *testing.T, r *apiResp) authResp {
	t.Helper()
	r.mustOK(t)
	requireInt(t, r, "user_id")
	a := decodeAs[authResp](t, r)
	if a.UserID <= 0 || a.UserID >= maxSafeInt {
		t.Errorf("%s: user_id = %d, want 0 < id < 2^53", r.what, a.UserID)
	}
	if !urlSafeToken.MatchString(a.Token) {
		t.Errorf("%s: token %q is empty or not URL-safe ([A-Za-z0-9._~-] only)", r.what, a.Token)
	}
	return a
}

func (c *client) registerRaw(t *testing.T, username, password string) *apiResp {
	t.Helper()
	return c.post(t, pathRegister, vals("username", username, "password", password))
}

func (c *client) loginRaw(t *testing.T, username, password string) *apiResp {
	t.Helper()
	return c.post(t, pathLogin, vals("username", username, "password", password))
}

// register creates a fresh user; tag only makes the name readable in logs.
func (c *client) register(t *testing.T, tag string) *testUser {
	t.Helper()
	name := uniqueName(tag)
	a := checkAuth(t, c.registerRaw(t, name, testPassword))
	return &testUser{ID: a.UserID, Name: name, Password: testPassword, Token: a.Token}
}

// userInfoRaw asks for a user; userID 0 omits user_id (the token's owner), token "" is anonymous.
func (c *client) userInfoRaw(t *testing.T, token string, userID int64) *apiResp {
	t.Helper()
	q := withToken(url.Values{}, token)
	if userID != 0 {
		q.Set("user_id", strconv.FormatInt(userID, 10))
	}
	return c.get(t, pathUser, q)
}

func (c *client) userInfo(t *testing.T, token string, userID int64) User {
	t.Helper()
	r := c.userInfoRaw(t, token, userID).mustOK(t)
	checkUser(t, r.what+" user", r.Raw["user"])
	return decodeAs[struct {
		User User `json:"user"`
	}](t, r).User
}

// Feed.

func (c *client) feedRaw(t *testing.T, token string, q url.Values) *apiResp {
	t.Helper()
	return c.get(t, pathFeed, withToken(q, token))
}

func (c *client) feedQuery(t *testing.T, token string, q url.Values) feedResp {
	t.Helper()
	return checkedFeedPage(t, c.feedRaw(t, token, q).mustOK(t))
}

// checkedFeedPage decodes a page of any feed, checked as the app reads /douyin/feed/: every
// video whole, next_time present, at most 30 videos.
func checkedFeedPage(t *testing.T, r *apiResp) feedResp {
	t.Helper()
	checkList(t, r, "video_list", checkVideo)
	requireInt(t, r, "next_time")
	f := decodeAs[feedResp](t, r)
	if len(f.VideoList) > 30 {
		t.Errorf("%s: %d videos, want at most 30", r.what, len(f.VideoList))
	}
	return f
}

// feedAt asks for the videos published strictly before latestTime (ms, or s below 1e11).
func (c *client) feedAt(t *testing.T, token string, latestTime int64) feedResp {
	t.Helper()
	return c.feedQuery(t, token, vals("latest_time", latestTime))
}

// feedNow asks for the newest videos (no latest_time).
func (c *client) feedNow(t *testing.T, token string) feedResp {
	t.Helper()
	return c.feedQuery(t, token, url.Values{})
}

// findInFeed pages through the feed from now until it finds the video; false when absent.
func (c *client) findInFeed(t *testing.T, token string, videoID int64) (Video, bool) {
	t.Helper()
	page := c.feedNow(t, token)
	for range 200 {
		if v, ok := findVideo(page.VideoList, videoID); ok {
			return v, true
		}
		if len(page.VideoList) == 0 || page.NextTime == 0 {
			return Video{}, false
		}
		page = c.feedAt(t, token, page.NextTime)
	}
	t.Fatalf("feed: video %d not found within 200 pages", videoID)
	return Video{}, false
}

// mustFindInFeed waits (processing is asynchronous) until the video is in the feed.
func (c *client) mustFindInFeed(t *testing.T, token string, videoID int64) Video {
	t.Helper()
	var v Video
	polltest.UntilEvery(t, publishTimeout, publishInterval, fmt.Sprintf("video %d in the feed", videoID), func() bool {
		var ok bool
		v, ok = c.findInFeed(t, token, videoID)
		return ok
	})
	return v
}

func findVideo(list []Video, id int64) (Video, bool) {
	for _, v := range list {
		if v.ID == id {
			return v, true
		}
	}
	return Video{}, false
}

func videoIDs(list []Video) []int64 {
	ids := make([]int64, len(list))
	for i, v := range list {
		ids[i] = v.ID
	}
	return ids
}

// Publish.

// upload is the file part of a publish request.
type upload struct {
	filename    string
	contentType string
	data        []byte
}

// publishRaw posts a multipart/form-data publish with the given text fields and optional file
// in field "data"; hdr adds request headers.
func (c *client) publishRaw(t *testing.T, fields map[string]string, file *upload, hdr http.Header) *apiResp {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatalf("multipart field %s: %v", k, err)
		}
	}
	if file != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="data"; filename=%q`, file.filename))
		h.Set("Content-Type", file.contentType)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatalf("multipart file part: %v", err)
		}
		if _, err := w.Write(file.data); err != nil {
			t.Fatalf("multipart file data: %v", err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatalf("multipart close: %v", err)
	}
	return c.send(t, http.MethodPost, pathPublish, nil, &body, mw.FormDataContentType(), hdr)
}

// sizedReader is a streamed request body whose length is announced in Content-Length.
type sizedReader struct {
	io.Reader
	size int64
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// publishStreamed posts a publish whose file part is clip followed by zero bytes up to fileSize,
// streamed rather than held in memory.
func (c *client) publishStreamed(t *testing.T, token, title string, clip []byte, fileSize int64) *apiResp {
	t.Helper()
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField("token", token)
	_ = mw.WriteField("title", title)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="data"; filename="big.mp4"`)
	h.Set("Content-Type", "video/mp4")
	if _, err := mw.CreatePart(h); err != nil {
		t.Fatalf("multipart file part: %v", err)
	}
	prefix := bytes.Clone(head.Bytes())
	head.Reset()
	if err := mw.Close(); err != nil {
		t.Fatalf("multipart close: %v", err)
	}
	suffix := head.Bytes()
	padding := fileSize - int64(len(clip))
	body := io.MultiReader(bytes.NewReader(prefix), bytes.NewReader(clip), io.LimitReader(zeros{}, padding), bytes.NewReader(suffix))
	size := int64(len(prefix)) + fileSize + int64(len(suffix))
	return c.send(t, http.MethodPost, pathPublish, nil, &sizedReader{body, size}, mw.FormDataContentType(), nil)
}

var (
	fixtureMu    sync.Mutex
	fixtureCache = map[string][]byte{}
)

// fixture returns the bytes of a clip under internal/seed/assets.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if b, ok := fixtureCache[name]; ok {
		return b
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "internal", "seed", "assets", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	fixtureCache[name] = b
	return b
}

func mp4Upload(t *testing.T, name string) *upload {
	t.Helper()
	return &upload{filename: name, contentType: "video/mp4", data: fixture(t, name)}
}

// publish uploads clip as u with title (which must be unique to u) and waits until the video is
// in u's publish list; it returns the video as listed there.
func (c *client) publish(t *testing.T, u *testUser, title, clip string) Video {
	t.Helper()
	c.publishRaw(t, map[string]string{"token": u.Token, "title": title}, mp4Upload(t, clip), nil).mustOK(t)
	return c.waitPublished(t, u, title)
}

func (c *client) waitPublished(t *testing.T, u *testUser, title string) Video {
	t.Helper()
	var found Video
	polltest.UntilEvery(t, publishTimeout, publishInterval, fmt.Sprintf("video %q ready in the publish list of user %d", title, u.ID), func() bool {
		for _, v := range c.publishList(t, u.Token, u.ID) {
			// The author sees the video at once; a placeholder cover marks it not ready yet.
			if v.Title == title && !strings.Contains(v.CoverURL, "/static/cover-") {
				found = v
				return true
			}
		}
		return false
	})
	return found
}

func (c *client) publishList(t *testing.T, token string, userID int64) []Video {
	t.Helper()
	r := c.get(t, pathPublishList, withToken(vals("user_id", userID), token)).mustOK(t)
	checkList(t, r, "video_list", checkVideo)
	return decodeAs[struct {
		VideoList []Video `json:"video_list"`
	}](t, r).VideoList
}

// publishedVideo returns the video as its author's publish list shows it to viewer token.
func (c *client) publishedVideo(t *testing.T, token string, authorID, videoID int64) Video {
	t.Helper()
	v, ok := findVideo(c.publishList(t, token, authorID), videoID)
	if !ok {
		t.Fatalf("video %d missing from the publish list of user %d", videoID, authorID)
	}
	return v
}

// Favorites.

func (c *client) favoriteRaw(t *testing.T, token string, videoID int64, action int) *apiResp {
	t.Helper()
	return c.post(t, pathFavorite, withToken(vals("video_id", videoID, "action_type", action), token))
}

func (c *client) like(t *testing.T, u *testUser, videoID int64) {
	t.Helper()
	c.favoriteRaw(t, u.Token, videoID, 1).mustOK(t)
}

func (c *client) unlike(t *testing.T, u *testUser, videoID int64) {
	t.Helper()
	c.favoriteRaw(t, u.Token, videoID, 2).mustOK(t)
}

func (c *client) favoriteList(t *testing.T, token string, userID int64) []Video {
	t.Helper()
	r := c.get(t, pathFavoriteList, withToken(vals("user_id", userID), token)).mustOK(t)
	checkList(t, r, "video_list", checkVideo)
	return decodeAs[struct {
		VideoList []Video `json:"video_list"`
	}](t, r).VideoList
}

// Comments.

func (c *client) commentRaw(t *testing.T, token string, q url.Values) *apiResp {
	t.Helper()
	return c.post(t, pathComment, withToken(q, token))
}

// comment posts text on the video as u and returns the comment from the answer.
func (c *client) comment(t *testing.T, u *testUser, videoID int64, text string) Comment {
	t.Helper()
	r := c.commentRaw(t, u.Token, vals("video_id", videoID, "action_type", 1, "comment_text", text)).mustOK(t)
	cm, present := r.Raw["comment"]
	if !present {
		t.Fatalf("%s: key \"comment\" missing on a post: %s", r.what, snippet(r.Body))
	}
	checkComment(t, r.what+" comment", cm)
	return decodeAs[struct {
		Comment Comment `json:"comment"`
	}](t, r).Comment
}

func (c *client) deleteCommentRaw(t *testing.T, token string, videoID, commentID int64) *apiResp {
	t.Helper()
	return c.commentRaw(t, token, vals("video_id", videoID, "action_type", 2, "comment_id", commentID))
}

func (c *client) commentList(t *testing.T, token string, videoID int64) []Comment {
	t.Helper()
	r := c.get(t, pathCommentList, withToken(vals("video_id", videoID), token)).mustOK(t)
	checkList(t, r, "comment_list", checkComment)
	return decodeAs[struct {
		CommentList []Comment `json:"comment_list"`
	}](t, r).CommentList
}

// Relations.

func (c *client) relationRaw(t *testing.T, token string, toUserID int64, action int) *apiResp {
	t.Helper()
	return c.post(t, pathRelation, withToken(vals("to_user_id", toUserID, "action_type", action), token))
}

func (c *client) follow(t *testing.T, u *testUser, toUserID int64) {
	t.Helper()
	c.relationRaw(t, u.Token, toUserID, 1).mustOK(t)
}

func (c *client) unfollow(t *testing.T, u *testUser, toUserID int64) {
	t.Helper()
	c.relationRaw(t, u.Token, toUserID, 2).mustOK(t)
}

func (c *client) userList(t *testing.T, path, token string, userID int64) []User {
	t.Helper()
	r := c.get(t, path, withToken(vals("user_id", userID), token)).mustOK(t)
	checkList(t, r, "user_list", checkUser)
	return decodeAs[struct {
		UserList []User `json:"user_list"`
	}](t, r).UserList
}

func (c *client) followList(t *testing.T, token string, userID int64) []User {
	t.Helper()
	return c.userList(t, pathFollowList, token, userID)
}

func (c *client) followerList(t *testing.T, token string, userID int64) []User {
	t.Helper()
	return c.userList(t, pathFollowerList, token, userID)
}

// friendList returns the friends of the token's owner.
func (c *client) friendList(t *testing.T, token string) []FriendUser {
	t.Helper()
	r := c.get(t, pathFriendList, withToken(url.Values{}, token)).mustOK(t)
	checkList(t, r, "user_list", checkFriend)
	return decodeAs[struct {
		UserList []FriendUser `json:"user_list"`
	}](t, r).UserList
}

func userIDs(list []User) []int64 {
	ids := make([]int64, len(list))
	for i, u := range list {
		ids[i] = u.ID
	}
	return ids
}

func findUser(list []User, id int64) (User, bool) {
	for _, u := range list {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

// Messages.

func (c *client) messageRaw(t *testing.T, token string, q url.Values) *apiResp {
	t.Helper()
	return c.post(t, pathMessage, withToken(q, token))
}

func (c *client) sendMessage(t *testing.T, from *testUser, toUserID int64, content string) {
	t.Helper()
	c.messageRaw(t, from.Token, vals("to_user_id", toUserID, "action_type", 1, "content", content)).mustOK(t)
}

func (c *client) chatRaw(t *testing.T, token string, q url.Values) *apiResp {
	t.Helper()
	return c.get(t, pathChat, withToken(q, token))
}

// chat returns u's conversation with toUserID; preMsgTime < 0 omits pre_msg_time.
func (c *client) chat(t *testing.T, u *testUser, toUserID, preMsgTime int64) []Message {
	t.Helper()
	q := vals("to_user_id", toUserID)
	if preMsgTime >= 0 {
		q.Set("pre_msg_time", strconv.FormatInt(preMsgTime, 10))
	}
	r := c.chatRaw(t, u.Token, q).mustOK(t)
	checkList(t, r, "message_list", checkMessage)
	return decodeAs[struct {
		MessageList []Message `json:"message_list"`
	}](t, r).MessageList
}

// Media.

// fetch GETs an absolute media URL (following redirects) and returns the response and body.
func (c *client) fetch(t *testing.T, rawURL string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatalf("GET %q: %v", rawURL, err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := c.media.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", rawURL, err)
	}
	return resp, b
}

// checkAbsoluteURL asserts raw is an absolute http(s) URL.
func checkAbsoluteURL(t *testing.T, what, raw string) bool {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Errorf("%s = %q, want an absolute http(s) URL", what, raw)
		return false
	}
	return true
}

// checkPlayable asserts the URL serves an MP4 (ftyp box at bytes 4..8).
func (c *client) checkPlayable(t *testing.T, what, playURL string) {
	t.Helper()
	if !checkAbsoluteURL(t, what, playURL) {
		return
	}
	resp, b := c.fetch(t, playURL, nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s %s: HTTP %d, want 200", what, playURL, resp.StatusCode)
		return
	}
	if len(b) < 8 || string(b[4:8]) != "ftyp" {
		t.Errorf("GET %s %s: body (%d bytes) does not start with an MP4 ftyp box: % x", what, playURL, len(b), b[:min(len(b), 16)])
	}
}

// checkRange asserts the URL honours "Range: bytes=0-99".
func (c *client) checkRange(t *testing.T, what, playURL string) {
	t.Helper()
	resp, b := c.fetch(t, playURL, http.Header{"Range": {"bytes=0-99"}})
	if resp.StatusCode != http.StatusPartialContent {
		t.Errorf("GET %s %s with Range bytes=0-99: HTTP %d, want 206", what, playURL, resp.StatusCode)
	}
	if len(b) != 100 {
		t.Errorf("GET %s %s with Range bytes=0-99: %d bytes, want 100", what, playURL, len(b))
	}
	if cr := resp.Header.Get("Content-Range"); !strings.HasPrefix(cr, "bytes 0-99/") {
		t.Errorf("GET %s %s with Range bytes=0-99: Content-Range %q, want bytes 0-99/<size>", what, playURL, cr)
	}
}

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
)

// checkImage asserts the URL serves an image: 200 with an image/* Content-Type, and with
// rasterOnly a JPEG or PNG signature.
func (c *client) checkImage(t *testing.T, what, imgURL string, rasterOnly bool) {
	t.Helper()
	if !checkAbsoluteURL(t, what, imgURL) {
		return
	}
	resp, b := c.fetch(t, imgURL, nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s %s: HTTP %d, want 200", what, imgURL, resp.StatusCode)
		return
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
		t.Errorf("GET %s %s: Content-Type %q, want image/*", what, imgURL, ct)
	}
	if rasterOnly && !bytes.HasPrefix(b, jpegMagic) && !bytes.HasPrefix(b, pngMagic) {
		t.Errorf("GET %s %s: body (%d bytes) is neither JPEG nor PNG: % x", what, imgURL, len(b), b[:min(len(b), 16)])
	}
}

// Small assertion helpers.

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// wantCounts compares the counters of a user (as seen by anyone) with the expectation.
type counts struct {
	Follow, Follower, TotalFavorited, Work, Favorite int64
}

func countsOf(u User) counts {
	return counts{u.FollowCount, u.FollowerCount, u.TotalFavorited, u.WorkCount, u.FavoriteCount}
}

func (c *client) wantCounts(t *testing.T, ctx string, userID int64, want counts) {
	t.Helper()
	if got := countsOf(c.userInfo(t, "", userID)); got != want {
		t.Errorf("%s: counters of user %d = %+v, want %+v", ctx, userID, got, want)
	}
}
