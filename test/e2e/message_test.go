package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func messageContents(list []Message) []string {
	out := make([]string, len(list))
	for i, m := range list {
		out[i] = m.Content
	}
	return out
}

func messageIDs(list []Message) []int64 {
	ids := make([]int64, len(list))
	for i, m := range list {
		ids[i] = m.ID
	}
	return ids
}

// newerThan is what a poll with pre_msg_time must return, derived from the full conversation.
func newerThan(all []Message, pre int64) []int64 {
	ids := []int64{}
	for _, m := range all {
		if m.CreateTime > pre {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// wantEmptyChat asserts the raw message_list is [] (not null).
func wantEmptyChat(t *testing.T, ctx string, u *testUser, toUserID int64, pre int64) {
	t.Helper()
	q := vals("to_user_id", toUserID)
	if pre >= 0 {
		q.Set("pre_msg_time", strconv.FormatInt(pre, 10))
	}
	r := api.chatRaw(t, u.Token, q).mustOK(t)
	if list := checkList(t, r, "message_list", checkMessage); len(list) != 0 {
		t.Errorf("%s: %d messages, want []", ctx, len(list))
	}
}

func TestMessageConversation(t *testing.T) {
	t.Parallel()
	// a and b do not follow each other: messages go to any existing user.
	a := api.register(t, "msga")
	b := api.register(t, "msgb")
	c := api.register(t, "msgc")

	wantEmptyChat(t, "chat before any message", a, b.ID, -1)

	start := time.Now()
	api.sendMessage(t, a, b.ID, "m1 hello")
	api.sendMessage(t, b, a.ID, "m2 你好 👋")
	api.sendMessage(t, a, b.ID, "m3 bye")
	api.sendMessage(t, a, c.ID, "to c only")

	all := api.chat(t, a, b.ID, -1)
	wantContents := []string{"m1 hello", "m2 你好 👋", "m3 bye"}
	if got := messageContents(all); strings.Join(got, "|") != strings.Join(wantContents, "|") {
		t.Fatalf("a's chat with b = %q, want oldest first %q", got, wantContents)
	}
	dirs := [][2]int64{{a.ID, b.ID}, {b.ID, a.ID}, {a.ID, b.ID}}
	for i, m := range all {
		if m.FromUserID != dirs[i][0] || m.ToUserID != dirs[i][1] {
			t.Errorf("message %d: from %d to %d, want from %d to %d", i, m.FromUserID, m.ToUserID, dirs[i][0], dirs[i][1])
		}
		lo, hi := start.Add(-time.Minute).UnixMilli(), time.Now().Add(time.Minute).UnixMilli()
		if m.CreateTime < lo || m.CreateTime > hi {
			t.Errorf("message %d: create_time %d, want Unix ms within a minute of now (%d..%d)", i, m.CreateTime, lo, hi)
		}
		if i > 0 && m.CreateTime < all[i-1].CreateTime {
			t.Errorf("message %d: create_time %d before the previous %d; want oldest first", i, m.CreateTime, all[i-1].CreateTime)
		}
		if i > 0 && m.ID == all[i-1].ID {
			t.Errorf("messages %d and %d share id %d", i-1, i, m.ID)
		}
	}

	fromB := api.chat(t, b, a.ID, -1)
	if got, want := messageIDs(fromB), messageIDs(all); !equalIDs(got, want) {
		t.Errorf("b's chat with a = %v, a's chat with b = %v; want the same conversation", got, want)
	}
	if got := messageIDs(api.chat(t, a, b.ID, 0)); !equalIDs(got, messageIDs(all)) {
		t.Errorf("chat with pre_msg_time=0 = %v, want the whole conversation %v", got, messageIDs(all))
	}
	if got := messageContents(api.chat(t, c, a.ID, -1)); len(got) != 1 || got[0] != "to c only" {
		t.Errorf("c's chat with a = %q, want only [\"to c only\"]", got)
	}

	last := all[len(all)-1].CreateTime
	wantEmptyChat(t, "poll with the last create_time", a, b.ID, last)
	wantEmptyChat(t, "poll with the last create_time (other side)", b, a.ID, last)

	first := all[0].CreateTime
	if got, want := messageIDs(api.chat(t, a, b.ID, first)), newerThan(all, first); !equalIDs(got, want) {
		t.Errorf("poll with pre_msg_time=%d = %v, want the strictly newer %v", first, got, want)
	}

	api.sendMessage(t, b, a.ID, "m4 new")
	everything := api.chat(t, a, b.ID, -1)
	if n := len(everything); n != 4 || everything[n-1].Content != "m4 new" {
		t.Fatalf("conversation after m4 = %q, want m4 appended", messageContents(everything))
	}
	got := api.chat(t, a, b.ID, last)
	if want := newerThan(everything, last); !equalIDs(messageIDs(got), want) {
		t.Errorf("poll with pre_msg_time=%d after m4 = %q, want %v", last, messageContents(got), want)
	}
	if everything[3].CreateTime <= last {
		t.Errorf("m4 create_time %d is not after m3's %d: a poll with pre_msg_time would miss it", everything[3].CreateTime, last)
	}
}

func TestMessageLengthLimit(t *testing.T) {
	t.Parallel()
	a := api.register(t, "msglen")
	b := api.register(t, "msglenb")

	long := strings.Repeat("m", 1000)
	api.sendMessage(t, a, b.ID, long)
	api.messageRaw(t, a.Token, vals("to_user_id", b.ID, "action_type", 1, "content", strings.Repeat("m", 1001))).wantInvalid(t)

	got := api.chat(t, b, a.ID, -1)
	if len(got) != 1 || got[0].Content != long {
		t.Errorf("after a 1000-char and a rejected 1001-char message: %d messages (%v), want only the 1000-char one", len(got), messageIDs(got))
	}
}

func TestMessageErrors(t *testing.T) {
	t.Parallel()
	a := api.register(t, "msgerr")
	b := api.register(t, "msgerrb")

	cases := []struct {
		name       string
		query      url.Values
		httpStatus int
		code       int64
	}{
		{"action_type 2", vals("token", a.Token, "to_user_id", b.ID, "action_type", 2, "content", "hi"), http.StatusOK, codeInvalidParam},
		{"action_type 0", vals("token", a.Token, "to_user_id", b.ID, "action_type", 0, "content", "hi"), http.StatusOK, codeInvalidParam},
		{"non-numeric action_type", vals("token", a.Token, "to_user_id", b.ID, "action_type", "send", "content", "hi"), http.StatusOK, codeInvalidParam},
		{"missing action_type", vals("token", a.Token, "to_user_id", b.ID, "content", "hi"), http.StatusOK, codeInvalidParam},
		{"empty content", vals("token", a.Token, "to_user_id", b.ID, "action_type", 1, "content", ""), http.StatusOK, codeInvalidParam},
		{"whitespace content", vals("token", a.Token, "to_user_id", b.ID, "action_type", 1, "content", " \n\t "), http.StatusOK, codeInvalidParam},
		{"missing content", vals("token", a.Token, "to_user_id", b.ID, "action_type", 1), http.StatusOK, codeInvalidParam},
		{"1001-char content", vals("token", a.Token, "to_user_id", b.ID, "action_type", 1, "content", strings.Repeat("x", 1001)), http.StatusOK, codeInvalidParam},
		{"unknown recipient", vals("token", a.Token, "to_user_id", missingID, "action_type", 1, "content", "hi"), http.StatusOK, codeUserNotFound},
		{"missing to_user_id", vals("token", a.Token, "action_type", 1, "content", "hi"), http.StatusOK, codeInvalidParam},
		{"non-numeric to_user_id", vals("token", a.Token, "to_user_id", "abc", "action_type", 1, "content", "hi"), http.StatusOK, codeInvalidParam},
		{"missing token", vals("to_user_id", b.ID, "action_type", 1, "content", "hi"), http.StatusUnauthorized, codeUnauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api.post(t, pathMessage, tc.query).wantErr(t, tc.httpStatus, tc.code)
		})
	}
	wantEmptyChat(t, "a's chat after rejected messages", a, b.ID, -1)
	wantEmptyChat(t, "b's chat after rejected messages", b, a.ID, -1)

	chatCases := []struct {
		name       string
		query      url.Values
		httpStatus int
		code       int64
	}{
		{"chat without to_user_id", vals("token", a.Token), http.StatusOK, codeInvalidParam},
		{"chat with non-numeric to_user_id", vals("token", a.Token, "to_user_id", "abc"), http.StatusOK, codeInvalidParam},
		{"chat without token", vals("to_user_id", b.ID), http.StatusUnauthorized, codeUnauthenticated},
	}
	for _, tc := range chatCases {
		t.Run(tc.name, func(t *testing.T) {
			api.get(t, pathChat, tc.query).wantErr(t, tc.httpStatus, tc.code)
		})
	}
}
