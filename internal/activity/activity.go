// Package activity is the event stream the recommender learns from, besides the like events
// of the favorite service: videos becoming ready, comments and follows. The owning services
// publish these after their write committed; the events are hints (the recommender rebuilds
// from SQL when its state is empty), so a failed publish is logged, never a failed request.
// The event type and its kinds are defined in idl/event.thrift (kitex_gen/event).
package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// Publisher sends events; a nil *Publisher sends nothing (services built without the stream).
type Publisher struct {
	queue mq.Producer
}

// NewPublisher returns a Publisher on queue.
func NewPublisher(queue mq.Producer) *Publisher { return &Publisher{queue: queue} }

// Publish sends e, keyed by the video or, for follows, the follower.
func (p *Publisher) Publish(ctx context.Context, e *event.ActivityEvent) error {
	if p == nil || p.queue == nil {
		return nil
	}
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", e.Kind, err)
	}
	key := e.VideoId
	if key == 0 {
		key = e.UserId
	}
	if err := p.queue.Publish(ctx, mq.TopicActivity, strconv.FormatInt(key, 10), body); err != nil {
		return fmt.Errorf("publish %s event: %w", e.Kind, err)
	}
	return nil
}

// Notify publishes e and logs a failure instead of returning it: the write it reports has
// committed, and the recommender catches up from SQL when rebuilt.
func (p *Publisher) Notify(ctx context.Context, log *slog.Logger, e *event.ActivityEvent) {
	if err := p.Publish(context.WithoutCancel(ctx), e); err != nil {
		log.WarnContext(ctx, "activity event not published", "kind", e.Kind, "err", err)
	}
}
