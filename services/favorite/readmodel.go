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
// Consistency. A like is applied to the read model first and its event published; the
// consumer commits it to SQL later. Set membership decides idempotence: a step changes the
// counters only when it changed the user's set, so a like applied twice (the request, then the
// consumer after the commit) counts once, and a read model reloaded from SQL before the commit
// (which lacks the like) gets it when the consumer applies the step again. Counters are never
// created from a delta, only loaded from SQL, so a counter that is cached is always SQL plus
// the steps applied since it was loaded.
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
	// Apply sets whether c.UserID likes c.VideoID and, only if that changed the user's set,
	// moves the cached counters of the video, the user and the author, in one atomic step. It
	// returns ErrNotLoaded, changing nothing, when the user's set is not cached.
	Apply(ctx context.Context, c Change) (Applied, error)
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
	// already cached, and returns the counts now cached.
	FillVideoCounts(ctx context.Context, counts map[int64]int64) (map[int64]int64, error)
	// UserStats reads the cached counters of userIDs in one round trip.
	UserStats(ctx context.Context, userIDs []int64) (found map[int64]UserCount, missing []int64, err error)
	// FillUserStats caches counters read from SQL plus their pending deltas, keeping any
	// already cached, and returns the counters now cached.
	FillUserStats(ctx context.Context, stats map[int64]UserCount) (map[int64]UserCount, error)
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

// ErrNotLoaded is returned by ReadModel.Apply when the user's liked set is not cached.
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
	// Seq, when not zero, is the read model's order of this change, strictly increasing across
	// changes. The event carries it, so SQL applies one pair's changes in the order the read
	// model took them even when they came through different service instances.
	Seq int64
}

// CachedVideoFavorites is what the read model holds for a batch of videos.
type CachedVideoFavorites struct {
	Counts map[int64]int64
	// MissingCounts are the requested videos whose count is not cached.
	MissingCounts []int64
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

// act applies a like or unlike: to the read model first (if any), then to the queue. Every
// action is published, even one that changes nothing in the read model: it may be the retry of
// a request whose process died between its read-model step and its publish, and then this
// event is the only way the like reaches SQL. The consumer's seq and state checks make repeats
// no-ops, so liking twice still counts once. A publish failure undoes a step that changed
// the read model, so the failed request leaves no trace and an acknowledged like is never lost.
func (s *Service) act(ctx context.Context, c Change) error {
	now := time.Now()
	if s.readModel == nil {
		return s.publish(ctx, c, s.nextSeq(now), now)
	}
	applied, err := s.applyLoaded(ctx, c)
	var storeErr *loadError
	switch {
	case errors.As(err, &storeErr):
		return storeErr.err
	case err != nil:
		// The read model is down: the queue alone still makes the like durable, and the
		// consumer's step puts it into the read model once that answers again.
		s.log.WarnContext(ctx, "favorite read model unavailable; publishing without it", "err", err)
		if err := s.publish(ctx, c, s.nextSeq(now), now); err != nil {
			// The step may have landed with only its reply lost: drop what it could touch.
			if ferr := s.readModel.Forget(context.WithoutCancel(ctx), c); ferr != nil {
				s.log.WarnContext(ctx, "favorite read model keys not dropped; they expire with their TTL", "err", ferr)
			}
			return err
		}
		return nil
	}
	seq := applied.Seq
	if seq == 0 {
		seq = s.nextSeq(now)
	}
	if err := s.publish(ctx, c, seq, now); err != nil {
		if !applied.Changed {
			return err // nothing to undo: liked twice, or unliked what was not liked
		}
		// Not the request's context: a cancelled request must still undo its step.
		s.undo(context.WithoutCancel(ctx), c)
		return err
	}
	return nil
}

// loadError is a SQL failure while loading the user's set: unlike a cache failure it fails
// the request.
type loadError struct{ err error }

func (e *loadError) Error() string { return e.err.Error() }
func (e *loadError) Unwrap() error { return e.err }

// applyLoaded runs Apply, loading the user's liked set from SQL (one query) when it is not
// cached.
func (s *Service) applyLoaded(ctx context.Context, c Change) (Applied, error) {
	for range 2 {
		applied, err := s.readModel.Apply(ctx, c)
		if !errors.Is(err, ErrNotLoaded) {
			return applied, err
		}
		liked, err := s.store.LikedVideoIDs(ctx, c.UserID)
		if err != nil {
			return Applied{}, &loadError{err}
		}
		if err := s.readModel.FillLiked(ctx, c.UserID, liked); err != nil {
			return Applied{}, err
		}
	}
	// Evicted between the fill and the step twice: memory pressure; do not spin.
	return Applied{}, fmt.Errorf("liked set of user %d evicted while loading", c.UserID)
}

// undo rolls back a read-model step whose event could not be published. If even that fails,
// the touched keys are dropped so reads reload them from SQL, which never saw the like.
func (s *Service) undo(ctx context.Context, c Change) {
	_, err := s.readModel.Apply(ctx, c.inverse())
	if err == nil {
		return
	}
	s.log.WarnContext(ctx, "favorite read model rollback failed; dropping its keys", "err", err)
	if err := s.readModel.Forget(ctx, c); err != nil {
		s.log.ErrorContext(ctx, "favorite read model keeps an unpublished like until its keys expire",
			"user_id", c.UserID, "video_id", c.VideoID, "err", err)
	}
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

// cachedVideoFavorites answers MGetVideoFavorites from the read model, loading what it lacks
// from SQL (one query for the counts, one for the viewer's set). served is false when the read
// model failed and the caller should answer from SQL alone.
func (s *Service) cachedVideoFavorites(ctx context.Context, viewerID int64, videoIDs []int64) (resp *favoriteapi.MGetVideoFavoritesResponse, served bool, err error) {
	view, err := s.readModel.VideoFavorites(ctx, viewerID, videoIDs)
	if err != nil {
		s.log.WarnContext(ctx, "favorite read model read failed; reading SQL", "err", err)
		return nil, false, nil
	}
	counts := view.Counts
	if len(view.MissingCounts) > 0 {
		stored, err := s.store.MGetVideoCounts(ctx, view.MissingCounts)
		if err != nil {
			return nil, true, err
		}
		fill := make(map[int64]int64, len(view.MissingCounts))
		for _, id := range view.MissingCounts {
			fill[id] = stored[id] // no row: zero, cached too so it is not asked again
		}
		filled, err := s.readModel.FillVideoCounts(ctx, fill)
		if err != nil {
			s.log.WarnContext(ctx, "favorite count fill failed; serving SQL's counts", "err", err)
			filled = fill
		}
		for id, n := range filled {
			counts[id] = n
		}
	}
	liked := view.Liked
	if viewerID > 0 && !view.LikedLoaded {
		all, err := s.store.LikedVideoIDs(ctx, viewerID)
		if err != nil {
			return nil, true, err
		}
		if err := s.readModel.FillLiked(ctx, viewerID, all); err != nil {
			s.log.WarnContext(ctx, "liked set fill failed", "err", err)
		}
		liked = make(map[int64]bool, len(all))
		for _, id := range all {
			liked[id] = true
		}
	}
	out := make(map[int64]*favoriteapi.VideoFavoriteInfo, len(videoIDs))
	for _, id := range videoIDs {
		out[id] = &favoriteapi.VideoFavoriteInfo{FavoriteCount: counts[id], IsFavorite: liked[id]}
	}
	return &favoriteapi.MGetVideoFavoritesResponse{Videos: out}, true, nil
}

// cachedUserStats returns the counters of userIDs from the read model, the misses loaded
// from SQL in one query. served is false when the read model failed.
func (s *Service) cachedUserStats(ctx context.Context, userIDs []int64) (counts map[int64]UserCount, served bool, err error) {
	found, missing, err := s.readModel.UserStats(ctx, userIDs)
	if err != nil {
		s.log.WarnContext(ctx, "favorite read model read failed; reading SQL", "err", err)
		return nil, false, nil
	}
	if len(missing) == 0 {
		return found, true, nil
	}
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
	filled, err := s.readModel.FillUserStats(ctx, fill)
	if err != nil {
		s.log.WarnContext(ctx, "favorite stats fill failed; serving SQL's counters", "err", err)
		filled = fill
	}
	for id, c := range filled {
		found[id] = c
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
