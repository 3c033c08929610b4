package video

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/db"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// Stored video states: the IDL enum VideoStatus in the column's small integer.
const (
	statusProcessing = int8(videoapi.VideoStatus_Processing)
	statusReady      = int8(videoapi.VideoStatus_Ready)
	statusFailed     = int8(videoapi.VideoStatus_Failed)
)

// ErrVideoNotFound is returned by the store for an unknown video id.
var ErrVideoNotFound = errors.New("video not found")

// Store persists videos and the per-author work counters.
type Store interface {
	// CreateVideo inserts v and sets v.ID.
	CreateVideo(ctx context.Context, v *Video) error
	// DeleteVideo removes a video, taking it out of its author's work count if it was ready,
	// so a publish that could not be enqueued leaves nothing behind. A missing video is not an error.
	DeleteVideo(ctx context.Context, id int64) error
	// MarkReady moves a processing video to ready with its media keys and counts it for its
	// author, in one transaction. A video that is no longer processing is left unchanged, so a
	// redelivered completion never counts twice. It returns the video when this call made it
	// ready, nil when it was no longer processing. Unknown ids give ErrVideoNotFound.
	MarkReady(ctx context.Context, id int64, playKey, coverKey string, renditions []Rendition) (*Video, error)
	// MarkFailed moves a processing video to failed with the reason; other states are left
	// unchanged. Unknown ids give ErrVideoNotFound.
	MarkFailed(ctx context.Context, id int64, reason string) error
	// ListFeed returns up to limit ready videos created strictly before beforeMillis, newest first.
	ListFeed(ctx context.Context, beforeMillis int64, limit int) ([]Video, error)
	// ListFeedEntries is ListFeed's ids and times only: an index-only read, the records come
	// from the record cache.
	ListFeedEntries(ctx context.Context, beforeMillis int64, limit int) ([]TimelineEntry, error)
	// ListFeedEntriesByAuthors is ListFeedEntries restricted to videos of authorIDs created at
	// or after sinceMillis (0: no lower bound): one index-only query on (author_id, status,
	// created_at) whatever the number of authors, reading the authors' entries in the window.
	ListFeedEntriesByAuthors(ctx context.Context, authorIDs []int64, sinceMillis, beforeMillis int64, limit int) ([]TimelineEntry, error)
	// ListIDsByAuthor returns the ids of up to limit ready videos of the author, newest first
	// (index-only: the records come from the record cache).
	ListIDsByAuthor(ctx context.Context, authorID int64, limit int) ([]int64, error)
	// ListUnreadyByAuthor returns up to limit processing and failed videos of the author,
	// newest first: only the author sees them.
	ListUnreadyByAuthor(ctx context.Context, authorID int64, limit int) ([]Video, error)
	// MGetReady returns the ready videos among ids, in no particular order.
	MGetReady(ctx context.Context, ids []int64) ([]Video, error)
	// MGetWorkCounts returns the stored work counts of the users that have one.
	MGetWorkCounts(ctx context.Context, userIDs []int64) (map[int64]int64, error)
	// ListStuck returns up to limit processing videos last enqueued before beforeMillis,
	// oldest enqueue first.
	ListStuck(ctx context.Context, beforeMillis int64, limit int) ([]Video, error)
	// MarkRequeued records one more enqueue of a processing video at nowMillis. It reports
	// false when the video is no longer processing (it finished meanwhile).
	MarkRequeued(ctx context.Context, id, nowMillis int64) (bool, error)
}

// Video is a published video. The feed reads (status, created_at) and publish lists read
// (author_id, status, created_at), each from its own index.
type Video struct {
	ID        int64  `gorm:"primaryKey"`
	AuthorID  int64  `gorm:"not null;index:idx_videos_author_status_created,priority:1"`
	Title     string `gorm:"size:400;not null"`
	SourceKey string `gorm:"size:255;not null"`
	PlayKey   string `gorm:"size:255;not null;default:''"`
	CoverKey  string `gorm:"size:255;not null;default:''"`
	// Renditions are the encodings of a ready video, largest first, as JSON (empty for
	// videos processed before renditions existed: PlayKey is their only one).
	Renditions    []Rendition `gorm:"serializer:json;size:2048;not null;default:''"`
	Status        int8        `gorm:"not null;index:idx_videos_status_created,priority:1;index:idx_videos_author_status_created,priority:2"`
	FailureReason string      `gorm:"size:255;not null;default:''"`
	// EnqueuedAt (Unix milliseconds) is when the video was last handed to the media worker and
	// Requeues how often the sweeper did that again: a video stuck in processing is retried
	// after a while, and one that keeps getting stuck is eventually marked failed.
	EnqueuedAt int64 `gorm:"not null;default:0"`
	Requeues   int32 `gorm:"not null;default:0"`
	// CreatedAt is Unix milliseconds, set by the service (GORM's own timestamps are seconds).
	CreatedAt int64 `gorm:"not null;autoCreateTime:false;index:idx_videos_status_created,priority:2;index:idx_videos_author_status_created,priority:3"`
}

// TableName names the table.
func (Video) TableName() string { return "videos" }

// Rendition is one stored encoding of a video; short JSON names keep the column and the
// cached records small.
type Rendition struct {
	Height int32  `json:"h"`
	Width  int32  `json:"w"`
	Key    string `json:"k"`
}

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
