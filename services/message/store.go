package message

import (
	"context"
)

// Store persists chat messages.
type Store interface {
	// InsertMessage inserts m and sets its ID. m.CreatedAt is raised to one past the
	// conversation's latest message when needed, so times are strictly increasing within a
	// conversation and a poller echoing the last time it saw never skips a message.
	InsertMessage(ctx context.Context, m *Message) error
	// ConversationMessages returns the newest limit messages of the conversation created
	// after the given time (Unix ms), oldest first.
	ConversationMessages(ctx context.Context, conversationKey string, after int64, limit int) ([]Message, error)
	// LatestTime returns the created_at of the conversation's latest message, 0 when empty.
	LatestTime(ctx context.Context, conversationKey string) (int64, error)
	// LatestMessages returns the latest message of each of the conversations that has one.
	LatestMessages(ctx context.Context, conversationKeys []string) ([]Message, error)
}

// Message is a row of the messages table.
type Message struct {
	ID int64 `gorm:"primaryKey;autoIncrement"`
	// ConversationKey is "<smaller id>_<larger id>": both directions of a chat share it.
	// The unique (conversation_key, created_at) index serves every chat read and enforces
	// the strictly increasing times polling relies on.
	ConversationKey string `gorm:"size:41;not null;uniqueIndex:uk_messages_conversation_created,priority:1"`
	FromUserID      int64  `gorm:"not null"`
	ToUserID        int64  `gorm:"not null"`
	Content         string `gorm:"type:text;not null"`
	// CreatedAt is Unix milliseconds.
	CreatedAt int64 `gorm:"not null;autoCreateTime:milli;uniqueIndex:uk_messages_conversation_created,priority:2"`
}
