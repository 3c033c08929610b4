package message

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/douyin-backend/douyin/internal/db"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	messageapi "github.com/douyin-backend/douyin/kitex_gen/message"
	userapi "github.com/douyin-backend/douyin/kitex_gen/user"
)

// maxContentLen bounds a message, in characters.
const maxContentLen = 1000

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
		return nil, errs.BadLength("message", maxContentLen)
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
	// Not the request's context: a sender hanging up now must not leave the time behind.
	ctx = context.WithoutCancel(ctx)
	if err := s.kv.SetIfGreater(ctx, latestKeyPrefix+key, m.CreatedAt, sentTTL); err != nil {
		s.log.WarnContext(ctx, "message: cache write failed, dropping the conversation's cached time", "error", err)
		if err := s.kv.Delete(ctx, latestKeyPrefix+key); err != nil {
			s.log.WarnContext(ctx, "message: cache delete failed", "error", err)
		}
	}
	return &messageapi.SendMessageResponse{Message: toAPI(*m)}, nil
}
