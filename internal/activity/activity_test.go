package activity

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

func TestPublishDeliversTheEvent(t *testing.T) {
	q := mq.NewMemory()
	var got []event.ActivityEvent
	if err := q.Subscribe(mq.TopicActivity, "test", func(_ context.Context, body []byte) error {
		var e event.ActivityEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return err
		}
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := event.ActivityEvent{Kind: event.ActivityFollowed, UserId: 3, AuthorId: 4, At: 99}
	if err := NewPublisher(q).Publish(context.Background(), &want); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("delivered %+v, want [%+v]", got, want)
	}
	// A service built without the stream publishes nothing and does not fail.
	var none *Publisher
	if err := none.Publish(context.Background(), &want); err != nil {
		t.Fatalf("nil publisher: %v", err)
	}
}

// TestNotifyLogsAFailure: the write the event reports has committed, so a failed publish is
// logged, not returned.
func TestNotifyLogsAFailure(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	// No consumer: the in-process queue refuses the message.
	NewPublisher(mq.NewMemory()).Notify(context.Background(), log, &event.ActivityEvent{Kind: event.ActivityVideoReady, VideoId: 7, AuthorId: 1, At: 5})
	if !strings.Contains(logged.String(), "activity event not published") || !strings.Contains(logged.String(), "video_ready") {
		t.Fatalf("log %q, want the failed publish reported with its kind", logged.String())
	}
}

// TestWireFormatIsStable: messages queued by the hand-written struct these events replaced
// (JSON, zero ids left out) are still read, and what is sent now carries the same names.
func TestWireFormatIsStable(t *testing.T) {
	var queued event.ActivityEvent
	if err := json.Unmarshal([]byte(`{"kind":"comment_added","user_id":2,"video_id":7,"comment_id":11,"at":1700000000000}`), &queued); err != nil {
		t.Fatal(err)
	}
	if want := (event.ActivityEvent{Kind: event.ActivityCommentAdded, UserId: 2, VideoId: 7, CommentId: 11, At: 1700000000000}); queued != want {
		t.Fatalf("decoded %+v, want %+v", queued, want)
	}
	body, err := json.Marshal(&event.ActivityEvent{Kind: event.ActivityFollowed, UserId: 3, AuthorId: 4, At: 99})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"followed","user_id":3,"video_id":0,"author_id":4,"comment_id":0,"at":99}`; string(body) != want {
		t.Fatalf("encoded %s, want %s", body, want)
	}
}
