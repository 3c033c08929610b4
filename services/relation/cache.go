package relation

import (
	"context"
)

// Cache keeps the relation counters and each user's following set in front of SQL, loaded
// on demand. Follows are written to SQL synchronously; after a commit that changed a follow,
// the service applies the same change to the cache in one atomic step, and if that fails it
// drops the keys so the next read reloads them. An empty cache costs speed, never correctness.
//
// What remains: a read that loads a counter or set from SQL just before a commit and stores it
// just after, or two opposite actions of one user on one target whose post-commit steps run in
// the reverse order of their commits, leave a cached value off until it expires; counters live
// only cache.counter-ttl and sets cache.ttl (both with jitter), which bounds that.
type Cache interface {
	// ApplyFollow moves the cached state after a committed follow (follow=true) or unfollow
	// that changed SQL: the follower's set if it is cached and, if that changed or the set is
	// not cached, the two cached counters. Counters that are not cached stay so.
	ApplyFollow(ctx context.Context, followerID, followeeID int64, follow bool) error
	// Forget drops what a follow between the two users touches.
	Forget(ctx context.Context, followerID, followeeID int64) error
	// Relations reads the cached counters of userIDs and, for a viewer (> 0), which of them
	// the viewer follows, in one round trip.
	Relations(ctx context.Context, viewerID int64, userIDs []int64) (CachedRelations, error)
	// FollowingAmong sets following[i] (len(userIDs) of them) to whether viewerID follows
	// userIDs[i], reading no counter; loaded is false, following untouched, when the viewer's
	// set is not cached.
	FollowingAmong(ctx context.Context, viewerID int64, userIDs []int64, following []bool) (loaded bool, err error)
	// FillCounts caches counters read from SQL, keeping any already cached.
	FillCounts(ctx context.Context, counts map[int64]Counts) error
	// FillFollowing caches the user's following set read from SQL, unless one is cached.
	FillFollowing(ctx context.Context, userID int64, followeeIDs []int64) error
}

// CachedRelations is what the cache holds for a batch of users.
type CachedRelations struct {
	Counts        map[int64]Counts
	MissingCounts []int64
	// Following holds the requested users the viewer follows; valid only when FollowingLoaded.
	Following       map[int64]bool
	FollowingLoaded bool
}
