package comment

import (
	"context"
	"errors"
)

// ErrCommentNotFound is returned by the store for a comment that does not exist (any more).
var ErrCommentNotFound = errors.New("comment not found")

// Store keeps comments and the per-video comment counters.
type Store interface {
	// CreateComment inserts c, setting c.ID, and counts it for its video in one transaction.
	CreateComment(ctx context.Context, c *Comment) error
	// GetComment returns one comment or ErrCommentNotFound.
	GetComment(ctx context.Context, id int64) (*Comment, error)
	// DeleteComment removes the comment if it is still on videoID and written by userID, and
	// uncounts it in the same transaction. It returns ErrCommentNotFound when nothing matched,
	// so concurrent deletes count once.
	DeleteComment(ctx context.Context, id, videoID, userID int64) error
	// ListComments returns up to limit comments of the video, newest first.
	ListComments(ctx context.Context, videoID int64, limit int) ([]Comment, error)
	// MGetCommentCounts returns the stored comment counts of the videos that have one.
	MGetCommentCounts(ctx context.Context, videoIDs []int64) (map[int64]int64, error)
}

// Comment is one comment on a video; lists read (video_id, created_at).
type Comment struct {
	ID      int64  `gorm:"primaryKey"`
	VideoID int64  `gorm:"not null;index:idx_comments_video_created,priority:1"`
	UserID  int64  `gorm:"not null"`
	Content string `gorm:"type:text;not null"`
	// CreatedAt is Unix milliseconds, set by the service (GORM's own timestamps are seconds).
	CreatedAt int64 `gorm:"not null;autoCreateTime:false;index:idx_comments_video_created,priority:2"`
}
