package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRegisterAndLogin(t *testing.T) {
	t.Parallel()
	name := uniqueName("reg")
	reg := checkAuth(t, api.registerRaw(t, name, testPassword))

	login := checkAuth(t, api.loginRaw(t, name, testPassword))
	if login.UserID != reg.UserID {
		t.Errorf("login user_id = %d, want the registered id %d", login.UserID, reg.UserID)
	}
	for label, token := range map[string]string{"register token": reg.Token, "login token": login.Token} {
		me := api.userInfo(t, token, 0)
		if me.ID != reg.UserID || me.Name != name {
			t.Errorf("user info with the %s = {id %d, name %q}, want {id %d, name %q}", label, me.ID, me.Name, reg.UserID, name)
		}
	}
}

func TestRegisterBoundaries(t *testing.T) {
	t.Parallel()
	longest := uniqueCore() + "+-_."
	longest += strings.Repeat("9", 32-len(longest)-len("@x.io")) + "@x.io"
	cases := []struct {
		name, username, password string
	}{
		{"32-char username with every allowed symbol", longest, testPassword},
		{"8-char password", uniqueName("pw8"), "k9#xTq2m"},
		{"32-char password", uniqueName("pw32"), strings.Repeat("pw", 16)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := checkAuth(t, api.registerRaw(t, tc.username, tc.password))
			login := checkAuth(t, api.loginRaw(t, tc.username, tc.password))
			if login.UserID != reg.UserID {
				t.Errorf("login user_id = %d, want %d", login.UserID, reg.UserID)
			}
			if got := api.userInfo(t, "", reg.UserID).Name; got != tc.username {
				t.Errorf("name = %q, want %q", got, tc.username)
			}
		})
	}
}

func TestRegisterDuplicateUsername(t *testing.T) {
	t.Parallel()
	u := api.register(t, "dup")

	r := api.registerRaw(t, u.Name, "another-password")
	r.wantErr(t, http.StatusOK, codeUserExists)
	if got := requireInt(t, r, "user_id"); got != 0 {
		t.Errorf("duplicate register: user_id = %d, want 0", got)
	}
	if tok, ok := r.Raw["token"].(string); !ok || tok != "" {
		t.Errorf("duplicate register: token = %#v, want the key present with \"\"", r.Raw["token"])
	}

	// The original account is untouched: old password works, the new one does not.
	if got := checkAuth(t, api.loginRaw(t, u.Name, u.Password)).UserID; got != u.ID {
		t.Errorf("login after duplicate register: user_id = %d, want %d", got, u.ID)
	}
	api.loginRaw(t, u.Name, "another-password").wantErr(t, http.StatusOK, codeLoginFailed)
}

func TestRegisterRejectsInvalidInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		params url.Values
		// validName: the username itself is valid, so afterwards it must still be free.
		validName bool
	}{
		{"empty username", vals("username", "", "password", testPassword), false},
		{"missing username", vals("password", testPassword), false},
		{"33-char username", vals("username", strings.Repeat("u", 33), "password", testPassword), false},
		{"username with space", vals("username", "e2e bad "+uniqueName("sp")[:10], "password", testPassword), false},
		{"username with !", vals("username", "e2e!"+uniqueName("ex")[:10], "password", testPassword), false},
		{"username with slash", vals("username", "e2e/"+uniqueName("sl")[:10], "password", testPassword), false},
		{"username with quote", vals("username", "e2e'"+uniqueName("qu")[:10], "password", testPassword), false},
		{"username with <", vals("username", "e2e<"+uniqueName("lt")[:10], "password", testPassword), false},
		{"empty password", vals("username", uniqueName("pw0"), "password", ""), true},
		{"missing password", vals("username", uniqueName("pwm")), true},
		{"7-char password", vals("username", uniqueName("pw7"), "password", "k9#xTq2"), true},
		{"common password", vals("username", uniqueName("pwc"), "password", "password123"), true},
		{"common password in capitals", vals("username", uniqueName("pwC"), "password", "QWERTY123"), true},
		{"33-char password", vals("username", uniqueName("pw33"), "password", strings.Repeat("p", 33)), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api.post(t, pathRegister, tc.params).wantInvalid(t)
			if tc.validName {
				// Nothing was created: the name is still free to register.
				checkAuth(t, api.registerRaw(t, tc.params.Get("username"), testPassword))
			}
		})
	}
}

func TestLoginFailureIsUniform(t *testing.T) {
	t.Parallel()
	u := api.register(t, "login")

	wrongPassword := api.loginRaw(t, u.Name, "wrong-password")
	unknownUser := api.loginRaw(t, uniqueName("nobody"), testPassword)
	for _, r := range []*apiResp{wrongPassword, unknownUser} {
		r.wantErr(t, http.StatusOK, codeLoginFailed)
		for _, key := range []string{"user_id", "token"} {
			if _, ok := r.Raw[key]; !ok {
				t.Errorf("%s failure: key %q missing (fields are always present)", r.what, key)
			}
		}
	}
	if wrongPassword.Msg != unknownUser.Msg {
		t.Errorf("login status_msg differs: wrong password %q vs unknown user %q (allows user enumeration)",
			wrongPassword.Msg, unknownUser.Msg)
	}
	// A wrong guess does not lock out or change the account.
	if got := checkAuth(t, api.loginRaw(t, u.Name, u.Password)).UserID; got != u.ID {
		t.Errorf("login after failures: user_id = %d, want %d", got, u.ID)
	}
}

func TestParameterEncodings(t *testing.T) {
	t.Parallel()

	t.Run("urlencoded form body", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("form")
		creds := vals("username", name, "password", testPassword)
		reg := checkAuth(t, api.postForm(t, pathRegister, creds))
		login := checkAuth(t, api.postForm(t, pathLogin, creds))
		if login.UserID != reg.UserID {
			t.Errorf("form login user_id = %d, want %d", login.UserID, reg.UserID)
		}
		target := api.register(t, "formtgt")
		api.postForm(t, pathRelation, vals("token", login.Token, "to_user_id", target.ID, "action_type", 1)).mustOK(t)
		api.wantCounts(t, "after a follow sent as a form body", target.ID, counts{Follower: 1})
	})

	t.Run("JSON body", func(t *testing.T) {
		t.Parallel()
		name := uniqueName("json")
		creds := map[string]string{"username": name, "password": testPassword}
		reg := checkAuth(t, api.postJSON(t, pathRegister, creds))
		login := checkAuth(t, api.postJSON(t, pathLogin, creds))
		if login.UserID != reg.UserID {
			t.Errorf("JSON login user_id = %d, want %d", login.UserID, reg.UserID)
		}
		target := api.register(t, "jsontgt")
		api.postJSON(t, pathRelation, map[string]any{"token": login.Token, "to_user_id": target.ID, "action_type": 1}).mustOK(t)
		api.wantCounts(t, "after a follow sent as a JSON body", target.ID, counts{Follower: 1})
	})

	t.Run("Authorization Bearer", func(t *testing.T) {
		t.Parallel()
		u := api.register(t, "bearer")
		target := api.register(t, "bearertgt")

		r := api.doBearer(t, http.MethodGet, pathUser, nil, u.Token).mustOK(t)
		checkUser(t, "bearer user", r.Raw["user"])
		if me := decodeAs[struct {
			User User `json:"user"`
		}](t, r).User; me.ID != u.ID {
			t.Errorf("user info with a Bearer token: id %d, want %d", me.ID, u.ID)
		}

		api.doBearer(t, http.MethodPost, pathRelation, vals("to_user_id", target.ID, "action_type", 1), u.Token).mustOK(t)
		api.wantCounts(t, "after a follow authorised by Bearer", target.ID, counts{Follower: 1})

		api.doBearer(t, http.MethodGet, pathUser, nil, garbageToken).wantUnauth(t)
		api.doBearer(t, http.MethodGet, pathFeed, nil, garbageToken).wantUnauth(t)
	})
}

func TestUserInfo(t *testing.T) {
	t.Parallel()
	u := api.register(t, "info")
	fan := api.register(t, "infofan")

	me := api.userInfo(t, u.Token, 0)
	if me.ID != u.ID || me.Name != u.Name {
		t.Fatalf("own user info = {id %d, name %q}, want {id %d, name %q}", me.ID, me.Name, u.ID, u.Name)
	}
	if got := countsOf(me); got != (counts{}) {
		t.Errorf("new user counters = %+v, want all zero", got)
	}
	if me.IsFollow {
		t.Error("own user info: is_follow = true, want false for self")
	}
	if me.Signature == "" {
		t.Error("new user: signature is empty, want a server default")
	}
	for what, link := range map[string]string{"avatar": me.Avatar, "background_image": me.BackgroundImage} {
		if link == "" {
			t.Errorf("new user: %s is empty, want a server default", what)
			continue
		}
		api.checkImage(t, what, link, false)
	}

	if self := api.userInfo(t, u.Token, u.ID); self != me {
		t.Errorf("user info with own user_id = %+v, want %+v", self, me)
	}
	anon := api.userInfo(t, "", u.ID)
	if anon != me {
		t.Errorf("anonymous user info = %+v, want %+v", anon, me)
	}

	api.follow(t, fan, u.ID)
	if got := api.userInfo(t, fan.Token, u.ID); !got.IsFollow || got.FollowerCount != 1 {
		t.Errorf("fan's view of the followed user: is_follow %v follower_count %d, want true 1", got.IsFollow, got.FollowerCount)
	}
	if got := api.userInfo(t, "", u.ID); got.IsFollow {
		t.Error("anonymous view: is_follow = true, want false")
	}
	if got := api.userInfo(t, u.Token, u.ID); got.IsFollow {
		t.Error("self view after being followed: is_follow = true, want false")
	}
	if got := api.userInfo(t, u.Token, fan.ID); got.IsFollow || got.FollowCount != 1 {
		t.Errorf("followed user's view of the fan: is_follow %v follow_count %d, want false 1", got.IsFollow, got.FollowCount)
	}
}

func TestUserInfoErrors(t *testing.T) {
	t.Parallel()
	u := api.register(t, "infoerr")
	cases := []struct {
		name       string
		query      url.Values
		httpStatus int
		code       int64
	}{
		{"non-numeric user_id", vals("token", u.Token, "user_id", "abc"), http.StatusOK, codeInvalidParam},
		{"unknown user_id", vals("token", u.Token, "user_id", missingID), http.StatusOK, codeUserNotFound},
		{"unknown user_id anonymously", vals("user_id", missingID), http.StatusOK, codeUserNotFound},
		{"neither user_id nor token", vals(), http.StatusUnauthorized, codeUnauthenticated},
		{"garbage token without user_id", vals("token", garbageToken), http.StatusUnauthorized, codeUnauthenticated},
		{"garbage token with user_id", vals("token", garbageToken, "user_id", u.ID), http.StatusUnauthorized, codeUnauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api.get(t, pathUser, tc.query).wantErr(t, tc.httpStatus, tc.code)
		})
	}
}

// TestTokenEnforcement checks every endpoint: token-required ones refuse a missing or bad token,
// optional-token ones serve anonymous callers but refuse a bad token, and nothing changes.
func TestTokenEnforcement(t *testing.T) {
	t.Parallel()
	author := api.register(t, "authz")
	video := api.publish(t, author, "auth video", "testsrc.mp4")

	required := []struct {
		name, method, path string
		query              url.Values
	}{
		{"user info of self", http.MethodGet, pathUser, vals()},
		{"favorite action", http.MethodPost, pathFavorite, vals("video_id", video.ID, "action_type", 1)},
		{"comment action", http.MethodPost, pathComment, vals("video_id", video.ID, "action_type", 1, "comment_text", "hi")},
		{"relation action", http.MethodPost, pathRelation, vals("to_user_id", author.ID, "action_type", 1)},
		{"friend list", http.MethodGet, pathFriendList, vals()},
		{"message action", http.MethodPost, pathMessage, vals("to_user_id", author.ID, "action_type", 1, "content", "hi")},
		{"message chat", http.MethodGet, pathChat, vals("to_user_id", author.ID)},
	}
	for _, tc := range required {
		t.Run("required/"+tc.name, func(t *testing.T) {
			api.do(t, tc.method, tc.path, tc.query).wantUnauth(t)

			bad := url.Values{}
			for k, v := range tc.query {
				bad[k] = v
			}
			bad.Set("token", garbageToken)
			api.do(t, tc.method, tc.path, bad).wantUnauth(t)
			api.doBearer(t, tc.method, tc.path, tc.query, garbageToken).wantUnauth(t)
		})
	}

	optional := []struct {
		name, path string
		query      url.Values
	}{
		{"feed", pathFeed, vals()},
		{"user info of another user", pathUser, vals("user_id", author.ID)},
		{"publish list", pathPublishList, vals("user_id", author.ID)},
		{"favorite list", pathFavoriteList, vals("user_id", author.ID)},
		{"comment list", pathCommentList, vals("video_id", video.ID)},
		{"follow list", pathFollowList, vals("user_id", author.ID)},
		{"follower list", pathFollowerList, vals("user_id", author.ID)},
	}
	for _, tc := range optional {
		t.Run("optional/"+tc.name, func(t *testing.T) {
			api.get(t, tc.path, tc.query).mustOK(t)

			bad := url.Values{}
			for k, v := range tc.query {
				bad[k] = v
			}
			bad.Set("token", garbageToken)
			api.get(t, tc.path, bad).wantUnauth(t)
		})
	}

	// None of the refused mutations took effect.
	api.wantCounts(t, "after refused calls", author.ID, counts{Work: 1})
	v := api.publishedVideo(t, "", author.ID, video.ID)
	if v.FavoriteCount != 0 || v.CommentCount != 0 {
		t.Errorf("after refused calls: video favorite_count %d comment_count %d, want 0 0", v.FavoriteCount, v.CommentCount)
	}
	if cs := api.commentList(t, "", video.ID); len(cs) != 0 {
		t.Errorf("after refused calls: %d comments, want none", len(cs))
	}
}

// TestPathsAnsweredDirectly calls every route with its method and the trailing slash: it must
// be answered (any business status) without a redirect, a 404 or a 405.
func TestPathsAnsweredDirectly(t *testing.T) {
	t.Parallel()
	u := api.register(t, "paths")
	routes := []struct{ method, path string }{
		{http.MethodGet, pathFeed}, {http.MethodPost, pathRegister}, {http.MethodPost, pathLogin},
		{http.MethodGet, pathUser}, {http.MethodPost, pathPublish}, {http.MethodGet, pathPublishList},
		{http.MethodPost, pathFavorite}, {http.MethodGet, pathFavoriteList}, {http.MethodPost, pathComment},
		{http.MethodGet, pathCommentList}, {http.MethodPost, pathRelation}, {http.MethodGet, pathFollowList},
		{http.MethodGet, pathFollowerList}, {http.MethodGet, pathFriendList}, {http.MethodPost, pathMessage},
		{http.MethodGet, pathChat},
	}
	for _, rt := range routes {
		// send fails the test on a redirect or a non-JSON body.
		r := api.do(t, rt.method, rt.path, vals("token", u.Token))
		if r.HTTPStatus == http.StatusNotFound || r.HTTPStatus == http.StatusMethodNotAllowed {
			t.Errorf("%s: HTTP %d, want the route to exist", r.what, r.HTTPStatus)
		}
	}
	for _, p := range []string{pathFeed, pathPublishList} {
		r := api.get(t, p, vals("user_id", u.ID))
		if r.HTTPStatus != http.StatusOK || r.Code != codeOK {
			t.Errorf("%s: HTTP %d status_code %d, want 200/0", r.what, r.HTTPStatus, r.Code)
		}
	}
}
