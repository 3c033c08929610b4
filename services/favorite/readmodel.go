package favorite

import (
	"context"
	"errors"
)

// ReadModel is the fast view of likes that answers reads and takes a like before SQL has it
// (design §5): each user's liked set and the counters. SQL stays the durable truth: every
// piece of the read model is loaded from SQL on a miss, so an empty read model (a restart, a
// FLUSHALL) costs speed, never correctness.
//
// Consistency. A like takes a seq from the read model (Reserve), its event is published with
// that seq, and only then is the step applied to the read model (Apply); the consumer commits
// it to SQL later. So the read model never holds a step whose event is not queued: a process
// killed between the two leaves a queued event that the consumer's Settle brings into the read
// model, never a step that SQL will not get (which, applied first, would stay visible until
// the set expired). Set membership decides idempotence: a step changes the counters only when
// it changed the user's set, so a like applied twice (the request, then the consumer after the
// commit) counts once, and a read model reloaded from SQL before the commit (which lacks the
// like) gets it when the consumer settles the pair. A step older than one the pair already
// took, or than a settled commit, is stale and changes nothing: concurrent actions on one pair
// may reach Apply out of seq order, and SQL keeps the newest seq. Counters are never created
// from a delta, only loaded from SQL, so a counter that is cached is always SQL plus the steps
// applied since it was loaded.
//
// Pending deltas. Each (user, video) pair whose set state differs from SQL has a pending
// delta, set state minus SQL state (+1: a like SQL lacks, -1: an unlike): a step that changes
// the set moves it, and every commit of the pair's events sets it again to what it is by
// definition (Settle gets the pair's committed state), so a redelivered event or a Settle lost
// to a crash is made good by the pair's next commit. A counter loaded from SQL is SQL plus the
// pending deltas of its video or user, so it includes the likes still in the queue: counts
// agree with the lists and flags (which come from the sets) however far the consumer has got,
// on every instance.
//
// Commits under way. Between a batch's SQL commit and its Settle, an SQL read holds the
// batch's likes while their pending deltas still do: the consumer marks the counters a batch
// touches before its transaction (Committing), each Settle ends its change's mark, and no
// counter is filled while it is marked; its reader tries again a few milliseconds later.
//
// (A fill whose SQL read came before a commit and which lands after its Settle is refused by
// the epochs.)
//
// What remains: a mark that no Settle ends (the consumer died mid-commit, or Redis failed it)
// holds the fills of its counters back until its TTL (2 s); meanwhile readers are served
// SQL's counters, uncached, which lack the likes still in the queue. A flush (or the TTL of an idle set and its deltas) loses what is pending, so
// counters read SQL alone until the queued events are committed. Every action renews its
// set's and deltas' lifetime, and counters live only cache.counter-ttl (with jitter) before
// they are reloaded from SQL, which is what bounds the error in time.
type ReadModel interface {
	// Reserve hands out the seq of a step of userID: strictly increasing across all steps,
	// in nanoseconds (from the read model's clock, pushed past the last seq handed out). It
	// returns ErrNotLoaded, handing out nothing, when the user's set is not cached.
	Reserve(ctx context.Context, userID int64) (seq int64, err error)
	// Apply sets whether c.UserID likes c.VideoID as of the reserved seq and, only if that
	// changed the user's set, moves the cached counters of the video, the user and the author,
	// in one atomic step. A seq not newer than the pair's last step or settled commit changes
	// nothing. It returns ErrNotLoaded, changing nothing, when the user's set is not cached.
	Apply(ctx context.Context, c Change, seq int64) (Applied, error)
	// FillLiked caches the user's liked set as read from SQL, unless a set is cached already
	// (it would be newer than the SQL read).
	FillLiked(ctx context.Context, userID int64, videoIDs []int64) error
	// Liked returns the user's cached liked set with the seqs of the steps that changed it;
	// loaded is false when no set is cached.
	Liked(ctx context.Context, userID int64) (set LikedSet, loaded bool, err error)
	// VideoFavorites reads the cached counts of videoIDs, for a viewer (> 0) which of them
	// the viewer likes, and what UserStats reads of userIDs, in one round trip.
	VideoFavorites(ctx context.Context, viewerID int64, videoIDs, userIDs []int64) (CachedVideoFavorites, error)
	// LikedAmong sets liked[i] (len(videoIDs) of them) to whether viewerID likes videoIDs[i],
	// reading no counter; loaded is false, liked untouched, when the viewer's set is not cached.
	LikedAmong(ctx context.Context, viewerID int64, videoIDs []int64, liked []bool) (loaded bool, err error)
	// FillVideoCounts caches counts read from SQL plus their pending deltas, keeping any count
	// already cached, and returns the counts now cached. epochs are the videos' epochs read
	// before the SQL read: a video whose epoch moved since (a commit settled in between, so
	// the SQL read may be older than its pending deltas) is neither cached nor returned; the
	// caller reads it again.
	FillVideoCounts(ctx context.Context, counts, epochs map[int64]int64) (map[int64]int64, error)
	// UserStats reads the cached counters of userIDs in one round trip, and the epochs of
	// the missing ones.
	UserStats(ctx context.Context, userIDs []int64) (CachedUserStats, error)
	// FillUserStats is FillVideoCounts for users' counters.
	FillUserStats(ctx context.Context, stats map[int64]UserCount, epochs map[int64]int64) (map[int64]UserCount, error)
	// Committing marks the video and the users each of changes touches as being committed,
	// before the SQL transaction: until the change's Settle (or Release, or a short TTL when
	// neither comes), no counter they touch is filled. Between a commit and its Settle an SQL
	// read may hold the commit while the pending deltas still hold it too: such a fill would
	// count the change twice.
	Committing(ctx context.Context, changes []Change) error
	// Release ends the marks of changes whose commit failed (their events are redelivered).
	Release(ctx context.Context, changes []Change) error
	// Settle runs after an event of c's pair was handled by SQL (applied, or found stale or
	// already applied), with the pair's committed state: it sets the user's cached membership
	// to it (if the set is cached and took no newer step on the pair), sets the pair's pending
	// delta, drops the counters SQL or the delta moved, so their next read loads the
	// committed values, and ends c's Committing mark, in one atomic step.
	Settle(ctx context.Context, c Change, committed Committed) error
	// Forget drops everything c touches, pending deltas included, so the next reads load it
	// from SQL.
	Forget(ctx context.Context, c Change) error
}

// LikedSet is a user's cached liked set.
type LikedSet struct {
	Videos []int64
	// LastStep holds, for videos whose membership a step changed while the set was cached,
	// that step's seq (microseconds, strictly increasing): the order of the user's latest
	// actions, which SQL may not have yet.
	LastStep map[int64]int64
}

// ErrNotLoaded is returned by ReadModel.Reserve and Apply when the user's liked set is not
// cached.
var ErrNotLoaded = errors.New("liked set not cached")

// Change is one user's like (Liked) or unlike of one video by its author.
type Change struct {
	UserID, VideoID, AuthorID int64
	Liked                     bool
}

func (c Change) inverse() Change { c.Liked = !c.Liked; return c }

// Applied is the outcome of ReadModel.Apply.
type Applied struct {
	// Changed reports whether the user's set changed (and with it the cached counters).
	Changed bool
}

// CachedVideoFavorites is what the read model holds for a batch of videos.
type CachedVideoFavorites struct {
	Counts map[int64]int64
	// MissingCounts are the requested videos whose count is not cached; Epochs holds their
	// epochs (absent: zero), for FillVideoCounts.
	MissingCounts []int64
	Epochs        map[int64]int64
	// Liked holds the requested videos the viewer likes; valid only when LikedLoaded.
	Liked       map[int64]bool
	LikedLoaded bool
	// Users is what UserStats reads of the requested users.
	Users CachedUserStats
}

// CachedUserStats is what the read model holds for a batch of users: the cached counters
// (Found), the users whose counters are not (Missing) and their epochs (absent: zero), for
// FillUserStats.
type CachedUserStats struct {
	Found   map[int64]UserCount
	Missing []int64
	Epochs  map[int64]int64
}
