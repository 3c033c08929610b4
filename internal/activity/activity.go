// Package activity is the event stream the recommender learns from, besides the like events
// of the favorite service: videos becoming ready, comments and follows. The owning services
// publish these after their write committed; the events are hints (the recommender rebuilds
// from SQL when its state is empty), so a failed publish is logged, never a failed request.
package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/douyin-backend/douyin/internal/mq"
)

// Kind names what happened.
type Kind string

// The kinds of events on mq.TopicActivity.
const (
	VideoReady     Kind = "video_ready"
	CommentAdded   Kind = "comment_added"
	CommentDeleted Kind = "comment_deleted"
	Followed       Kind = "followed"
	Unfollowed     Kind = "unfollowed"
)

// Event is one message on mq.TopicActivity. Which ids are set depends on the kind: a ready
// video has VideoID and AuthorID; a comment UserID, VideoID and CommentID; a follow UserID
// (the follower) and AuthorID (the followee).
type Event struct {
	Kind      Kind  `json:"kind"`
	UserID    int64 `json:"user_id,omitempty"`
	VideoID   int64 `json:"video_id,omitempty"`
	AuthorID  int64 `json:"author_id,omitempty"`
	CommentID int64 `json:"comment_id,omitempty"`
	// At is when it happened, in Unix milliseconds: it orders a follow and an unfollow of the
	// same pair, and dates a comment for the popularity decay (for a deleted comment: when it
	// was posted, so its exact weight is taken back); a ready video's publish time.
	At int64 `json:"at"`
}

// Publisher sends events; a nil *Publisher sends nothing (services built without the stream).
type Publisher struct {
	queue mq.Producer
}

// NewPublisher returns a Publisher on queue.
func NewPublisher(queue mq.Producer) *Publisher { return &Publisher{queue: queue} }

// Publish sends e, keyed by the video or, for follows, the follower.
func (p *Publisher) Publish(ctx context.Context, e Event) error {
	if p == nil || p.queue == nil {
		return nil
	}
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", e.Kind, err)
	}
	key := e.VideoID
	if key == 0 {
		key = e.UserID
	}
	if err := p.queue.Publish(ctx, mq.TopicActivity, strconv.FormatInt(key, 10), body); err != nil {
		return fmt.Errorf("publish %s event: %w", e.Kind, err)
	}
	return nil
}

// Notify publishes e and logs a failure instead of returning it: the write it reports has
// committed, and the recommender catches up from SQL when rebuilt.
func (p *Publisher) Notify(ctx context.Context, log *slog.Logger, e Event) {
	if err := p.Publish(context.WithoutCancel(ctx), e); err != nil {
		log.WarnContext(ctx, "activity event not published", "kind", e.Kind, "err", err)
	}
}
