package message

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
)

func TestChat(t *testing.T) {
	f := newFixture(t)
	a := send(t, f.svc, 1, 2, "a")
	b := send(t, f.svc, 2, 1, "b")
	send(t, f.svc, 1, 3, "other conversation")
	c := send(t, f.svc, 1, 2, "c")
	cases := []struct {
		name        string
		user, peer  int64
		after       int64
		want        string
		wantFromIDs []int64
	}{
		{"whole conversation", 1, 2, 0, "a,b,c", []int64{1, 2, 1}},
		{"seen from the peer", 2, 1, 0, "a,b,c", []int64{1, 2, 1}},
		{"after first", 2, 1, a.CreateTime, "b,c", []int64{2, 1}},
		{"after second", 1, 2, b.CreateTime, "c", []int64{1}},
		{"after last", 1, 2, c.CreateTime, "", nil},
		{"no conversation", 1, 4, 0, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := chat(t, f.svc, tc.user, tc.peer, tc.after)
			if contents(got) != tc.want {
				t.Fatalf("messages %q, want %q", contents(got), tc.want)
			}
			for i, m := range got {
				if m.FromUserId != tc.wantFromIDs[i] {
					t.Fatalf("message %d from %d, want %d", i, m.FromUserId, tc.wantFromIDs[i])
				}
			}
		})
	}
	for _, bad := range []*messageapi.ChatRequest{
		{UserId: 0, PeerId: 2}, {UserId: 1, PeerId: -2}, {UserId: 1, PeerId: 1}, {UserId: 1, PeerId: 2, PreMsgTime: -1},
	} {
		if _, err := f.svc.Chat(context.Background(), bad); !errs.Is(err, base.ErrCode_InvalidParam) {
			t.Errorf("Chat(%+v) = %v, want InvalidParam", bad, err)
		}
	}
}

func TestChatReturnsNewestThousandOldestFirst(t *testing.T) {
	f := newFixture(t)
	rows := make([]Message, 0, chatLimit+5)
	for i := range chatLimit + 5 {
		rows = append(rows, Message{ConversationKey: "1_2", FromUserID: 1, ToUserID: 2, Content: fmt.Sprint(i), CreatedAt: int64(1000 + i)})
	}
	if err := f.gdb.CreateInBatches(rows, 200).Error; err != nil {
		t.Fatal(err)
	}
	got := chat(t, f.svc, 1, 2, 0)
	if len(got) != chatLimit || got[0].Content != "5" || got[chatLimit-1].Content != fmt.Sprint(chatLimit+4) {
		t.Fatalf("got %d messages from %q to %q, want the newest %d oldest first", len(got), got[0].Content, got[len(got)-1].Content, chatLimit)
	}
}

// The poll loop of the app: nothing new must cost no database query.
func TestIdlePollDoesNotQueryTheStore(t *testing.T) {
	f := newFixture(t)
	send(t, f.svc, 1, 2, "hello")
	last := send(t, f.svc, 2, 1, "hi back")
	f.store.take()

	for i := range 2 {
		if got := chat(t, f.svc, 1, 2, last.CreateTime); len(got) != 0 {
			t.Fatalf("idle poll %d returned %d messages", i, len(got))
		}
		if n := f.store.take(); n != 0 {
			t.Fatalf("idle poll %d made %d store calls, want 0 (cache warm from the send)", i, n)
		}
	}

	next := send(t, f.svc, 2, 1, "new")
	f.store.take()
	got := chat(t, f.svc, 1, 2, last.CreateTime)
	if len(got) != 1 || got[0].Id != next.Id || got[0].Content != "new" || got[0].CreateTime != next.CreateTime {
		t.Fatalf("poll after a send = %+v, want exactly %+v", got, next)
	}
	if n := f.store.take(); n != 1 {
		t.Fatalf("poll with news made %d store calls, want 1", n)
	}
}

func TestColdCacheCostsOneQueryThenNone(t *testing.T) {
	f := newFixture(t)
	last := send(t, f.svc, 1, 2, "hello")
	// A restarted process: same database, empty cache.
	cold := New(f.store, cache.NewMemory(1000), fakeUsers{n: 100})
	f.store.take()
	cases := []struct {
		name      string
		peer      int64
		after     int64
		wantMsgs  int
		wantCalls int
	}{
		{"first poll reads the latest time", 2, last.CreateTime, 0, 1},
		{"second poll is free", 2, last.CreateTime, 0, 0},
		{"older poll reads the messages only", 2, last.CreateTime - 1, 1, 1},
		{"empty conversation: first poll reads", 3, 12345, 0, 1},
		{"empty conversation: cached as empty", 3, 12345, 0, 0},
		{"empty conversation: even a full read is free", 3, 0, 0, 0},
		{"full read on a cold empty conversation", 4, 0, 0, 1},
		{"then cached as empty", 4, 0, 0, 0},
	}
	for _, c := range cases {
		got := chat(t, cold, 1, c.peer, c.after)
		if n := f.store.take(); len(got) != c.wantMsgs || n != c.wantCalls {
			t.Fatalf("%s: %d messages, %d store calls; want %d and %d", c.name, len(got), n, c.wantMsgs, c.wantCalls)
		}
	}
	// A message into a conversation cached as empty shows up at once.
	m := send(t, cold, 4, 1, "first")
	if got := chat(t, cold, 1, 4, 0); len(got) != 1 || got[0].Id != m.Id {
		t.Fatalf("after the first message: %+v", got)
	}
}

// brokenKV fails the operations named in fail.
type brokenKV struct {
	cache.KV
	failGet, failSet, failDelete bool
}

var errCacheDown = errors.New("cache down")

func (b brokenKV) Get(ctx context.Context, key string) (string, bool, error) {
	if b.failGet {
		return "", false, errCacheDown
	}
	return b.KV.Get(ctx, key)
}

func (b brokenKV) SetIfGreater(ctx context.Context, key string, v int64, ttl time.Duration) error {
	if b.failSet {
		return errCacheDown
	}
	return b.KV.SetIfGreater(ctx, key, v, ttl)
}

func (b brokenKV) Delete(ctx context.Context, key string) error {
	if b.failDelete {
		return errCacheDown
	}
	return b.KV.Delete(ctx, key)
}

func TestCacheFailuresDegradeToTheDatabase(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	store := &countingStore{Store: NewSQLStore(gdb)}
	s := New(store, brokenKV{KV: cache.NewMemory(10), failGet: true, failSet: true, failDelete: true}, fakeUsers{n: 10})
	a := send(t, s, 1, 2, "a")
	b := send(t, s, 2, 1, "b")
	store.take()
	if got := chat(t, s, 1, 2, a.CreateTime); contents(got) != "b" {
		t.Fatalf("poll with the cache down = %q, want b", contents(got))
	}
	if n := store.take(); n != 1 {
		t.Fatalf("%d store calls with the cache down, want 1 (straight to the messages)", n)
	}
	if got := chat(t, s, 1, 2, b.CreateTime); len(got) != 0 {
		t.Fatalf("idle poll with the cache down = %q", contents(got))
	}
}

// When a send cannot record its time, the cached (now stale) time is dropped so pollers
// fall back to the database instead of missing the message.
func TestFailedCacheWriteDropsStaleTime(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	store := NewSQLStore(gdb)
	kv := cache.NewMemory(10)
	healthy := New(store, kv, fakeUsers{n: 10})
	last := send(t, healthy, 1, 2, "old")
	if got := chat(t, healthy, 1, 2, last.CreateTime); len(got) != 0 {
		t.Fatal("idle poll returned messages")
	}
	flaky := New(store, brokenKV{KV: kv, failSet: true}, fakeUsers{n: 10})
	m := send(t, flaky, 2, 1, "new")
	if got := chat(t, healthy, 1, 2, last.CreateTime); len(got) != 1 || got[0].Id != m.Id {
		t.Fatalf("poll after a send whose cache write failed = %q, want the new message", contents(got))
	}
}

// hangUpAfterInsert cancels the request once its message is stored: the client went away
// just after the commit.
type hangUpAfterInsert struct {
	Store
	cancel context.CancelFunc
}

func (s hangUpAfterInsert) InsertMessage(ctx context.Context, m *Message) error {
	err := s.Store.InsertMessage(ctx, m)
	s.cancel()
	return err
}

// ctxKV fails, as the Redis client does, once the context is done.
type ctxKV struct{ cache.KV }

func (c ctxKV) SetIfGreater(ctx context.Context, key string, v int64, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.KV.SetIfGreater(ctx, key, v, ttl)
}

func (c ctxKV) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.KV.Delete(ctx, key)
}

// A stored message is announced to pollers even when its sender hung up right after the
// commit: the cached latest time must not stay behind.
func TestSendCancelledAfterCommitStillMovesTheLatestTime(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
	store := NewSQLStore(gdb)
	kv := cache.NewMemory(10)
	healthy := New(store, kv, fakeUsers{n: 10})
	last := send(t, healthy, 1, 2, "old")
	if got := chat(t, healthy, 1, 2, last.CreateTime); len(got) != 0 {
		t.Fatal("idle poll returned messages")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hungUp := New(hangUpAfterInsert{Store: store, cancel: cancel}, ctxKV{KV: kv}, fakeUsers{n: 10})
	resp, err := hungUp.SendMessage(ctx, &messageapi.SendMessageRequest{FromUserId: 2, ToUserId: 1, Content: "new"})
	if err != nil {
		t.Fatalf("send cancelled after its commit: %v", err)
	}
	if got := chat(t, healthy, 1, 2, last.CreateTime); len(got) != 1 || got[0].Id != resp.Message.Id {
		t.Fatalf("poll after a send cancelled after its commit = %q, want the new message", contents(got))
	}
}
