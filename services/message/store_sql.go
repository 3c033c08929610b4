package message

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/douyin-backend/douyin/internal/db"
)

// TableName names the table.
func (Message) TableName() string { return "messages" }

// Migrate creates or updates the message service's tables.
func Migrate(gdb *gorm.DB) error {
	if err := gdb.AutoMigrate(&Message{}); err != nil {
		return fmt.Errorf("migrate messages: %w", err)
	}
	return nil
}

// insertAttempts bounds the retries of an insert that lost a race for a created_at value
// or, on MySQL, a deadlock: InnoDB's gap locks make concurrent senders of one conversation
// deadlock and retry, a few times each when many send at once.
const insertAttempts = 40

type sqlStore struct {
	gdb *gorm.DB
}

// NewSQLStore returns the Store backed by gdb.
func NewSQLStore(gdb *gorm.DB) Store {
	return &sqlStore{gdb: gdb}
}

func (s *sqlStore) InsertMessage(ctx context.Context, m *Message) error {
	var err error
	for attempt := range insertAttempts {
		if attempt > 0 && db.IsRetryable(err) {
			if waitErr := db.Backoff(ctx, attempt); waitErr != nil {
				return err
			}
		}
		err = s.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// The locking read (MySQL; SQLite serialises writers anyway) makes concurrent
			// senders of one conversation commit in created_at order.
			var latest int64
			err := tx.Model(&Message{}).Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
				Select("COALESCE(MAX(created_at), 0)").Where("conversation_key = ?", m.ConversationKey).
				Scan(&latest).Error
			if err != nil {
				return fmt.Errorf("read latest message time: %w", err)
			}
			m.CreatedAt = max(m.CreatedAt, latest+1)
			m.ID = 0
			if err := tx.Create(m).Error; err != nil {
				return fmt.Errorf("insert message: %w", err)
			}
			return nil
		})
		// A duplicate (conversation_key, created_at) means another sender took that time
		// between our read and insert: read again. So does a deadlock: on MySQL the locking
		// read takes a gap lock that concurrent senders share, then each inserts into the gap.
		if !errors.Is(err, gorm.ErrDuplicatedKey) && !db.IsRetryable(err) {
			return err
		}
	}
	return err
}

func (s *sqlStore) ConversationMessages(ctx context.Context, conversationKey string, after int64, limit int) ([]Message, error) {
	rows := []Message{}
	// created_at is unique within a conversation, so it alone orders the rows; an id
	// tie-break would make MySQL sort them all instead of reading the unique index backwards.
	err := s.gdb.WithContext(ctx).Where("conversation_key = ? AND created_at > ?", conversationKey, after).
		Order("created_at DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read conversation: %w", err)
	}
	// Read newest first so the cap keeps the newest; answer oldest first.
	slices.Reverse(rows)
	return rows, nil
}

func (s *sqlStore) LatestTime(ctx context.Context, conversationKey string) (int64, error) {
	var latest int64
	err := s.gdb.WithContext(ctx).Model(&Message{}).Select("COALESCE(MAX(created_at), 0)").
		Where("conversation_key = ?", conversationKey).Scan(&latest).Error
	if err != nil {
		return 0, fmt.Errorf("read latest message time: %w", err)
	}
	return latest, nil
}

func (s *sqlStore) LatestMessages(ctx context.Context, conversationKeys []string) ([]Message, error) {
	rows := []Message{}
	if len(conversationKeys) == 0 {
		return rows, nil
	}
	gdb := s.gdb.WithContext(ctx)
	// Times are unique per conversation, so joining on the latest time picks one row each.
	latest := gdb.Model(&Message{}).Select("conversation_key, MAX(created_at) AS created_at").
		Where("conversation_key IN ?", conversationKeys).Group("conversation_key")
	err := gdb.Table("messages AS m").Select("m.*").
		Joins("JOIN (?) AS latest ON latest.conversation_key = m.conversation_key AND latest.created_at = m.created_at", latest).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read latest messages: %w", err)
	}
	return rows, nil
}
