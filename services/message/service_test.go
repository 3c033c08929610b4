package message

import (
	"context"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
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

type fixture struct {
	svc   *Service
	store *countingStore
	kv    cache.KV
	gdb   *gorm.DB
}

func newFixture(t *testing.T) fixture {
	gdb := dbtest.OpenMigrated(t, Migrate)
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

func TestConversationKey(t *testing.T) {
	if conversationKey(7, 3) != "3_7" || conversationKey(3, 7) != "3_7" {
		t.Fatal("conversation key depends on direction")
	}
	if k := conversationKey(1<<62, 1<<62+1); len(k) > 41 {
		t.Fatalf("key %q longer than the column", k)
	}
}
