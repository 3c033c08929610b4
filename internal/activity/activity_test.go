package activity

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/douyin-backend/douyin/internal/mq"
)

func TestPublishDeliversTheEvent(t *testing.T) {
	q := mq.NewMemory()
	var got []Event
	if err := q.Subscribe(mq.TopicActivity, "test", func(_ context.Context, body []byte) error {
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			return err
		}
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := Event{Kind: Followed, UserID: 3, AuthorID: 4, At: 99}
	if err := NewPublisher(q).Publish(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("delivered %+v, want [%+v]", got, want)
	}
	// A service built without the stream publishes nothing and does not fail.
	var none *Publisher
	if err := none.Publish(context.Background(), want); err != nil {
		t.Fatalf("nil publisher: %v", err)
	}
}

// TestNotifyLogsAFailure: the write the event reports has committed, so a failed publish is
// logged, not returned.
func TestNotifyLogsAFailure(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	// No consumer: the in-process queue refuses the message.
	NewPublisher(mq.NewMemory()).Notify(context.Background(), log, Event{Kind: VideoReady, VideoID: 7, AuthorID: 1, At: 5})
	if !strings.Contains(logged.String(), "activity event not published") || !strings.Contains(logged.String(), "video_ready") {
		t.Fatalf("log %q, want the failed publish reported with its kind", logged.String())
	}
}
