package video

import (
	"context"
	"errors"

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
	// OwnWorkCount returns what an author's own publish list counts: their ready videos plus
	// up to unreadyLimit processing and failed ones, read from one snapshot so a video turning
	// ready between the two reads is counted once, never zero times.
	OwnWorkCount(ctx context.Context, authorID int64, unreadyLimit int) (int64, error)
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

// Rendition is one stored encoding of a video; short JSON names keep the column and the
// cached records small.
type Rendition struct {
	Height int32  `json:"h"`
	Width  int32  `json:"w"`
	Key    string `json:"k"`
}
