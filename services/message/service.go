// Package message is the message service: chat between users, with polling answered from the
// cache when nothing is new.
package message

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

const (
	maxContentLen = 1000
	// chatLimit caps a chat read at the newest messages: the app has no paging, so one
	// response must stay bounded.
	chatLimit = 1000
	// latestKeyPrefix + conversation key caches the conversation's latest created_at.
	latestKeyPrefix = "msg:last:"
	// sentTTL keeps a time written by a send, which is exact.
	sentTTL = 24 * time.Hour
	// learntTTL keeps a time learnt from a read briefly: the read may be older than a send
	// whose own cache write was lost (eviction, cache outage), and a short life bounds how
	// long such a stale value can hide a message from pollers.
	learntTTL = 5 * time.Minute
)

// msg_type values of a latest message, seen from the requesting user.
const (
	msgTypeReceived int64 = 0
	msgTypeSent     int64 = 1
)

// Service implements the message service.
type Service struct {
	store Store
	kv    cache.KV
	users userapi.UserService
	log   *slog.Logger
}

var _ messageapi.MessageService = (*Service)(nil)

// New returns the message service. kv caches each conversation's latest message time so idle
// polls skip the database; users is asked whether a recipient exists.
func New(store Store, kv cache.KV, users userapi.UserService, opts ...Option) *Service {
	s := &Service{store: store, kv: kv, users: users, log: slog.Default()}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Option configures the service.
type Option func(*Service)

// WithLogger sets where degraded cache operations are reported (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// SendMessage stores a message from from_user_id to to_user_id and returns it.
func (s *Service) SendMessage(ctx context.Context, req *messageapi.SendMessageRequest) (*messageapi.SendMessageResponse, error) {
	from, to, content := req.GetFromUserId(), req.GetToUserId(), req.GetContent()
	if from <= 0 {
		return nil, errs.NotPositive("from_user_id")
	}
	if to <= 0 {
		return nil, errs.NotPositive("to_user_id")
	}
	if from == to {
		return nil, errs.Invalid("you cannot message yourself")
	}
	if !utf8.ValidString(content) || strings.TrimSpace(content) == "" || utf8.RuneCountInString(content) > maxContentLen {
		return nil, errs.Invalid("message must be 1-%d characters", maxContentLen)
	}
	users, err := s.users.MGetUsers(ctx, &userapi.MGetUsersRequest{UserIds: []int64{to}})
	if err != nil {
		return nil, err
	}
	if users.GetUsers()[to] == nil {
		return nil, errs.New(base.ErrCode_UserNotFound, "user not found")
	}
	key := conversationKey(from, to)
	m := &Message{ConversationKey: key, FromUserID: from, ToUserID: to, Content: content, CreatedAt: db.NowMillis()}
	if err := s.store.InsertMessage(ctx, m); err != nil {
		return nil, err
	}
	// The message is stored: a cache failure must not fail the send (a retry would
	// duplicate it). Dropping the key sends pollers to the database instead of a stale time.
	if err := s.kv.SetIfGreater(ctx, latestKeyPrefix+key, m.CreatedAt, sentTTL); err != nil {
		s.log.WarnContext(ctx, "message: cache write failed, dropping the conversation's cached time", "error", err)
		if err := s.kv.Delete(ctx, latestKeyPrefix+key); err != nil {
			s.log.WarnContext(ctx, "message: cache delete failed", "error", err)
		}
	}
	return &messageapi.SendMessageResponse{Message: toAPI(*m)}, nil
}

// Chat returns the messages between user_id and peer_id created after pre_msg_time (all when
// it is 0), oldest first. It is the hot path: the app polls it every few seconds, so a poll
// with nothing new is answered from the cached latest time without touching the database.
func (s *Service) Chat(ctx context.Context, req *messageapi.ChatRequest) (*messageapi.ChatResponse, error) {
	user, peer, after := req.GetUserId(), req.GetPeerId(), req.GetPreMsgTime()
	if user <= 0 {
		return nil, errs.NotPositive("user_id")
	}
	if peer <= 0 {
		return nil, errs.NotPositive("peer_id")
	}
	if user == peer {
		return nil, errs.Invalid("you cannot chat with yourself")
	}
	if after < 0 {
		return nil, errs.Negative("pre_msg_time")
	}
	key := conversationKey(user, peer)
	empty := &messageapi.ChatResponse{Messages: []*base.Message{}}

	latest, known, err := cache.GetInt(ctx, s.kv, latestKeyPrefix+key)
	cacheUp := err == nil
	if !cacheUp {
		s.log.WarnContext(ctx, "message: cache read failed, reading the database", "error", err)
	}
	// A poll on a cache miss asks the store for the latest time only: one cheap indexed read
	// that warms the cache, so the following idle polls cost nothing.
	if cacheUp && !known && after > 0 {
		if latest, err = s.store.LatestTime(ctx, key); err != nil {
			return nil, err
		}
		s.learnLatest(ctx, key, latest)
		known = true
	}
	// Cached 0 means an empty conversation: answered without a query even when after is 0.
	if known && latest <= after {
		return empty, nil
	}
	rows, err := s.store.ConversationMessages(ctx, key, after, chatLimit)
	if err != nil {
		return nil, err
	}
	if cacheUp && !known && after == 0 {
		newest := int64(0)
		if len(rows) > 0 {
			newest = rows[len(rows)-1].CreatedAt
		}
		s.learnLatest(ctx, key, newest)
	}
	resp := &messageapi.ChatResponse{Messages: make([]*base.Message, 0, len(rows))}
	for _, r := range rows {
		resp.Messages = append(resp.Messages, toAPI(r))
	}
	return resp, nil
}

// learnLatest caches a latest time read from the store; SetIfGreater keeps a concurrent
// send's newer time.
func (s *Service) learnLatest(ctx context.Context, key string, latest int64) {
	if err := s.kv.SetIfGreater(ctx, latestKeyPrefix+key, latest, learntTTL); err != nil {
		s.log.WarnContext(ctx, "message: cache write failed", "error", err)
	}
}

// MGetLatestMessages returns the latest message between user_id and each peer that has one.
func (s *Service) MGetLatestMessages(ctx context.Context, req *messageapi.MGetLatestMessagesRequest) (*messageapi.MGetLatestMessagesResponse, error) {
	user := req.GetUserId()
	if user <= 0 {
		return nil, errs.NotPositive("user_id")
	}
	peers := ids.Unique(req.GetPeerIds())
	if len(peers) > ids.MaxBatch {
		return nil, errs.Invalid("peer_ids must hold at most %d ids", ids.MaxBatch)
	}
	resp := &messageapi.MGetLatestMessagesResponse{Messages: make(map[int64]*messageapi.LatestMessage, len(peers))}
	keys := make([]string, 0, len(peers))
	for _, p := range peers {
		if p != user {
			keys = append(keys, conversationKey(user, p))
		}
	}
	if len(keys) == 0 {
		return resp, nil
	}
	rows, err := s.store.LatestMessages(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		latest := &messageapi.LatestMessage{Content: r.Content, MsgType: msgTypeReceived}
		peer := r.FromUserID
		if r.FromUserID == user {
			latest.MsgType = msgTypeSent
			peer = r.ToUserID
		}
		resp.Messages[peer] = latest
	}
	return resp, nil
}

// conversationKey names the conversation of two users, the same in both directions.
func conversationKey(a, b int64) string {
	return fmt.Sprintf("%d_%d", min(a, b), max(a, b))
}

func toAPI(m Message) *base.Message {
	return &base.Message{
		Id:         m.ID,
		ToUserId:   m.ToUserID,
		FromUserId: m.FromUserID,
		Content:    m.Content,
		CreateTime: m.CreatedAt,
	}
}
