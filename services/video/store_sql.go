package video

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db"
)

// TableName names the table.
func (Video) TableName() string { return "videos" }

// WorkCount is the number of ready videos a user has published.
type WorkCount struct {
	UserID    int64 `gorm:"primaryKey;autoIncrement:false"`
	WorkCount int64 `gorm:"not null;default:0"`
}

// TableName names the table.
func (WorkCount) TableName() string { return "video_work_counts" }

// Migrate creates or updates the video tables.
func Migrate(gdb *gorm.DB) error {
	if err := gdb.AutoMigrate(&Video{}, &WorkCount{}); err != nil {
		return fmt.Errorf("migrate video tables: %w", err)
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

func (s *sqlStore) CreateVideo(ctx context.Context, v *Video) error {
	if err := s.db.WithContext(ctx).Create(v).Error; err != nil {
		return fmt.Errorf("insert video: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteVideo(ctx context.Context, id int64) error {
	err := db.Transact(ctx, s.db, func(tx *gorm.DB) error {
		var v Video
		err := tx.Select("id", "author_id", "status").Take(&v, id).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		res := tx.Delete(&Video{}, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 && v.Status == statusReady {
			return db.AddCounters(tx, WorkCount{}.TableName(), "user_id", v.AuthorID, map[string]int64{"work_count": -1})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete video %d: %w", id, err)
	}
	return nil
}

func (s *sqlStore) MarkReady(ctx context.Context, id int64, playKey, coverKey string, renditions []Rendition) (*Video, error) {
	var became *Video
	err := db.Transact(ctx, s.db, func(tx *gorm.DB) error {
		became = nil
		v, err := s.processingVideo(tx, id)
		if err != nil || v == nil {
			return err
		}
		// The status condition makes the transition happen once even when two completions
		// race: only the one whose UPDATE matched may count the video.
		res := tx.Model(&Video{}).Where("id = ? AND status = ?", id, statusProcessing).
			Updates(&Video{Status: statusReady, PlayKey: playKey, CoverKey: coverKey, Renditions: renditions})
		if res.Error != nil {
			return fmt.Errorf("mark video %d ready: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		if err := db.AddCounters(tx, WorkCount{}.TableName(), "user_id", v.AuthorID, map[string]int64{"work_count": 1}); err != nil {
			return err
		}
		became = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return became, nil
}

func (s *sqlStore) MarkFailed(ctx context.Context, id int64, reason string) error {
	return db.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if v, err := s.processingVideo(tx, id); err != nil || v == nil {
			return err
		}
		err := tx.Model(&Video{}).Where("id = ? AND status = ?", id, statusProcessing).
			Updates(map[string]any{"status": statusFailed, "failure_reason": reason}).Error
		if err != nil {
			return fmt.Errorf("mark video %d failed: %w", id, err)
		}
		return nil
	})
}

// processingVideo reads the id, author and creation time of video id, or nil when it is no
// longer processing.
func (s *sqlStore) processingVideo(tx *gorm.DB, id int64) (*Video, error) {
	var v Video
	err := tx.Select("id", "author_id", "status", "created_at").Take(&v, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrVideoNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read video %d: %w", id, err)
	}
	if v.Status != statusProcessing {
		return nil, nil
	}
	return &v, nil
}

func (s *sqlStore) ListFeed(ctx context.Context, beforeMillis int64, limit int) ([]Video, error) {
	var vs []Video
	err := s.db.WithContext(ctx).
		Where("status = ? AND created_at < ?", statusReady, beforeMillis).
		Order("created_at DESC, id DESC").Limit(limit).Find(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("list feed: %w", err)
	}
	return vs, nil
}

func (s *sqlStore) ListFeedEntries(ctx context.Context, beforeMillis int64, limit int) ([]TimelineEntry, error) {
	var es []TimelineEntry
	err := s.db.WithContext(ctx).Model(&Video{}).Select("id", "created_at").
		Where("status = ? AND created_at < ?", statusReady, beforeMillis).
		Order("created_at DESC, id DESC").Limit(limit).Find(&es).Error
	if err != nil {
		return nil, fmt.Errorf("list feed: %w", err)
	}
	return es, nil
}

func (s *sqlStore) ListFeedEntriesByAuthors(ctx context.Context, authorIDs []int64, sinceMillis, beforeMillis int64, limit int) ([]TimelineEntry, error) {
	es := []TimelineEntry{}
	if len(authorIDs) == 0 {
		return es, nil
	}
	err := s.db.WithContext(ctx).Model(&Video{}).Select("id", "created_at").
		Where("author_id IN ? AND status = ? AND created_at >= ? AND created_at < ?", authorIDs, statusReady, sinceMillis, beforeMillis).
		Order("created_at DESC, id DESC").Limit(limit).Find(&es).Error
	if err != nil {
		return nil, fmt.Errorf("list following feed: %w", err)
	}
	return es, nil
}

func (s *sqlStore) ListIDsByAuthor(ctx context.Context, authorID int64, limit int) ([]int64, error) {
	ids := []int64{}
	err := s.db.WithContext(ctx).Model(&Video{}).
		Where("author_id = ? AND status = ?", authorID, statusReady).
		Order("created_at DESC, id DESC").Limit(limit).Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list videos of author %d: %w", authorID, err)
	}
	return ids, nil
}

func (s *sqlStore) ListUnreadyByAuthor(ctx context.Context, authorID int64, limit int) ([]Video, error) {
	var vs []Video
	err := s.db.WithContext(ctx).
		Where("author_id = ? AND status IN ?", authorID, []int8{statusProcessing, statusFailed}).
		Order("created_at DESC, id DESC").Limit(limit).Find(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("list unready videos of author %d: %w", authorID, err)
	}
	return vs, nil
}

func (s *sqlStore) MGetReady(ctx context.Context, ids []int64) ([]Video, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// By primary key only, the state filtered here: with "AND status = ?" SQLite's planner
	// may walk the (status, created_at) index over every ready video instead.
	var vs []Video
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("get videos: %w", err)
	}
	ready := vs[:0]
	for _, v := range vs {
		if v.Status == statusReady {
			ready = append(ready, v)
		}
	}
	return ready, nil
}

func (s *sqlStore) MGetWorkCounts(ctx context.Context, userIDs []int64) (map[int64]int64, error) {
	counts := make(map[int64]int64, len(userIDs))
	if len(userIDs) == 0 {
		return counts, nil
	}
	var rows []WorkCount
	if err := s.db.WithContext(ctx).Where("user_id IN ?", userIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get work counts: %w", err)
	}
	for _, r := range rows {
		counts[r.UserID] = r.WorkCount
	}
	return counts, nil
}

func (s *sqlStore) OwnWorkCount(ctx context.Context, authorID int64, unreadyLimit int) (int64, error) {
	// One statement reads both tables in one snapshot, as a transaction would in four round
	// trips: a video turning ready leaves the unready ones and joins the work count in one
	// commit, so it is counted once.
	gdb := s.db.WithContext(ctx)
	ready := gdb.Model(&WorkCount{}).Select("work_count").Where("user_id = ?", authorID)
	unready := gdb.Model(&Video{}).Select("id").
		Where("author_id = ? AND status IN ?", authorID, []int8{statusProcessing, statusFailed}).Limit(unreadyLimit)
	var total int64
	if err := gdb.Raw("SELECT COALESCE((?), 0) + (SELECT COUNT(*) FROM (?) AS unready)", ready, unready).Scan(&total).Error; err != nil {
		return 0, fmt.Errorf("count own works of %d: %w", authorID, err)
	}
	return total, nil
}

func (s *sqlStore) ListStuck(ctx context.Context, beforeMillis int64, limit int) ([]Video, error) {
	var vs []Video
	// Few videos are processing at any time, so the status index narrows this enough.
	err := s.db.WithContext(ctx).
		Where("status = ? AND enqueued_at < ?", statusProcessing, beforeMillis).
		Order("enqueued_at, id").Limit(limit).Find(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("list stuck videos: %w", err)
	}
	return vs, nil
}

func (s *sqlStore) MarkRequeued(ctx context.Context, id, nowMillis int64) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Video{}).Where("id = ? AND status = ?", id, statusProcessing).
		Updates(map[string]any{"enqueued_at": nowMillis, "requeues": gorm.Expr("requeues + 1")})
	if res.Error != nil {
		return false, fmt.Errorf("mark video %d requeued: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}
