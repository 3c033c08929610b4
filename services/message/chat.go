package message

import (
	"context"

	"github.com/douyin-backend/douyin/internal/cache"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
)

// chatLimit caps a chat read at the newest messages: the app has no paging, so one response
// must stay bounded.
const chatLimit = 1000

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

func toAPI(m Message) *base.Message {
	return &base.Message{
		Id:         m.ID,
		ToUserId:   m.ToUserID,
		FromUserId: m.FromUserID,
		Content:    m.Content,
		CreateTime: m.CreatedAt,
	}
}
