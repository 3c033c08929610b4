package favorite

import (
	"context"

	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// Store keeps the durable like records and their counters.
type Store interface {
	// ApplyLike applies one like event in one transaction, in order per (user, video): an
	// event not newer than the stored one changes nothing, and counters move only when the
	// liked state flips. It reports whether the liked state flipped, and the pair's state.
	ApplyLike(ctx context.Context, e event.LikeEvent) (Committed, error)
	// ApplyLikes applies events as ApplyLike does, in order, all in one transaction (group
	// commit); when that transaction fails, each event is applied on its own, so one event's
	// failure stays its own. It returns one result and one error per event.
	ApplyLikes(ctx context.Context, events []event.LikeEvent) ([]Committed, []error)
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

// Committed is the outcome of one like event in SQL.
type Committed struct {
	// Flipped reports whether this event flipped the pair's liked state.
	Flipped bool
	// Liked and Seq are the pair's stored state once the event's transaction committed,
	// whatever the event did (a stale or redelivered event changes nothing): SQL holds the
	// pair's every step up to Seq.
	Liked bool
	Seq   int64
}

// UserCount holds a user's like counters.
type UserCount struct {
	UserID int64 `gorm:"primaryKey;autoIncrement:false"`
	// FavoriteCount is how many videos the user likes.
	FavoriteCount int64 `gorm:"not null;default:0"`
	// TotalFavorited is how many likes the user's own videos received.
	TotalFavorited int64 `gorm:"not null;default:0"`
}
