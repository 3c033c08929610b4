package message

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
	"gorm.io/gorm"
)

// fakeUsers is a user service knowing the ids 1..n.
type fakeUsers struct{ n int64 }

func (f fakeUsers) Register(context.Context, *userapi.RegisterRequest) (*userapi.RegisterResponse, error) {
	panic("not used")
}

func (f fakeUsers) Login(context.Context, *userapi.LoginRequest) (*userapi.LoginResponse, error) {
	panic("not used")
}

func (f fakeUsers) MGetUsers(_ context.Context, req *userapi.MGetUsersRequest) (*userapi.MGetUsersResponse, error) {
	out := map[int64]*userapi.UserProfile{}
	for _, id := range req.UserIds {
		if id >= 1 && id <= f.n {
			out[id] = &userapi.UserProfile{Id: id}
		}
	}
	return &userapi.MGetUsersResponse{Users: out}, nil
}

// countingStore delegates to the SQL store and counts every call, so tests can prove which
// requests touch the database.
type countingStore struct {
	Store
	mu    sync.Mutex
	calls int
}

func (c *countingStore) count() {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
}

func (c *countingStore) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.calls
	c.calls = 0
	return n
}

func (c *countingStore) InsertMessage(ctx context.Context, m *Message) error {
	c.count()
	return c.Store.InsertMessage(ctx, m)
}

func (c *countingStore) ConversationMessages(ctx context.Context, key string, after int64, limit int) ([]Message, error) {
	c.count()
	return c.Store.ConversationMessages(ctx, key, after, limit)
}

func (c *countingStore) LatestTime(ctx context.Context, key string) (int64, error) {
	c.count()
	return c.Store.LatestTime(ctx, key)
}

func (c *countingStore) LatestMessages(ctx context.Context, keys []string) ([]Message, error) {
	c.count()
	return c.Store.LatestMessages(ctx, keys)
}

func openDB(t *testing.T) *gorm.DB {
	t.Helper()
	// SQLite by default; DOUYIN_TEST_DB=mysql runs the package on MariaDB.
	gdb := dbtest.Open(t)
	if err := Migrate(gdb); err != nil {
		t.Fatal(err)
	}
	return gdb
}

type fixture struct {
	svc   *Service
	store *countingStore
	kv    cache.KV
	gdb   *gorm.DB
}

func newFixture(t *testing.T) fixture {
	gdb := openDB(t)
	store := &countingStore{Store: NewSQLStore(gdb)}
	kv := cache.NewMemory(1000)
	return fixture{svc: New(store, kv, fakeUsers{n: 100}), store: store, kv: kv, gdb: gdb}
}

func send(t *testing.T, s *Service, from, to int64, content string) *base.Message {
	t.Helper()
	resp, err := s.SendMessage(context.Background(), &messageapi.SendMessageRequest{FromUserId: from, ToUserId: to, Content: content})
	if err != nil {
		t.Fatalf("send %d->%d: %v", from, to, err)
	}
	return resp.Message
}

func chat(t *testing.T, s *Service, user, peer, after int64) []*base.Message {
	t.Helper()
	resp, err := s.Chat(context.Background(), &messageapi.ChatRequest{UserId: user, PeerId: peer, PreMsgTime: after})
	if err != nil {
		t.Fatalf("chat %d/%d after %d: %v", user, peer, after, err)
	}
	if resp.Messages == nil {
		t.Fatal("nil message list")
	}
	return resp.Messages
}

func contents(msgs []*base.Message) string {
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = m.Content
	}
	return strings.Join(parts, ",")
}

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
	gdb := openDB(t)
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
	gdb := openDB(t)
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

func TestMGetLatestMessages(t *testing.T) {
	f := newFixture(t)
	send(t, f.svc, 1, 2, "1 to 2")
	send(t, f.svc, 2, 1, "2 to 1, latest")
	send(t, f.svc, 3, 1, "3 to 1")
	send(t, f.svc, 1, 3, "1 to 3, latest")
	send(t, f.svc, 4, 5, "not mine")
	f.store.take()

	resp, err := f.svc.MGetLatestMessages(context.Background(), &messageapi.MGetLatestMessagesRequest{UserId: 1, PeerIds: []int64{2, 3, 4, 2, 1, 0, 99}})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.store.take(); n != 1 {
		t.Fatalf("%d store calls, want 1", n)
	}
	want := map[int64]messageapi.LatestMessage{
		2: {Content: "2 to 1, latest", MsgType: 0},
		3: {Content: "1 to 3, latest", MsgType: 1},
	}
	if len(resp.Messages) != len(want) {
		t.Fatalf("messages = %v, want peers 2 and 3 only", resp.Messages)
	}
	for peer, w := range want {
		if got := resp.Messages[peer]; got == nil || *got != w {
			t.Errorf("peer %d = %+v, want %+v", peer, got, w)
		}
	}

	empty, err := f.svc.MGetLatestMessages(context.Background(), &messageapi.MGetLatestMessagesRequest{UserId: 1, PeerIds: []int64{1}})
	if err != nil || empty.Messages == nil || len(empty.Messages) != 0 || f.store.take() != 0 {
		t.Fatalf("only self as peer: %v %v; want an empty map and no query", empty, err)
	}
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 2)
	}
	for _, bad := range []*messageapi.MGetLatestMessagesRequest{{UserId: 0, PeerIds: []int64{2}}, {UserId: 1, PeerIds: tooMany}} {
		if _, err := f.svc.MGetLatestMessages(context.Background(), bad); !errs.Is(err, base.ErrCode_InvalidParam) {
			t.Errorf("MGetLatestMessages(user %d, %d peers) = %v, want InvalidParam", bad.UserId, len(bad.PeerIds), err)
		}
	}
}
