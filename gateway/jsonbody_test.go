package gateway

import (
	"bytes"
	"strings"
	"testing"

	hertzjson "github.com/cloudwego/hertz/pkg/common/json"
	"github.com/cloudwego/hertz/pkg/protocol"

	"github.com/douyin-backend/douyin/gateway/internal/apimodel/api"
	"github.com/douyin-backend/douyin/gateway/internal/apimodel/base"
)

// jsonBody writes exactly what c.JSON writes: HTML escaping, sorted map keys, invalid UTF-8
// replaced, across buffer reuse and pages larger than the pooled buffers.
func TestJSONBodyMatchesHertzJSON(t *testing.T) {
	tricky := "<b>&amp;</b> \u2028\u2029 \xff\xfe 评论 \"quoted\" \\ \n"
	values := []any{
		&api.FeedResponse{StatusMsg: tricky, VideoList: []*base.Video{{ID: 1, Title: tricky, Author: &base.User{Name: tricky}, Renditions: []*base.Rendition{}}}},
		map[string]any{"z": tricky, "a": []int{3, 1}, "m": map[string]int{"y": 1, "b": 2}},
		&api.CommentListResponse{CommentList: []*base.Comment{}},
		map[string]string{"big": strings.Repeat("<&>", maxPooledJSON)},
		&api.FeedResponse{VideoList: []*base.Video{}},
	}
	r := jsonBody{bufs: newJSONBuffers()}
	for i, v := range values {
		want, err := hertzjson.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var resp protocol.Response
		r.v = v
		if err := r.Render(&resp); err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		if got := resp.Body(); !bytes.Equal(got, want) {
			t.Errorf("value %d:\n got %s\nwant %s", i, got, want)
		}
		if ct := string(resp.Header.ContentType()); ct != "application/json; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
	}
}
