package favorite

import (
	"context"
	"encoding/json"
	"fmt"

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
	var e event.LikeEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return fmt.Errorf("decode like event: %w", err)
	}
	if e.UserId <= 0 || e.VideoId <= 0 || e.AuthorId <= 0 || e.Seq <= 0 {
		return fmt.Errorf("malformed like event %s", body)
	}
	committed, err := s.likes.Do(ctx, e)
	if err != nil {
		return err
	}
	if s.readModel != nil {
		s.syncCommitted(ctx, Change{UserID: e.UserId, VideoID: e.VideoId, AuthorID: e.AuthorId, Liked: e.Liked}, committed)
	}
	return nil
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
