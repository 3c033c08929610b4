package favorite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
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
// What remains: a counter whose SQL read happened before a commit and whose fill landed after
// that commit's Settle misses the change (a window of one SQL read), until its TTL or the next
// commit on it. A flush (or the TTL of an idle set and its deltas) loses what is pending, so
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
	// VideoFavorites reads the cached counts of videoIDs and, for a viewer (> 0), which of
	// them the viewer likes, in one round trip.
	VideoFavorites(ctx context.Context, viewerID int64, videoIDs []int64) (CachedVideoFavorites, error)
	// FillVideoCounts caches counts read from SQL plus their pending deltas, keeping any count
	// already cached, and returns the counts now cached. epochs are the videos' epochs read
	// before the SQL read: a video whose epoch moved since (a commit settled in between, so
	// the SQL read may be older than its pending deltas) is neither cached nor returned; the
	// caller reads it again.
	FillVideoCounts(ctx context.Context, counts, epochs map[int64]int64) (map[int64]int64, error)
	// UserStats reads the cached counters of userIDs in one round trip, and the epochs of
	// the missing ones.
	UserStats(ctx context.Context, userIDs []int64) (found map[int64]UserCount, missing []int64, epochs map[int64]int64, err error)
	// FillUserStats is FillVideoCounts for users' counters.
	FillUserStats(ctx context.Context, stats map[int64]UserCount, epochs map[int64]int64) (map[int64]UserCount, error)
	// Settle runs after an event of c's pair was handled by SQL (applied, or found stale or
	// already applied), with the pair's committed state: it sets the user's cached membership
	// to it (if the set is cached and took no newer step on the pair), sets the pair's pending
	// delta, and drops the counters SQL or the delta moved, so their next read loads the
	// committed values, in one atomic step.
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
}

// Option configures the service.
type Option func(*Service)

// WithReadModel serves likes from rm (Redis, or MemoryReadModel in the embedded mode).
// Without it every read goes to SQL and every action is published as is.
func WithReadModel(rm ReadModel) Option {
	return func(s *Service) { s.readModel = rm }
}

// WithLogger sets where degraded read-model operations are reported (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// act applies a like or unlike: it reserves the step's seq in the read model (if any),
// publishes the event, and only then applies the step to the read model, before the answer
// (read-your-writes). The seq comes from the read model, not this instance's clock, so SQL
// applies one pair's steps in the order the read model took them whichever instance took
// them. Every action is published, even one that will change nothing in the read model: it
// may repeat a request whose event never reached the queue, and then this event is the only
// way the like reaches SQL. The consumer's seq and state checks make repeats no-ops, so
// liking twice still counts once.
//
// The order is what keeps a process killed mid-request harmless: before the publish nothing
// has changed anywhere; after it the event is durable and the consumer's Settle brings the
// read model in line, whether or not this process lived to apply the step. A failed publish
// leaves nothing to undo, so a refused request leaves no trace, and an acknowledged like is
// never lost.
func (s *Service) act(ctx context.Context, c Change) error {
	now := time.Now()
	if s.readModel == nil {
		return s.publish(ctx, c, s.nextSeq(now), now)
	}
	seq, err := s.reserveLoaded(ctx, c.UserID)
	var storeErr *loadError
	switch {
	case errors.As(err, &storeErr):
		return storeErr.err
	case err != nil:
		// The read model is down: the queue alone still makes the like durable, and the
		// consumer's Settle puts it into the read model once that answers again.
		s.log.WarnContext(ctx, "favorite read model unavailable; publishing without it", "err", err)
		return s.publish(ctx, c, s.nextSeq(now), now)
	}
	if err := s.publish(ctx, c, seq, now); err != nil {
		return err
	}
	// Queued: the like stands whatever happens next. Not the request's context: a request
	// cancelled now must still leave the read model showing what it queued.
	ctx = context.WithoutCancel(ctx)
	if err := s.applyLoaded(ctx, c, seq); err != nil {
		// The step may have landed with only its reply lost: drop what it could touch, so
		// reads load SQL plus the pending deltas until the consumer settles the pair.
		s.log.WarnContext(ctx, "favorite read model did not take a queued like; dropping its keys", "err", err)
		if ferr := s.readModel.Forget(ctx, c); ferr != nil {
			s.log.WarnContext(ctx, "favorite read model keys not dropped; they expire with their TTL", "err", ferr)
		}
	}
	return nil
}

// loadError is a SQL failure while loading the user's set: unlike a cache failure it fails
// the request.
type loadError struct{ err error }

func (e *loadError) Error() string { return e.err.Error() }
func (e *loadError) Unwrap() error { return e.err }

// loadAttempts bounds the loads of a user's set that keeps being evicted (memory pressure).
const loadAttempts = 2

// reserveLoaded runs Reserve, loading the user's liked set from SQL (one query) when it is
// not cached.
func (s *Service) reserveLoaded(ctx context.Context, userID int64) (int64, error) {
	for range loadAttempts {
		seq, err := s.readModel.Reserve(ctx, userID)
		if !errors.Is(err, ErrNotLoaded) {
			return seq, err
		}
		if err := s.loadLiked(ctx, userID); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("liked set of user %d evicted while loading", userID)
}

// applyLoaded runs Apply, loading the user's liked set from SQL when it was evicted since
// the seq was reserved.
func (s *Service) applyLoaded(ctx context.Context, c Change, seq int64) error {
	for range loadAttempts {
		_, err := s.readModel.Apply(ctx, c, seq)
		if !errors.Is(err, ErrNotLoaded) {
			return err
		}
		if err := s.loadLiked(ctx, c.UserID); err != nil {
			return err
		}
	}
	return fmt.Errorf("liked set of user %d evicted while loading", c.UserID)
}

// loadLiked caches the user's liked set as SQL has it; a SQL failure is a loadError.
func (s *Service) loadLiked(ctx context.Context, userID int64) error {
	liked, err := s.store.LikedVideoIDs(ctx, userID)
	if err != nil {
		return &loadError{err}
	}
	return s.readModel.FillLiked(ctx, userID, liked)
}

// syncCommitted runs after the consumer handled an event, whatever SQL did with it: the read
// model takes the pair's committed state (see Settle and the pending deltas on ReadModel).
// Running it for stale and redelivered events too is what repairs a Settle that a crash
// between the commit and it prevented.
func (s *Service) syncCommitted(ctx context.Context, c Change, committed Committed) {
	if err := s.readModel.Settle(ctx, c, committed); err != nil {
		s.log.WarnContext(ctx, "favorite read model update after commit failed; dropping its keys", "err", err)
		if err := s.readModel.Forget(ctx, c); err != nil {
			s.log.WarnContext(ctx, "favorite read model keys not dropped; they expire with their TTL", "err", err)
		}
	}
}

// maxFillAttempts bounds the reads of a counter whose fills keep meeting commits.
const maxFillAttempts = 3

// cachedVideoFavorites answers MGetVideoFavorites from the read model, loading what it lacks
// from SQL (one query for the counts, one for the viewer's set). served is false when the read
// model failed and the caller should answer from SQL alone.
func (s *Service) cachedVideoFavorites(ctx context.Context, viewerID int64, videoIDs []int64) (resp *favoriteapi.MGetVideoFavoritesResponse, served bool, err error) {
	view, err := s.readModel.VideoFavorites(ctx, viewerID, videoIDs)
	if err != nil {
		s.log.WarnContext(ctx, "favorite read model read failed; reading SQL", "err", err)
		return nil, false, nil
	}
	counts, first := view.Counts, view
	for attempt := 1; len(view.MissingCounts) > 0; attempt++ {
		stored, err := s.store.MGetVideoCounts(ctx, view.MissingCounts)
		if err != nil {
			return nil, true, err
		}
		fill := make(map[int64]int64, len(view.MissingCounts))
		for _, id := range view.MissingCounts {
			fill[id] = stored[id] // no row: zero, cached too so it is not asked again
		}
		filled, err := s.readModel.FillVideoCounts(ctx, fill, view.Epochs)
		if err != nil {
			s.log.WarnContext(ctx, "favorite count fill failed; serving SQL's counts", "err", err)
			filled = fill
		}
		for id, n := range filled {
			counts[id] = n
		}
		var again []int64
		for _, id := range view.MissingCounts {
			if _, ok := filled[id]; !ok {
				again = append(again, id)
			}
		}
		if len(again) == 0 {
			break
		}
		if attempt == maxFillAttempts {
			for _, id := range again {
				counts[id] = fill[id] // commits keep landing: SQL's count, uncached
			}
			break
		}
		// A commit settled between the read and the fill: read those again.
		if view, err = s.readModel.VideoFavorites(ctx, 0, again); err != nil {
			s.log.WarnContext(ctx, "favorite read model read failed; serving SQL's counts", "err", err)
			for _, id := range again {
				counts[id] = fill[id]
			}
			break
		}
		for id, n := range view.Counts {
			counts[id] = n
		}
	}
	liked, err := s.likedFlags(ctx, viewerID, first)
	if err != nil {
		return nil, true, err
	}
	out := make(map[int64]*favoriteapi.VideoFavoriteInfo, len(videoIDs))
	for _, id := range videoIDs {
		out[id] = &favoriteapi.VideoFavoriteInfo{FavoriteCount: counts[id], IsFavorite: liked[id]}
	}
	return &favoriteapi.MGetVideoFavoritesResponse{Videos: out}, true, nil
}

// likedFlags are the viewer's likes among the videos of view: from view when its set was
// cached, else from SQL (one query), caching the set.
func (s *Service) likedFlags(ctx context.Context, viewerID int64, view CachedVideoFavorites) (map[int64]bool, error) {
	if viewerID <= 0 {
		return nil, nil
	}
	if view.LikedLoaded {
		return view.Liked, nil
	}
	all, err := s.store.LikedVideoIDs(ctx, viewerID)
	if err != nil {
		return nil, err
	}
	if err := s.readModel.FillLiked(ctx, viewerID, all); err != nil {
		s.log.WarnContext(ctx, "liked set fill failed", "err", err)
	}
	liked := make(map[int64]bool, len(all))
	for _, id := range all {
		liked[id] = true
	}
	return liked, nil
}

// cachedUserStats returns the counters of userIDs from the read model, the misses loaded
// from SQL in one query. served is false when the read model failed.
func (s *Service) cachedUserStats(ctx context.Context, userIDs []int64) (counts map[int64]UserCount, served bool, err error) {
	found, missing, epochs, err := s.readModel.UserStats(ctx, userIDs)
	if err != nil {
		s.log.WarnContext(ctx, "favorite read model read failed; reading SQL", "err", err)
		return nil, false, nil
	}
	for attempt := 1; len(missing) > 0; attempt++ {
		stored, err := s.store.MGetUserCounts(ctx, missing)
		if err != nil {
			return nil, true, err
		}
		fill := make(map[int64]UserCount, len(missing))
		for _, id := range missing {
			c := stored[id]
			c.UserID = id
			fill[id] = c
		}
		filled, err := s.readModel.FillUserStats(ctx, fill, epochs)
		if err != nil {
			s.log.WarnContext(ctx, "favorite stats fill failed; serving SQL's counters", "err", err)
			filled = fill
		}
		for id, c := range filled {
			found[id] = c
		}
		var again []int64
		for _, id := range missing {
			if _, ok := filled[id]; !ok {
				again = append(again, id)
			}
		}
		if len(again) == 0 {
			break
		}
		if attempt == maxFillAttempts {
			for _, id := range again {
				found[id] = fill[id]
			}
			break
		}
		var more map[int64]UserCount
		if more, missing, epochs, err = s.readModel.UserStats(ctx, again); err != nil {
			s.log.WarnContext(ctx, "favorite read model read failed; serving SQL's counters", "err", err)
			for _, id := range again {
				found[id] = fill[id]
			}
			break
		}
		for id, c := range more {
			found[id] = c
		}
	}
	return found, true, nil
}

// boolCount is 1 for true: a pair's share of a count.
func boolCount(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
