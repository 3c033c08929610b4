package recommend

import (
	"context"
	"encoding/json"

	"github.com/douyin-backend/douyin/internal/likeevent"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// consumerGroup is the recommender's group on the like and activity topics: it sees every
// event beside the favorite service's own consumer. Replicas share the group (each event
// reaches one of them) and share the state the event is applied to.
const consumerGroup = "recommend"

// EventKind names what an Event changes.
type EventKind string

// The kinds of Event.
const (
	EventVideo   EventKind = "video"   // a ready video: Video, Author, At (its publish time)
	EventLike    EventKind = "like"    // a like (On) or unlike of Video by User, with the pair's Seq
	EventComment EventKind = "comment" // a comment (Comment) added (On) to or deleted from Video
	EventFollow  EventKind = "follow"  // User follows (On) or unfollows Author
)

// Event is one change to the model, from the queue or from the SQL rebuild. Applying an
// event twice, or an older one after a newer, changes nothing (likes by Seq, comments by id,
// follows by time, videos by id).
type Event struct {
	Kind    EventKind `json:"k"`
	User    int64     `json:"u,omitempty"`
	Video   int64     `json:"v,omitempty"`
	Author  int64     `json:"a,omitempty"`
	Comment int64     `json:"c,omitempty"`
	On      bool      `json:"on,omitempty"`
	Seq     int64     `json:"s,omitempty"`
	At      int64     `json:"t"`
}

// Apply applies e to the model.
func (m *Model) Apply(e Event) {
	switch e.Kind {
	case EventVideo:
		m.AddVideo(e.Video, e.Author, e.At)
	case EventLike:
		m.ApplyLike(e.User, e.Video, e.On, e.Seq, e.At)
	case EventComment:
		m.ApplyComment(e.Comment, e.Video, e.On, e.At)
	case EventFollow:
		m.ApplyFollow(e.User, e.Author, e.On, e.At)
	}
}

// Subscribe registers the consumers of like and activity events.
func (s *Service) Subscribe(c mq.Consumer) error {
	if err := c.Subscribe(mq.TopicFavorite, consumerGroup, s.handleLike); err != nil {
		return err
	}
	return c.Subscribe(mq.TopicActivity, consumerGroup, s.handleActivity)
}

// handleLike applies a like event; a malformed one is dropped (redelivering cannot fix it).
// An error of the state (Redis down) is returned, so the queue redelivers the event.
func (s *Service) handleLike(ctx context.Context, body []byte) error {
	e, err := likeevent.Decode(body)
	if err != nil || e.UserId <= 0 || e.VideoId <= 0 {
		s.log.WarnContext(ctx, "malformed like event dropped", "err", err)
		return nil
	}
	return s.state.Apply(ctx, Event{Kind: EventLike, User: e.UserId, Video: e.VideoId, On: e.Liked, Seq: e.Seq, At: e.At})
}

// handleActivity applies a ready video, comment or follow event.
func (s *Service) handleActivity(ctx context.Context, body []byte) error {
	var e event.ActivityEvent
	if err := json.Unmarshal(body, &e); err != nil {
		s.log.WarnContext(ctx, "malformed activity event dropped", "err", err)
		return nil
	}
	var ev Event
	switch e.Kind {
	case event.ActivityVideoReady:
		ev = Event{Kind: EventVideo, Video: e.VideoId, Author: e.AuthorId, At: e.At}
	case event.ActivityCommentAdded, event.ActivityCommentDeleted:
		ev = Event{Kind: EventComment, Comment: e.CommentId, Video: e.VideoId, On: e.Kind == event.ActivityCommentAdded, At: e.At}
	case event.ActivityFollowed, event.ActivityUnfollowed:
		ev = Event{Kind: EventFollow, User: e.UserId, Author: e.AuthorId, On: e.Kind == event.ActivityFollowed, At: e.At}
	default:
		s.log.WarnContext(ctx, "unknown activity event dropped", "kind", e.Kind)
		return nil
	}
	return s.state.Apply(ctx, ev)
}
