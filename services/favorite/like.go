package favorite

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/internal/likeevent"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// errLikesUnavailable refuses a like that could not be queued; nothing of it remains.
var errLikesUnavailable = errs.New(base.ErrCode_Unavailable, "likes are unavailable right now, please retry")

// FavoriteAction applies a like or unlike of an existing video to the read model and enqueues
// it. The request fails when the event cannot be published, so an acknowledged like is never
// lost.
func (s *Service) FavoriteAction(ctx context.Context, req *favoriteapi.FavoriteActionRequest) (*favoriteapi.FavoriteActionResponse, error) {
	if req.UserId <= 0 {
		return nil, errs.NotPositive("user_id")
	}
	if req.VideoId <= 0 {
		return nil, errs.NotPositive("video_id")
	}
	if req.ActionType != favoriteapi.FavoriteActionType_Like && req.ActionType != favoriteapi.FavoriteActionType_Unlike {
		return nil, errs.NotOneOf("action_type", favoriteapi.FavoriteActionType_Like, favoriteapi.FavoriteActionType_Unlike)
	}
	authorID, err := s.authorOf(ctx, req.VideoId)
	if err != nil {
		return nil, err
	}
	c := Change{UserID: req.UserId, VideoID: req.VideoId, AuthorID: authorID, Liked: req.ActionType == favoriteapi.FavoriteActionType_Like}
	if err := s.act(ctx, c); err != nil {
		return nil, err
	}
	return &favoriteapi.FavoriteActionResponse{}, nil
}

// videoAuthor is a ready video's author: it never changes, so it is remembered in process.
type videoAuthor struct{ VideoID, AuthorID int64 }

// maxRememberedAuthors bounds the remembered video authors (about 3 MB).
const maxRememberedAuthors = 100_000

// maxAuthorLookups bounds the videos of one lookup of authors.
const maxAuthorLookups = 128

// authorOf returns the author of a ready video, asking the video service only the first time,
// in one call with the other likes that miss at the same time; a video that does not exist or
// is not ready is VideoNotFound.
func (s *Service) authorOf(ctx context.Context, videoID int64) (int64, error) {
	if known, _, _ := s.authors.MGet(ctx, []int64{videoID}); len(known) == 1 {
		return known[videoID].AuthorID, nil
	}
	return s.authorLookups.Do(ctx, videoID)
}

// lookUpAuthors asks the video service for the authors of videoIDs (repeats allowed) in one
// call, and remembers them.
func (s *Service) lookUpAuthors(ctx context.Context, videoIDs []int64) ([]int64, []error) {
	authors := make([]int64, len(videoIDs))
	failed := make([]error, len(videoIDs))
	got, err := s.videos.MGetVideos(ctx, &videoapi.MGetVideosRequest{VideoIds: ids.Unique(videoIDs)})
	if err != nil {
		for i, id := range videoIDs {
			failed[i] = fmt.Errorf("look up video %d: %w", id, err)
		}
		return authors, failed
	}
	found := make([]videoAuthor, 0, len(got.Videos))
	for id, v := range got.Videos {
		found = append(found, videoAuthor{VideoID: id, AuthorID: v.AuthorId})
	}
	_ = s.authors.MSet(ctx, found)
	for i, id := range videoIDs {
		if v, ok := got.Videos[id]; ok {
			authors[i] = v.AuthorId
		} else {
			failed[i] = errs.New(base.ErrCode_VideoNotFound, "video not found")
		}
	}
	return authors, failed
}

// publish hands the change to the consumer that writes it to SQL.
func (s *Service) publish(ctx context.Context, c Change, seq int64, now time.Time) error {
	body, err := likeevent.Encode(event.LikeEvent{
		UserId:   c.UserID,
		VideoId:  c.VideoID,
		AuthorId: c.AuthorID,
		Liked:    c.Liked,
		Seq:      seq,
		At:       now.UnixMilli(),
	})
	if err != nil {
		return fmt.Errorf("encode like event: %w", err)
	}
	// Keyed by the pair (operators find a pair's events by it); the seq, not the queue or
	// the delivery order, orders a pair's events.
	key := strconv.FormatInt(c.UserID, 10) + ":" + strconv.FormatInt(c.VideoID, 10)
	if err := s.queue.Publish(ctx, mq.TopicFavorite, key, body); err != nil {
		// Nothing was applied: a clean refusal to repeat later. (The broker may have stored
		// the event all the same, its reply lost; then the consumer applies it, and the
		// repeat is a no-op.)
		return fmt.Errorf("publish like event: %w (%w)", errLikesUnavailable, err)
	}
	return nil
}

// nextSeq returns now in Unix nanoseconds, or one more than the last seq if the clock has
// not moved past it.
func (s *Service) nextSeq(now time.Time) int64 {
	for {
		last, seq := s.lastSeq.Load(), now.UnixNano()
		if seq <= last {
			seq = last + 1
		}
		if s.lastSeq.CompareAndSwap(last, seq) {
			return seq
		}
	}
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
