package e2e

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
)

// gatewaysEnv lists every gateway of a replicated deployment (space-separated, as
// scripts/up.sh prints GATEWAYS=): read-your-writes checks then read through each of them, so
// they cannot pass only because the write and the read met in one gateway process.
const gatewaysEnv = "DOUYIN_E2E_GATEWAYS"

// readers returns a client per gateway of the deployment, the suite's own client first.
func readers() []*client {
	out := []*client{api}
	for _, base := range strings.Fields(os.Getenv(gatewaysEnv)) {
		if base = strings.TrimRight(base, "/"); base != api.base {
			out = append(out, newClient(base))
		}
	}
	return out
}

// bodyKinds are the ways the app may send a write's parameters: query, form body, JSON body.
var bodyKinds = []string{"query", "form", "json"}

// postAs sends one write with its parameters in the given kind of body; JSON numbers stay
// numbers.
func (c *client) postAs(t *testing.T, kind, path string, params map[string]any) *apiResp {
	t.Helper()
	switch kind {
	case "form", "query":
		v := url.Values{}
		for k, p := range params {
			v.Set(k, fmt.Sprint(p))
		}
		if kind == "form" {
			return c.postForm(t, path, v)
		}
		return c.post(t, path, v)
	case "json":
		return c.postJSON(t, path, params)
	}
	t.Fatalf("unknown body kind %q", kind)
	return nil
}

// Every read below is the first one after the write was acknowledged: no polling.

func TestReadYourWritesFavoriteList(t *testing.T) {
	t.Parallel()
	author := api.register(t, "rywfauth")
	v1 := api.publish(t, author, "ryw like one", "testsrc.mp4")
	v2 := api.publish(t, author, "ryw like two", "cellauto.mp4")
	for _, kind := range bodyKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			liker := api.register(t, "rywliker")
			act := func(videoID int64, action int) {
				t.Helper()
				api.postAs(t, kind, pathFavorite, map[string]any{"token": liker.Token, "video_id": videoID, "action_type": action}).mustOK(t)
			}
			want := func(when string, ids ...int64) {
				t.Helper()
				for i, r := range readers() {
					list := r.favoriteList(t, liker.Token, liker.ID)
					if got := videoIDs(list); !equalIDs(got, ids) {
						t.Fatalf("%s body, %s, gateway %d: favorite list %v, want %v", kind, when, i, got, ids)
					}
					for _, v := range list {
						if !v.IsFavorite {
							t.Errorf("%s body, %s, gateway %d: video %d listed with is_favorite false", kind, when, i, v.ID)
						}
					}
					for _, id := range []int64{v1.ID, v2.ID} {
						_, listed := findVideo(list, id)
						if v := r.publishedVideo(t, liker.Token, author.ID, id); v.IsFavorite != listed {
							t.Errorf("%s body, %s, gateway %d: video %d is_favorite %v in the publish list, listed %v", kind, when, i, id, v.IsFavorite, listed)
						}
					}
				}
			}
			act(v1.ID, 1)
			want("after a like", v1.ID)
			act(v2.ID, 1)
			want("after a second like", v2.ID, v1.ID)
			act(v1.ID, 2)
			want("after an unlike", v2.ID)
			act(v1.ID, 1)
			want("after liking again", v1.ID, v2.ID)
			act(v1.ID, 2)
			act(v2.ID, 2)
			want("after unliking both")
		})
	}
}

func TestReadYourWritesRelationLists(t *testing.T) {
	t.Parallel()
	for _, kind := range bodyKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			a := api.register(t, "rywa")
			b := api.register(t, "rywb")
			act := func(from, to *testUser, action int) {
				t.Helper()
				api.postAs(t, kind, pathRelation, map[string]any{"token": from.Token, "to_user_id": to.ID, "action_type": action}).mustOK(t)
			}
			want := func(when string, aFollowsB, bFollowsA bool) {
				t.Helper()
				for i, r := range readers() {
					where := fmt.Sprintf("%s body, %s, gateway %d", kind, when, i)
					wantListed(t, where+": follow list of a", userIDs(r.followList(t, a.Token, a.ID)), b.ID, aFollowsB)
					wantListed(t, where+": follower list of b", userIDs(r.followerList(t, b.Token, b.ID)), a.ID, aFollowsB)
					wantListed(t, where+": follow list of b", userIDs(r.followList(t, b.Token, b.ID)), a.ID, bFollowsA)
					wantListed(t, where+": follower list of a", userIDs(r.followerList(t, a.Token, a.ID)), b.ID, bFollowsA)
					friends := aFollowsB && bFollowsA
					wantListed(t, where+": friend list of a", friendIDs(r.friendList(t, a.Token)), b.ID, friends)
					wantListed(t, where+": friend list of b", friendIDs(r.friendList(t, b.Token)), a.ID, friends)
					if u := r.userInfo(t, a.Token, b.ID); u.IsFollow != aFollowsB || u.FollowerCount != boolCount(aFollowsB) {
						t.Errorf("%s: b seen by a: is_follow %v follower_count %d, want %v %d", where, u.IsFollow, u.FollowerCount, aFollowsB, boolCount(aFollowsB))
					}
				}
			}
			act(a, b, 1)
			want("after a follows b", true, false)
			act(b, a, 1)
			want("after b follows back", true, true)
			act(a, b, 2)
			want("after a unfollows b", false, true)
			act(b, a, 2)
			want("after b unfollows a", false, false)
		})
	}
}

func TestReadYourWritesCommentList(t *testing.T) {
	t.Parallel()
	author := api.register(t, "rywcauth")
	v := api.publish(t, author, "ryw comments", "testsrc.mp4")
	for _, kind := range bodyKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			u := api.register(t, "rywcommenter")
			text := "ryw " + kind + " " + uniqueCore()
			r := api.postAs(t, kind, pathComment, map[string]any{"token": u.Token, "video_id": v.ID, "action_type": 1, "comment_text": text}).mustOK(t)
			posted := decodeAs[struct {
				Comment Comment `json:"comment"`
			}](t, r).Comment
			for i, rd := range readers() {
				if !hasComment(rd.commentList(t, u.Token, v.ID), posted.ID) {
					t.Errorf("%s body, gateway %d: comment %d missing from the list right after it was posted", kind, i, posted.ID)
				}
			}
			api.postAs(t, kind, pathComment, map[string]any{"token": u.Token, "video_id": v.ID, "action_type": 2, "comment_id": posted.ID}).mustOK(t)
			for i, rd := range readers() {
				if hasComment(rd.commentList(t, u.Token, v.ID), posted.ID) {
					t.Errorf("%s body, gateway %d: comment %d still listed right after it was deleted", kind, i, posted.ID)
				}
			}
		})
	}
}

// Once the author's publish list shows a new video through one gateway, every gateway shows
// it, with the work count to match.
func TestReadYourWritesOwnPublishList(t *testing.T) {
	t.Parallel()
	author := api.register(t, "rywpub")
	first := api.publish(t, author, "ryw first work", "testsrc.mp4")
	second := api.publish(t, author, "ryw second work", "cellauto.mp4")
	for i, r := range readers() {
		got := videoIDs(r.publishList(t, author.Token, author.ID))
		if !equalIDs(got, []int64{second.ID, first.ID}) {
			t.Errorf("gateway %d: own publish list %v, want newest first %v", i, got, []int64{second.ID, first.ID})
		}
		if u := r.userInfo(t, author.Token, author.ID); u.WorkCount != 2 {
			t.Errorf("gateway %d: work_count %d with two works listed", i, u.WorkCount)
		}
	}
}

func wantListed(t *testing.T, where string, list []int64, id int64, want bool) {
	t.Helper()
	listed := false
	for _, x := range list {
		listed = listed || x == id
	}
	if listed != want {
		t.Errorf("%s: user %d listed = %v, want %v (list %v)", where, id, listed, want, list)
	}
}

func friendIDs(list []FriendUser) []int64 {
	out := make([]int64, len(list))
	for i, f := range list {
		out[i] = f.ID
	}
	return out
}

func hasComment(list []Comment, id int64) bool {
	for _, c := range list {
		if c.ID == id {
			return true
		}
	}
	return false
}

func boolCount(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
