package message

import (
	"context"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
)

// msg_type values of a latest message, seen from the requesting user.
const (
	msgTypeReceived int64 = 0
	msgTypeSent     int64 = 1
)

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
