package favorite

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db"
)

// Store keeps the durable like records and their counters.
type Store interface {
	// ApplyLike applies one like event in one transaction, in order per (user, video): an
	// event not newer than the stored one changes nothing, and counters move only when the
	// liked state flips. It reports whether the liked state flipped.
	ApplyLike(ctx context.Context, e LikeEvent) (flipped bool, err error)
	// ApplyLikes applies events as ApplyLike does, in order, all in one transaction (group
	// commit); when that transaction fails, each event is applied on its own, so one event's
	// failure stays its own. It returns one result and one error per event.
	ApplyLikes(ctx context.Context, events []LikeEvent) ([]bool, []error)
	// ListLikedVideos returns the ids of the videos the user likes, newest like first.
	ListLikedVideos(ctx context.Context, userID int64, limit int) ([]int64, error)
	// MGetVideoCounts returns the stored favorite counts of the videos that have one.
	MGetVideoCounts(ctx context.Context, videoIDs []int64) (map[int64]int64, error)
	// LikedAmong returns which of videoIDs the user likes.
	LikedAmong(ctx context.Context, userID int64, videoIDs []int64) (map[int64]bool, error)
	// LikedVideoIDs returns every video the user likes, in no order: what the read model
	// caches as the user's liked set.
	LikedVideoIDs(ctx context.Context, userID int64) ([]int64, error)
	// MGetUserCounts returns the stored like counters of the users that have them.
	MGetUserCounts(ctx context.Context, userIDs []int64) (map[int64]UserCount, error)
}

// Favorite is the like state of one user for one video: one row per pair, kept when unliked
// so its seq still orders later events. The list reads (user_id, liked, updated_at).
type Favorite struct {
	ID       int64 `gorm:"primaryKey"`
	UserID   int64 `gorm:"not null;uniqueIndex:uk_favorites_user_video,priority:1;index:idx_favorites_user_liked_updated,priority:1"`
	VideoID  int64 `gorm:"not null;uniqueIndex:uk_favorites_user_video,priority:2;index:idx_favorites_video"`
	AuthorID int64 `gorm:"not null"`
	Liked    bool  `gorm:"not null;index:idx_favorites_user_liked_updated,priority:2"`
	// Seq is the sequence of the last applied event; older events are ignored.
	Seq int64 `gorm:"not null"`
	// UpdatedAt is the Unix milliseconds of the last applied action (GORM's own are seconds).
	UpdatedAt int64 `gorm:"not null;autoUpdateTime:false;index:idx_favorites_user_liked_updated,priority:3"`
}

// TableName names the table.
func (Favorite) TableName() string { return "favorites" }

// VideoCount is the number of likes of a video.
type VideoCount struct {
	VideoID       int64 `gorm:"primaryKey;autoIncrement:false"`
	FavoriteCount int64 `gorm:"not null;default:0"`
}

// TableName names the table.
func (VideoCount) TableName() string { return "favorite_video_counts" }

// UserCount holds a user's like counters.
type UserCount struct {
	UserID int64 `gorm:"primaryKey;autoIncrement:false"`
	// FavoriteCount is how many videos the user likes.
	FavoriteCount int64 `gorm:"not null;default:0"`
	// TotalFavorited is how many likes the user's own videos received.
	TotalFavorited int64 `gorm:"not null;default:0"`
}

// TableName names the table.
func (UserCount) TableName() string { return "favorite_user_counts" }

// Migrate creates or updates the favorite tables.
func Migrate(gdb *gorm.DB) error {
	if err := gdb.AutoMigrate(&Favorite{}, &VideoCount{}, &UserCount{}); err != nil {
		return fmt.Errorf("migrate favorite tables: %w", err)
	}
	return nil
}

// maxApplyAttempts bounds the retries of ApplyLike when a concurrent writer of the same pair
// wins; events of one pair are normally delivered one at a time, so one retry is rare.
const maxApplyAttempts = 8

// errConflict makes ApplyLike retry after a concurrent writer changed the pair's row.
var errConflict = errors.New("favorite row changed concurrently")

type sqlStore struct {
	db *gorm.DB
}

// NewSQLStore returns the GORM-backed Store.
func NewSQLStore(gdb *gorm.DB) Store {
	return &sqlStore{db: gdb}
}

func (s *sqlStore) ApplyLike(ctx context.Context, e LikeEvent) (bool, error) {
	for attempt := range maxApplyAttempts {
		var flipped bool
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			flipped, err = applyLike(tx, e)
			return err
		})
		// A duplicate key means a concurrent first event for the pair inserted the row:
		// retrying reads it and orders against it. A deadlock (MySQL: concurrent counter
		// upserts) rolled everything back, so the whole event is applied again.
		if db.IsRetryable(err) && db.Backoff(ctx, attempt+1) == nil {
			continue
		}
		if errors.Is(err, errConflict) || errors.Is(err, gorm.ErrDuplicatedKey) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("apply like of user %d on video %d: %w", e.UserID, e.VideoID, err)
		}
		return flipped, nil
	}
	return false, fmt.Errorf("apply like of user %d on video %d: %w after %d attempts", e.UserID, e.VideoID, errConflict, maxApplyAttempts)
}

func (s *sqlStore) ApplyLikes(ctx context.Context, events []LikeEvent) ([]bool, []error) {
	flipped, failed := make([]bool, len(events)), make([]error, len(events))
	if len(events) > 1 {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for i, e := range events {
				var err error
				if flipped[i], err = applyLike(tx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return flipped, failed
		}
		clear(flipped) // rolled back: apply one by one, with ApplyLike's retries
	}
	for i, e := range events {
		flipped[i], failed[i] = s.ApplyLike(ctx, e)
	}
	return flipped, failed
}

func applyLike(tx *gorm.DB, e LikeEvent) (bool, error) {
	var row Favorite
	err := tx.Where("user_id = ? AND video_id = ?", e.UserID, e.VideoID).Take(&row).Error
	wasLiked := false
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		// The row is recorded even for an unlike, so its seq rejects an older like arriving late.
		row = Favorite{UserID: e.UserID, VideoID: e.VideoID, AuthorID: e.AuthorID, Liked: e.Liked, Seq: e.Seq, UpdatedAt: e.At}
		if err := tx.Create(&row).Error; err != nil {
			return false, err
		}
	case err != nil:
		return false, err
	case row.Seq >= e.Seq:
		return false, nil // stale or redelivered
	default:
		wasLiked = row.Liked
		// Compare-and-swap on seq: a plain read does not lock the row on every database, so
		// the update only lands if nobody applied another event since we read it.
		res := tx.Model(&Favorite{}).Where("id = ? AND seq = ?", row.ID, row.Seq).
			Updates(map[string]any{"liked": e.Liked, "seq": e.Seq, "updated_at": e.At})
		if res.Error != nil {
			return false, res.Error
		}
		if res.RowsAffected == 0 {
			return false, errConflict
		}
	}
	if wasLiked == e.Liked {
		return false, nil
	}
	delta := int64(-1)
	if e.Liked {
		delta = 1
	}
	if err := db.AddCounters(tx, VideoCount{}.TableName(), "video_id", e.VideoID, map[string]int64{"favorite_count": delta}); err != nil {
		return false, err
	}
	if err := db.AddCounters(tx, UserCount{}.TableName(), "user_id", e.UserID, map[string]int64{"favorite_count": delta}); err != nil {
		return false, err
	}
	if err := db.AddCounters(tx, UserCount{}.TableName(), "user_id", e.AuthorID, map[string]int64{"total_favorited": delta}); err != nil {
		return false, err
	}
	return true, nil
}

func (s *sqlStore) ListLikedVideos(ctx context.Context, userID int64, limit int) ([]int64, error) {
	videoIDs := []int64{}
	err := s.db.WithContext(ctx).Model(&Favorite{}).
		Where("user_id = ? AND liked = ?", userID, true).
		Order("updated_at DESC, id DESC").Limit(limit).Pluck("video_id", &videoIDs).Error
	if err != nil {
		return nil, fmt.Errorf("list liked videos of user %d: %w", userID, err)
	}
	return videoIDs, nil
}

func (s *sqlStore) MGetVideoCounts(ctx context.Context, videoIDs []int64) (map[int64]int64, error) {
	counts := make(map[int64]int64, len(videoIDs))
	if len(videoIDs) == 0 {
		return counts, nil
	}
	var rows []VideoCount
	if err := s.db.WithContext(ctx).Where("video_id IN ?", videoIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get video favorite counts: %w", err)
	}
	for _, r := range rows {
		counts[r.VideoID] = r.FavoriteCount
	}
	return counts, nil
}

func (s *sqlStore) LikedAmong(ctx context.Context, userID int64, videoIDs []int64) (map[int64]bool, error) {
	liked := make(map[int64]bool, len(videoIDs))
	if len(videoIDs) == 0 {
		return liked, nil
	}
	var hits []int64
	err := s.db.WithContext(ctx).Model(&Favorite{}).
		Where("user_id = ? AND video_id IN ? AND liked = ?", userID, videoIDs, true).
		Pluck("video_id", &hits).Error
	if err != nil {
		return nil, fmt.Errorf("get liked videos of user %d: %w", userID, err)
	}
	for _, id := range hits {
		liked[id] = true
	}
	return liked, nil
}

func (s *sqlStore) LikedVideoIDs(ctx context.Context, userID int64) ([]int64, error) {
	videoIDs := []int64{}
	// Served by idx_favorites_user_liked_updated (user_id, liked, ...).
	err := s.db.WithContext(ctx).Model(&Favorite{}).
		Where("user_id = ? AND liked = ?", userID, true).Pluck("video_id", &videoIDs).Error
	if err != nil {
		return nil, fmt.Errorf("load liked videos of user %d: %w", userID, err)
	}
	return videoIDs, nil
}

func (s *sqlStore) MGetUserCounts(ctx context.Context, userIDs []int64) (map[int64]UserCount, error) {
	counts := make(map[int64]UserCount, len(userIDs))
	if len(userIDs) == 0 {
		return counts, nil
	}
	var rows []UserCount
	if err := s.db.WithContext(ctx).Where("user_id IN ?", userIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get user favorite counts: %w", err)
	}
	for _, r := range rows {
		counts[r.UserID] = r
	}
	return counts, nil
}
