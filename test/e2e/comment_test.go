package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var mmdd = regexp.MustCompile(`^\d{2}-\d{2}$`)

// plausibleDates are the mm-dd strings of today ±1 day in local time and UTC (the server's zone
// is its own choice).
func plausibleDates() []string {
	var out []string
	now := time.Now()
	for _, d := range []int{-1, 0, 1} {
		ts := now.AddDate(0, 0, d)
		out = append(out, ts.Format("01-02"), ts.UTC().Format("01-02"))
	}
	return out
}

func commentIDs(list []Comment) []int64 {
	ids := make([]int64, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids
}

// wantComments asserts the comment list (newest first) and the video's comment_count in the
// publish list and the feed.
func wantComments(t *testing.T, ctx string, author *testUser, videoID int64, want ...int64) {
	t.Helper()
	if got := commentIDs(api.commentList(t, "", videoID)); !equalIDs(got, want) {
		t.Errorf("%s: comment list = %v, want newest first %v", ctx, got, want)
	}
	n := int64(len(want))
	if got := api.publishedVideo(t, "", author.ID, videoID).CommentCount; got != n {
		t.Errorf("%s: comment_count in the publish list = %d, want %d", ctx, got, n)
	}
	if got := api.mustFindInFeed(t, "", videoID).CommentCount; got != n {
		t.Errorf("%s: comment_count in the feed = %d, want %d", ctx, got, n)
	}
}

func TestCommentLifecycle(t *testing.T) {
	t.Parallel()
	author := api.register(t, "cmtauth")
	alice := api.register(t, "cmtalice")
	bob := api.register(t, "cmtbob")
	carol := api.register(t, "cmtcarol")
	v := api.publish(t, author, "comment on me", "testsrc.mp4")

	r := api.get(t, pathCommentList, vals("video_id", v.ID)).mustOK(t)
	if list := checkList(t, r, "comment_list", checkComment); len(list) != 0 {
		t.Fatalf("new video has %d comments, want []", len(list))
	}

	text1 := "first comment 🎉 第一"
	c1 := api.comment(t, alice, v.ID, text1)
	if c1.ID <= 0 || c1.Content != text1 || c1.User.ID != alice.ID || c1.User.Name != alice.Name {
		t.Errorf("posted comment = {id %d content %q user {id %d name %q}}, want {>0 %q {%d %q}}",
			c1.ID, c1.Content, c1.User.ID, c1.User.Name, text1, alice.ID, alice.Name)
	}
	if !mmdd.MatchString(c1.CreateDate) {
		t.Errorf("create_date = %q, want mm-dd", c1.CreateDate)
	} else if !slices.Contains(plausibleDates(), c1.CreateDate) {
		t.Errorf("create_date = %q, want today's date (one of %v)", c1.CreateDate, plausibleDates())
	}
	wantComments(t, "after the first comment", author, v.ID, c1.ID)
	listed := api.commentList(t, "", v.ID)[0]
	if listed != c1 {
		t.Errorf("comment list shows %+v, the post answered %+v; want the same comment", listed, c1)
	}

	c2 := api.comment(t, bob, v.ID, "second comment")
	wantComments(t, "after the second comment", author, v.ID, c2.ID, c1.ID)

	// The comment author's is_follow is relative to the requester.
	api.follow(t, carol, bob.ID)
	for _, view := range []struct {
		who, token string
		want       bool
	}{{"carol (follows bob)", carol.Token, true}, {"alice", alice.Token, false}, {"anonymous", "", false}} {
		for _, c := range api.commentList(t, view.token, v.ID) {
			if c.User.ID == bob.ID && c.User.IsFollow != view.want {
				t.Errorf("comment list as %s: bob's is_follow = %v, want %v", view.who, c.User.IsFollow, view.want)
			}
		}
	}

	api.deleteCommentRaw(t, alice.Token, v.ID, c1.ID).mustOK(t)
	wantComments(t, "after alice deleted her comment", author, v.ID, c2.ID)

	api.deleteCommentRaw(t, alice.Token, v.ID, c2.ID).wantErr(t, http.StatusOK, codePermissionDenied)
	api.deleteCommentRaw(t, carol.Token, v.ID, c2.ID).wantErr(t, http.StatusOK, codePermissionDenied)
	wantComments(t, "after others tried to delete bob's comment", author, v.ID, c2.ID)

	api.deleteCommentRaw(t, alice.Token, v.ID, c1.ID).wantErr(t, http.StatusOK, codeCommentNotFound)
	api.deleteCommentRaw(t, alice.Token, v.ID, missingID).wantErr(t, http.StatusOK, codeCommentNotFound)
	wantComments(t, "after deleting missing comments", author, v.ID, c2.ID)

	api.deleteCommentRaw(t, bob.Token, v.ID, c2.ID).mustOK(t)
	wantComments(t, "after bob deleted his comment", author, v.ID)
}

func TestCommentLengthLimits(t *testing.T) {
	t.Parallel()
	author := api.register(t, "cmtlen")
	u := api.register(t, "cmtlenu")
	v := api.publish(t, author, "long comments", "testsrc.mp4")

	// 500 characters (1500 bytes of UTF-8): the limit counts characters.
	long := strings.Repeat("好", 500)
	c := api.comment(t, u, v.ID, long)
	if c.Content != long {
		t.Errorf("500-character comment came back as %d characters", len([]rune(c.Content)))
	}
	ascii := strings.Repeat("a", 500)
	c2 := api.comment(t, u, v.ID, ascii)
	wantComments(t, "after two 500-character comments", author, v.ID, c2.ID, c.ID)

	for name, text := range map[string]string{
		"501 ASCII characters": strings.Repeat("a", 501),
		"501 CJK characters":   strings.Repeat("好", 501),
	} {
		api.commentRaw(t, u.Token, vals("video_id", v.ID, "action_type", 1, "comment_text", text)).wantInvalid(t)
		wantComments(t, "after a rejected comment of "+name, author, v.ID, c2.ID, c.ID)
	}
}

func TestCommentErrors(t *testing.T) {
	t.Parallel()
	author := api.register(t, "cmterr")
	u := api.register(t, "cmterru")
	v := api.publish(t, author, "comment errors", "testsrc.mp4")
	existing := api.comment(t, u, v.ID, "keep me")

	cases := []struct {
		name       string
		query      url.Values
		httpStatus int
		code       int64
	}{
		{"empty text", vals("token", u.Token, "video_id", v.ID, "action_type", 1, "comment_text", ""), http.StatusOK, codeInvalidParam},
		{"whitespace text", vals("token", u.Token, "video_id", v.ID, "action_type", 1, "comment_text", " \t\n  "), http.StatusOK, codeInvalidParam},
		{"missing text", vals("token", u.Token, "video_id", v.ID, "action_type", 1), http.StatusOK, codeInvalidParam},
		{"missing video_id", vals("token", u.Token, "action_type", 1, "comment_text", "hi"), http.StatusOK, codeInvalidParam},
		{"non-numeric video_id", vals("token", u.Token, "video_id", "abc", "action_type", 1, "comment_text", "hi"), http.StatusOK, codeInvalidParam},
		{"action_type 3", vals("token", u.Token, "video_id", v.ID, "action_type", 3, "comment_text", "hi"), http.StatusOK, codeInvalidParam},
		{"action_type 0", vals("token", u.Token, "video_id", v.ID, "action_type", 0, "comment_text", "hi"), http.StatusOK, codeInvalidParam},
		{"non-numeric action_type", vals("token", u.Token, "video_id", v.ID, "action_type", "post", "comment_text", "hi"), http.StatusOK, codeInvalidParam},
		{"missing action_type", vals("token", u.Token, "video_id", v.ID, "comment_text", "hi"), http.StatusOK, codeInvalidParam},
		{"delete without comment_id", vals("token", u.Token, "video_id", v.ID, "action_type", 2), http.StatusOK, codeInvalidParam},
		{"delete with non-numeric comment_id", vals("token", u.Token, "video_id", v.ID, "action_type", 2, "comment_id", "abc"), http.StatusOK, codeInvalidParam},
		{"post on unknown video", vals("token", u.Token, "video_id", missingID, "action_type", 1, "comment_text", "hi"), http.StatusOK, codeVideoNotFound},
		{"missing token", vals("video_id", v.ID, "action_type", 1, "comment_text", "hi"), http.StatusUnauthorized, codeUnauthenticated},
		{"garbage token", vals("token", garbageToken, "video_id", v.ID, "action_type", 2, "comment_id", existing.ID), http.StatusUnauthorized, codeUnauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api.post(t, pathComment, tc.query).wantErr(t, tc.httpStatus, tc.code)
		})
	}
	wantComments(t, "after rejected comment actions", author, v.ID, existing.ID)

	t.Run("comment list without video_id", func(t *testing.T) {
		api.get(t, pathCommentList, vals()).wantInvalid(t)
	})
	t.Run("comment list with non-numeric video_id", func(t *testing.T) {
		api.get(t, pathCommentList, vals("video_id", "abc")).wantInvalid(t)
	})
}
