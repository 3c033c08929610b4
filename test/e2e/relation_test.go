package e2e

import (
	"net/http"
	"net/url"
	"testing"
)

// wantUserList asserts a follow/follower list holds exactly the given users (any order) with the
// given is_follow for the requester.
func wantUserList(t *testing.T, ctx string, got []User, want map[int64]bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: users %v, want %d users", ctx, userIDs(got), len(want))
	}
	for id, follow := range want {
		u, ok := findUser(got, id)
		if !ok {
			t.Errorf("%s: user %d missing from %v", ctx, id, userIDs(got))
			continue
		}
		if u.IsFollow != follow {
			t.Errorf("%s: user %d is_follow = %v, want %v", ctx, id, u.IsFollow, follow)
		}
	}
}

func TestFollowLifecycle(t *testing.T) {
	t.Parallel()
	a := api.register(t, "rela")
	b := api.register(t, "relb")
	c := api.register(t, "relc")

	for _, u := range []*testUser{a, b} {
		wantUserList(t, "new user's follow list", api.followList(t, "", u.ID), nil)
		wantUserList(t, "new user's follower list", api.followerList(t, "", u.ID), nil)
	}

	api.follow(t, a, b.ID)
	api.wantCounts(t, "a after following b", a.ID, counts{Follow: 1})
	api.wantCounts(t, "b after a followed", b.ID, counts{Follower: 1})
	if !api.userInfo(t, a.Token, b.ID).IsFollow {
		t.Error("a's view of b after following: is_follow false")
	}
	if api.userInfo(t, b.Token, a.ID).IsFollow {
		t.Error("b's view of a (b does not follow a): is_follow true")
	}
	wantUserList(t, "a's follow list as a", api.followList(t, a.Token, a.ID), map[int64]bool{b.ID: true})
	wantUserList(t, "a's follow list anonymously", api.followList(t, "", a.ID), map[int64]bool{b.ID: false})
	wantUserList(t, "a's follow list as c", api.followList(t, c.Token, a.ID), map[int64]bool{b.ID: false})
	wantUserList(t, "b's follower list as b", api.followerList(t, b.Token, b.ID), map[int64]bool{a.ID: false})
	wantUserList(t, "b's follower list as a (self)", api.followerList(t, a.Token, b.ID), map[int64]bool{a.ID: false})
	wantUserList(t, "b's follower list anonymously", api.followerList(t, "", b.ID), map[int64]bool{a.ID: false})

	api.follow(t, a, b.ID)
	api.wantCounts(t, "a after following b twice", a.ID, counts{Follow: 1})
	api.wantCounts(t, "b after a followed twice", b.ID, counts{Follower: 1})
	wantUserList(t, "a's follow list after a second follow", api.followList(t, a.Token, a.ID), map[int64]bool{b.ID: true})

	api.follow(t, b, a.ID)
	api.follow(t, c, a.ID)
	wantUserList(t, "b's follower list as b after following back", api.followerList(t, b.Token, b.ID), map[int64]bool{a.ID: true})
	wantUserList(t, "b's follower list as c (follows a)", api.followerList(t, c.Token, b.ID), map[int64]bool{a.ID: true})
	wantUserList(t, "a's follower list as b", api.followerList(t, b.Token, a.ID), map[int64]bool{b.ID: false, c.ID: false})
	wantUserList(t, "a's follower list as a", api.followerList(t, a.Token, a.ID), map[int64]bool{b.ID: true, c.ID: false})
	api.wantCounts(t, "a with two followers", a.ID, counts{Follow: 1, Follower: 2})

	api.unfollow(t, a, b.ID)
	api.wantCounts(t, "a after unfollowing b", a.ID, counts{Follow: 0, Follower: 2})
	api.wantCounts(t, "b after a unfollowed", b.ID, counts{Follow: 1, Follower: 0})
	wantUserList(t, "a's follow list after unfollow", api.followList(t, a.Token, a.ID), nil)
	wantUserList(t, "b's follower list after unfollow", api.followerList(t, b.Token, b.ID), nil)
	if api.userInfo(t, a.Token, b.ID).IsFollow {
		t.Error("a's view of b after unfollowing: is_follow true")
	}

	api.unfollow(t, a, b.ID)
	api.wantCounts(t, "a after unfollowing b twice", a.ID, counts{Follow: 0, Follower: 2})
	api.wantCounts(t, "b after a unfollowed twice", b.ID, counts{Follow: 1, Follower: 0})
}

func TestFollowErrors(t *testing.T) {
	t.Parallel()
	a := api.register(t, "relerr")
	b := api.register(t, "relerrb")

	cases := []struct {
		name       string
		query      url.Values
		httpStatus int
		code       int64
	}{
		{"follow self", vals("token", a.Token, "to_user_id", a.ID, "action_type", 1), http.StatusOK, codeFollowSelf},
		{"follow unknown user", vals("token", a.Token, "to_user_id", missingID, "action_type", 1), http.StatusOK, codeUserNotFound},
		{"action_type 0", vals("token", a.Token, "to_user_id", b.ID, "action_type", 0), http.StatusOK, codeInvalidParam},
		{"action_type 3", vals("token", a.Token, "to_user_id", b.ID, "action_type", 3), http.StatusOK, codeInvalidParam},
		{"non-numeric action_type", vals("token", a.Token, "to_user_id", b.ID, "action_type", "follow"), http.StatusOK, codeInvalidParam},
		{"missing action_type", vals("token", a.Token, "to_user_id", b.ID), http.StatusOK, codeInvalidParam},
		{"missing to_user_id", vals("token", a.Token, "action_type", 1), http.StatusOK, codeInvalidParam},
		{"non-numeric to_user_id", vals("token", a.Token, "to_user_id", "abc", "action_type", 1), http.StatusOK, codeInvalidParam},
		{"missing token", vals("to_user_id", b.ID, "action_type", 1), http.StatusUnauthorized, codeUnauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api.post(t, pathRelation, tc.query).wantErr(t, tc.httpStatus, tc.code)
		})
	}
	api.wantCounts(t, "a after rejected relation actions", a.ID, counts{})
	api.wantCounts(t, "b after rejected relation actions", b.ID, counts{})
	wantUserList(t, "a's follow list after rejected actions", api.followList(t, a.Token, a.ID), nil)

	for _, p := range []string{pathFollowList, pathFollowerList} {
		t.Run(p+" without user_id", func(t *testing.T) { api.get(t, p, vals()).wantInvalid(t) })
		t.Run(p+" with non-numeric user_id", func(t *testing.T) { api.get(t, p, vals("user_id", "abc")).wantInvalid(t) })
	}
}

// wantFriends asserts u's friend list: exactly the given friends with their latest message and
// direction.
func wantFriends(t *testing.T, ctx string, u *testUser, want map[int64]FriendUser) {
	t.Helper()
	got := api.friendList(t, u.Token)
	if len(got) != len(want) {
		ids := make([]int64, len(got))
		for i, f := range got {
			ids[i] = f.ID
		}
		t.Errorf("%s: friend list of %s = %v, want %d friends", ctx, u.Name, ids, len(want))
	}
	for _, f := range got {
		w, ok := want[f.ID]
		if !ok {
			t.Errorf("%s: friend list of %s contains unexpected user %d", ctx, u.Name, f.ID)
			continue
		}
		if f.Name != w.Name || !f.IsFollow || f.Message != w.Message || (w.Message != "" && f.MsgType != w.MsgType) {
			t.Errorf("%s: %s's friend %d = {name %q is_follow %v message %q msgType %d}, want {%q true %q %d}",
				ctx, u.Name, f.ID, f.Name, f.IsFollow, f.Message, f.MsgType, w.Name, w.Message, w.MsgType)
		}
		if f.Avatar == "" || f.FollowCount < 1 || f.FollowerCount < 1 {
			t.Errorf("%s: %s's friend %d lacks user fields: avatar %q follow_count %d follower_count %d",
				ctx, u.Name, f.ID, f.Avatar, f.FollowCount, f.FollowerCount)
		}
	}
}

func TestFriendList(t *testing.T) {
	t.Parallel()
	a := api.register(t, "frda")
	b := api.register(t, "frdb")
	c := api.register(t, "frdc") // a follows c only
	d := api.register(t, "frdd") // d follows a only

	api.follow(t, a, b.ID)
	api.follow(t, b, a.ID)
	api.follow(t, a, c.ID)
	api.follow(t, d, a.ID)

	friend := func(u *testUser, msg string, msgType int64) map[int64]FriendUser {
		return map[int64]FriendUser{u.ID: {User: User{ID: u.ID, Name: u.Name}, Message: msg, MsgType: msgType}}
	}
	wantFriends(t, "mutual follow, no messages", a, friend(b, "", 0))
	wantFriends(t, "mutual follow, no messages", b, friend(a, "", 0))
	wantFriends(t, "one-way follow", c, nil)
	wantFriends(t, "one-way follower", d, nil)

	api.sendMessage(t, a, b.ID, "hello b")
	wantFriends(t, "a sent the latest message", a, friend(b, "hello b", 1))
	wantFriends(t, "a sent the latest message", b, friend(a, "hello b", 0))

	api.sendMessage(t, b, a.ID, "hi a, 你好")
	wantFriends(t, "b sent the latest message", a, friend(b, "hi a, 你好", 0))
	wantFriends(t, "b sent the latest message", b, friend(a, "hi a, 你好", 1))

	// Messages with a non-friend do not leak into the friend list.
	api.sendMessage(t, a, c.ID, "to c")
	wantFriends(t, "after messaging a non-friend", a, friend(b, "hi a, 你好", 0))

	api.unfollow(t, a, b.ID)
	wantFriends(t, "after a unfollowed b", a, nil)
	wantFriends(t, "after a unfollowed b", b, nil)

	api.get(t, pathFriendList, vals()).wantUnauth(t)
}
