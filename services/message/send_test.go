package message

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
)

func TestSendMessageValidation(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name     string
		from, to int64
		content  string
		wantCode base.ErrCode
		wantMsg  string
	}{
		{"zero sender", 0, 2, "hi", base.ErrCode_InvalidParam, "from_user_id must be a positive integer"},
		{"zero recipient", 1, 0, "hi", base.ErrCode_InvalidParam, "to_user_id must be a positive integer"},
		{"self", 1, 1, "hi", base.ErrCode_InvalidParam, "you cannot message yourself"},
		{"empty", 1, 2, "", base.ErrCode_InvalidParam, "message must be 1-1000 characters"},
		{"whitespace only", 1, 2, " \t\n　", base.ErrCode_InvalidParam, "message must be 1-1000 characters"},
		{"too long", 1, 2, strings.Repeat("字", 1001), base.ErrCode_InvalidParam, "message must be 1-1000 characters"},
		{"invalid utf-8", 1, 2, "\xff\xfe", base.ErrCode_InvalidParam, "message must be 1-1000 characters"},
		{"unknown recipient", 1, 101, "hi", base.ErrCode_UserNotFound, "user not found"},
		{"1000 runes", 1, 2, strings.Repeat("字", 1000), base.ErrCode_Success, ""},
		{"one char", 1, 2, "x", base.ErrCode_Success, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := f.svc.SendMessage(context.Background(), &messageapi.SendMessageRequest{FromUserId: c.from, ToUserId: c.to, Content: c.content})
			code, msg := errs.Code(err)
			if code != c.wantCode || msg != c.wantMsg {
				t.Fatalf("SendMessage = %v %q, want %v %q", code, msg, c.wantCode, c.wantMsg)
			}
			if err == nil {
				m := resp.Message
				if m.Id <= 0 || m.FromUserId != c.from || m.ToUserId != c.to || m.Content != c.content || m.CreateTime < 1e12 {
					t.Fatalf("returned message %+v", m)
				}
			}
		})
	}
	var rows int64
	f.gdb.Model(&Message{}).Count(&rows)
	if rows != 2 {
		t.Fatalf("%d rows stored, want the 2 valid messages", rows)
	}
}

func TestSendUpdatesCachedLatestTime(t *testing.T) {
	f := newFixture(t)
	m := send(t, f.svc, 3, 2, "hi")
	got, ok, err := cache.GetInt(context.Background(), f.kv, "msg:last:2_3")
	if err != nil || !ok || got != m.CreateTime {
		t.Fatalf("cached latest = %d %v %v, want %d", got, ok, err, m.CreateTime)
	}
}

// A burst in one millisecond and concurrent senders must still give strictly increasing,
// unique times, each stored message visible exactly once to a poller.
func TestCreateTimesStrictlyIncrease(t *testing.T) {
	f := newFixture(t)
	var prev int64
	for i := range 50 {
		m := send(t, f.svc, 1, 2, fmt.Sprint(i))
		if m.CreateTime <= prev {
			t.Fatalf("message %d time %d not after %d", i, m.CreateTime, prev)
		}
		prev = m.CreateTime
	}
	// A message already stored in the future (another node's clock ahead) still comes first.
	future := Message{ConversationKey: "1_2", FromUserID: 2, ToUserID: 1, Content: "future", CreatedAt: prev + 60_000}
	if err := f.gdb.Create(&future).Error; err != nil {
		t.Fatal(err)
	}
	if m := send(t, f.svc, 1, 2, "after future"); m.CreateTime != future.CreatedAt+1 {
		t.Fatalf("time %d, want %d (one after the latest)", m.CreateTime, future.CreatedAt+1)
	}

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, to := int64(5), int64(6)
			if i%2 == 1 {
				from, to = to, from
			}
			if _, err := f.svc.SendMessage(context.Background(), &messageapi.SendMessageRequest{FromUserId: from, ToUserId: to, Content: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	all := chat(t, f.svc, 5, 6, 0)
	if len(all) != 20 {
		t.Fatalf("%d messages after 20 concurrent sends", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreateTime <= all[i-1].CreateTime {
			t.Fatalf("times not strictly increasing: %d then %d", all[i-1].CreateTime, all[i].CreateTime)
		}
	}
}
