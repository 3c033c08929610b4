package favorite

import (
	"context"
	"fmt"

	"github.com/douyin-backend/douyin/internal/likeevent"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// consumerGroup is the group whose consumer writes likes to the database.
const consumerGroup = "favorite-store"

// maxLikeBatch bounds the like events written in one transaction.
const maxLikeBatch = 64

// Subscribe registers the consumer that applies like events to the store.
func (s *Service) Subscribe(c mq.Consumer) error {
	return c.Subscribe(mq.TopicFavorite, consumerGroup, s.handleLike)
}

// handleLike applies one event; an error asks the queue to redeliver it.
func (s *Service) handleLike(ctx context.Context, body []byte) error {
	e, err := likeevent.Decode(body)
	if err != nil {
		return fmt.Errorf("decode like event: %w", err)
	}
	if e.UserId <= 0 || e.VideoId <= 0 || e.AuthorId <= 0 || e.Seq <= 0 {
		return fmt.Errorf("malformed like event %s", body)
	}
	// The batch settles the read model too (applyLikes).
	_, err = s.likes.Do(ctx, e)
	return err
}

// Settlement is a consumed event's change and the pair's state once SQL handled it.
type Settlement struct {
	Change    Change
	Committed Committed
}

// manySettler is a read model settling a batch in one step: one round trip
// (RedisReadModel), one lock (MemoryReadModel).
type manySettler interface {
	SettleMany(ctx context.Context, settlements []Settlement) []error
}

// applyLikes writes a batch of consumed events to SQL in one transaction, then brings the
// read model in line with every event SQL handled (see syncCommitted), in one round trip when
// the read model can: a like's Settle was a Redis round trip of its own. The counters the
// batch touches are marked as committing first (see ReadModel.Committing).
func (s *Service) applyLikes(ctx context.Context, events []event.LikeEvent) ([]Committed, []error) {
	if s.readModel == nil {
		return s.store.ApplyLikes(ctx, events)
	}
	changes := make([]Change, len(events))
	for i, e := range events {
		changes[i] = Change{UserID: e.UserId, VideoID: e.VideoId, AuthorID: e.AuthorId, Liked: e.Liked}
	}
	if err := s.readModel.Committing(ctx, changes); err != nil {
		// Its Settles follow as usual; a fill racing this commit may count it twice until then.
		s.log.WarnContext(ctx, "favorite read model not marked before a commit", "err", err)
	}
	committed, errs := s.store.ApplyLikes(ctx, events)
	settlements := make([]Settlement, 0, len(events))
	var failed []Change
	for i, c := range changes {
		if errs[i] != nil {
			failed = append(failed, c)
			continue
		}
		settlements = append(settlements, Settlement{Change: c, Committed: committed[i]})
	}
	if err := s.readModel.Release(ctx, failed); err != nil {
		s.log.WarnContext(ctx, "favorite read model marks of failed likes not released; they expire", "err", err)
	}
	many, ok := s.readModel.(manySettler)
	if !ok || len(settlements) < 2 {
		for _, st := range settlements {
			s.syncCommitted(ctx, st.Change, st.Committed)
		}
		return committed, errs
	}
	for i, err := range many.SettleMany(ctx, settlements) {
		if err != nil {
			s.settleFailed(ctx, settlements[i].Change, err)
		}
	}
	return committed, errs
}

// syncCommitted runs after the consumer handled an event, whatever SQL did with it: the read
// model takes the pair's committed state (see Settle and the pending deltas on ReadModel).
// Running it for stale and redelivered events too is what repairs a Settle that a crash
// between the commit and it prevented.
func (s *Service) syncCommitted(ctx context.Context, c Change, committed Committed) {
	if err := s.readModel.Settle(ctx, c, committed); err != nil {
		s.settleFailed(ctx, c, err)
	}
}

// settleFailed drops what c touches from the read model after its Settle failed.
func (s *Service) settleFailed(ctx context.Context, c Change, err error) {
	s.log.WarnContext(ctx, "favorite read model update after commit failed; dropping its keys", "err", err)
	if err := s.readModel.Forget(ctx, c); err != nil {
		s.log.WarnContext(ctx, "favorite read model keys not dropped; they expire with their TTL", "err", err)
	}
}
