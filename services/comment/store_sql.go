package comment

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db"
)

// TableName names the table.
func (Comment) TableName() string { return "comments" }

// CommentCount is the number of comments on a video.
type CommentCount struct {
	VideoID      int64 `gorm:"primaryKey;autoIncrement:false"`
	CommentCount int64 `gorm:"not null;default:0"`
}

// TableName names the table.
func (CommentCount) TableName() string { return "comment_counts" }

// Migrate creates or updates the comment tables.
func Migrate(gdb *gorm.DB) error {
	if err := gdb.AutoMigrate(&Comment{}, &CommentCount{}); err != nil {
		return fmt.Errorf("migrate comment tables: %w", err)
	}
	return nil
}

type sqlStore struct {
	db *gorm.DB
}

// NewSQLStore returns the GORM-backed Store.
func NewSQLStore(gdb *gorm.DB) Store {
	return &sqlStore{db: gdb}
}

func (s *sqlStore) CreateComment(ctx context.Context, c *Comment) error {
	err := db.Transact(ctx, s.db, func(tx *gorm.DB) error {
		c.ID = 0 // a rolled-back run may have set it
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		return db.AddCounters(tx, CommentCount{}.TableName(), "video_id", c.VideoID, map[string]int64{"comment_count": 1})
	})
	if err != nil {
		return fmt.Errorf("insert comment on video %d: %w", c.VideoID, err)
	}
	return nil
}

func (s *sqlStore) GetComment(ctx context.Context, id int64) (*Comment, error) {
	var c Comment
	err := s.db.WithContext(ctx).Take(&c, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrCommentNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read comment %d: %w", id, err)
	}
	return &c, nil
}

func (s *sqlStore) DeleteComment(ctx context.Context, id, videoID, userID int64) error {
	// Transact reruns it when MySQL breaks a deadlock with a concurrent post on the video
	// (both lock the comment index and the counter row).
	return db.Transact(ctx, s.db, func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND video_id = ? AND user_id = ?", id, videoID, userID).Delete(&Comment{})
		if res.Error != nil {
			return fmt.Errorf("delete comment %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrCommentNotFound
		}
		return db.AddCounters(tx, CommentCount{}.TableName(), "video_id", videoID, map[string]int64{"comment_count": -1})
	})
}

func (s *sqlStore) ListComments(ctx context.Context, videoID int64, limit int) ([]Comment, error) {
	var cs []Comment
	err := s.db.WithContext(ctx).Where("video_id = ?", videoID).
		Order("created_at DESC, id DESC").Limit(limit).Find(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("list comments of video %d: %w", videoID, err)
	}
	return cs, nil
}

func (s *sqlStore) MGetCommentCounts(ctx context.Context, videoIDs []int64) (map[int64]int64, error) {
	counts := make(map[int64]int64, len(videoIDs))
	if len(videoIDs) == 0 {
		return counts, nil
	}
	var rows []CommentCount
	if err := s.db.WithContext(ctx).Where("video_id IN ?", videoIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get comment counts: %w", err)
	}
	for _, r := range rows {
		counts[r.VideoID] = r.CommentCount
	}
	return counts, nil
}
