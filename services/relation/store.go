package relation

import (
	"context"
)

// Store persists follows and the counters derived from them.
type Store interface {
	// Follow records that followerID follows followeeID and bumps both counters, atomically;
	// it reports false and changes nothing when the follow already exists.
	Follow(ctx context.Context, followerID, followeeID int64) (bool, error)
	// Unfollow removes the follow and lowers both counters, atomically; it reports false and
	// changes nothing when there was no follow.
	Unfollow(ctx context.Context, followerID, followeeID int64) (bool, error)
	// FolloweeIDs returns up to limit ids userID follows, newest follow first.
	FolloweeIDs(ctx context.Context, userID int64, limit int) ([]int64, error)
	// FollowerIDs returns up to limit ids following userID, newest follow first.
	FollowerIDs(ctx context.Context, userID int64, limit int) ([]int64, error)
	// FriendIDs returns up to limit ids that userID follows and that follow userID back,
	// newest friendship (the later of the two follows) first.
	FriendIDs(ctx context.Context, userID int64, limit int) ([]int64, error)
	// Counts returns the counters of the users among userIDs that have a counter row.
	Counts(ctx context.Context, userIDs []int64) (map[int64]Counts, error)
	// FollowedAmong returns the ids among userIDs that followerID follows.
	FollowedAmong(ctx context.Context, followerID int64, userIDs []int64) (map[int64]bool, error)
	// FolloweeSet returns every id userID follows, in no order: what the cache keeps as the
	// user's following set.
	FolloweeSet(ctx context.Context, userID int64) ([]int64, error)
}

// Follow is a row of the follows table: FollowerID follows FolloweeID.
type Follow struct {
	ID int64 `gorm:"primaryKey;autoIncrement"`
	// The unique key makes following idempotent; the (follower_id, created_at) index serves
	// follow lists in order, the unique key alone would need a sort.
	FollowerID int64 `gorm:"not null;uniqueIndex:uk_follows_pair,priority:1;index:idx_follows_follower_created,priority:1"`
	FolloweeID int64 `gorm:"not null;uniqueIndex:uk_follows_pair,priority:2;index:idx_follows_followee_created,priority:1"`
	// CreatedAt is Unix milliseconds.
	CreatedAt int64 `gorm:"not null;autoCreateTime:milli;index:idx_follows_follower_created,priority:2;index:idx_follows_followee_created,priority:2"`
}

// Counts is a row of the relation_counts table, maintained in the transaction that changes
// follows so reads never count rows.
type Counts struct {
	UserID        int64 `gorm:"primaryKey;autoIncrement:false"`
	FollowCount   int64 `gorm:"not null;default:0"`
	FollowerCount int64 `gorm:"not null;default:0"`
}
