package gateway

import (
	"testing"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/internal/errs"
	basecode "github.com/douyin-backend/douyin/kitex_gen/base"
)

func request(uri, contentType, body string) *app.RequestContext {
	c := app.NewContext(0)
	c.Request.SetRequestURI(uri)
	c.Request.Header.SetMethod("POST")
	if contentType != "" {
		c.Request.Header.SetContentTypeBytes([]byte(contentType))
		c.Request.SetBodyString(body)
	}
	return c
}

func TestBindSourcesInContractOrder(t *testing.T) {
	var b binder
	cases := []struct {
		name        string
		c           *app.RequestContext
		wantVideo   int64
		wantAction  int32
		wantComment *string
	}{
		{"query", request("/x?video_id=7&action_type=1&token=t", "", ""), 7, 1, nil},
		{"form", request("/x", "application/x-www-form-urlencoded", "video_id=8&action_type=2&comment_text=hi"), 8, 2, ptr("hi")},
		{"json numbers and strings", request("/x", "application/json", `{"video_id":9,"action_type":"1","comment_text":"yo"}`), 9, 1, ptr("yo")},
		{"query wins over form", request("/x?video_id=1&action_type=1", "application/x-www-form-urlencoded", "video_id=2&action_type=2"), 1, 1, nil},
		{"form fills what the query lacks", request("/x?video_id=3", "application/x-www-form-urlencoded", "action_type=2"), 3, 2, nil},
		{"query wins over json", request("/x?video_id=4&action_type=1", "application/json", `{"video_id":5,"action_type":2}`), 4, 1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var req api.CommentActionRequest
			if err := b.bind(tc.c, &req); err != nil {
				t.Fatalf("bind: %v", err)
			}
			if req.VideoID != tc.wantVideo || req.ActionType != tc.wantAction {
				t.Fatalf("got video_id=%d action_type=%d, want %d %d", req.VideoID, req.ActionType, tc.wantVideo, tc.wantAction)
			}
			if (req.CommentText == nil) != (tc.wantComment == nil) || (req.CommentText != nil && *req.CommentText != *tc.wantComment) {
				t.Fatalf("comment_text = %v, want %v", req.CommentText, tc.wantComment)
			}
		})
	}
}

func TestBindErrorsNameTheParameter(t *testing.T) {
	var b binder
	cases := []struct {
		uri, contentType, body, want string
	}{
		{"/x?action_type=1", "", "", "video_id is required"},
		{"/x?video_id=abc&action_type=1", "", "", "video_id must be an integer"},
		{"/x?video_id=1&action_type=99999999999", "", "", "action_type must be an integer"},
		{"/x", "application/json", `{"video_id":`, "the JSON body is malformed"},
	}
	for _, tc := range cases {
		var req api.FavoriteActionRequest
		err := b.bind(request(tc.uri, tc.contentType, tc.body), &req)
		code, msg := errs.Code(err)
		if code != basecode.ErrCode_InvalidParam || msg != tc.want {
			t.Errorf("bind(%s %s) = %v %q, want InvalidParam %q", tc.uri, tc.body, code, msg, tc.want)
		}
	}
	// The token is optional at binding time: it may come from the Authorization header.
	var req api.FavoriteActionRequest
	if err := b.bind(request("/x?video_id=1&action_type=1", "", ""), &req); err != nil || req.Token != "" {
		t.Fatalf("missing token must bind as empty: %v", err)
	}
}

func ptr(s string) *string { return &s }

func TestFeedCursor(t *testing.T) {
	cases := map[int64]int64{
		0:             0,
		-5:            0,
		1700000000:    1700000000000, // seconds
		1700000000123: 1700000000123, // milliseconds, as the app sends
		1000:          1000000,
	}
	for in, want := range cases {
		if got := feedCursor(in); got != want {
			t.Errorf("feedCursor(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestVideoExtension(t *testing.T) {
	mp4 := append([]byte{0, 0, 0, 0x20}, []byte("ftypisom\x00\x00\x02\x00")...)
	mov := append([]byte{0, 0, 0, 0x14}, []byte("ftypqt  \x00\x00\x00\x00")...)
	webm := append([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01}, []byte("webm")...)
	avi := []byte("RIFF\x00\x00\x00\x00AVI LIST")
	cases := []struct {
		head []byte
		ext  string
		ok   bool
	}{
		{mp4, ".mp4", true},
		{mov, ".mov", true},
		{webm, ".webm", true},
		{avi, ".avi", true},
		{[]byte("FLV\x01"), ".flv", true},
		{[]byte("this is a text file named x.mp4"), "", false},
		{[]byte("\x89PNG\r\n\x1a\n"), "", false},
		{nil, "", false},
	}
	for _, tc := range cases {
		ext, ok := videoExtension(tc.head)
		if ext != tc.ext || ok != tc.ok {
			t.Errorf("videoExtension(%q) = %q %v, want %q %v", tc.head, ext, ok, tc.ext, tc.ok)
		}
	}
}

func TestEveryErrorCodeHasAnOutcome(t *testing.T) {
	internal := outcomeOf(basecode.ErrCode_InternalError)
	if internal.httpStatus != 500 || internal.message == "" {
		t.Fatalf("internal error outcome %+v", internal)
	}
	seen := 0
	for code := basecode.ErrCode(0); code < 20000; code++ {
		if _, err := basecode.ErrCodeFromString(code.String()); err != nil {
			continue // not a code of the IDL
		}
		seen++
		o := outcomeOf(code)
		if o.message == "" || (code != basecode.ErrCode_InternalError && o == internal) {
			t.Errorf("error code %v falls through to the internal-error outcome: add it to outcomeOf", code)
		}
	}
	if seen < 15 {
		t.Errorf("found %d codes in the IDL, want at least 15", seen)
	}
	if o := outcomeOf(basecode.ErrCode(424242)); o != internal {
		t.Errorf("unknown code answered %+v, want the internal-error outcome", o)
	}
}
