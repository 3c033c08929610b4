package media

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/internal/polltest"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

func TestSubscribeHandlesPublishEvents(t *testing.T) {
	f := newFixture(t, Config{})
	q := mq.NewMemory()
	if err := f.worker.Subscribe(q); err != nil {
		t.Fatal(err)
	}
	f.put(t, "uploads/b.mp4", []byte("x"))
	// The wire format as the video service has always sent it (JSON; messages already queued).
	body := []byte(`{"video_id":9,"source_key":"uploads/b.mp4"}`)
	if err := q.Publish(context.Background(), mq.TopicPublish, "9", body); err != nil {
		t.Fatal(err)
	}
	if call := f.videos.only(t); call.VideoId != 9 || call.Status != videoapi.VideoStatus_Ready {
		t.Fatalf("CompleteProcessing(%+v), want video 9 ready", call)
	}
	for _, bad := range []string{"{", `{"video_id":0,"source_key":"uploads/b.mp4"}`, `{"video_id":1,"source_key":"../x"}`} {
		if err := q.Publish(context.Background(), mq.TopicPublish, "1", []byte(bad)); err == nil {
			t.Errorf("malformed event %s accepted", bad)
		}
	}
}

// unreachableBlobs fails every read, like object storage timing out.
type unreachableBlobs struct{ blob.Store }

func (unreachableBlobs) Open(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("dial tcp: i/o timeout")
}

func TestStorageFailureIsRedelivered(t *testing.T) {
	f := newFixture(t, Config{})
	w := New(unreachableBlobs{f.blobs}, f.videos, Config{TempDir: f.tmp})
	if err := w.Process(context.Background(), event.PublishEvent{VideoId: 2, SourceKey: "uploads/a.mp4"}); err == nil {
		t.Fatal("Process succeeded with storage down; want an error so the event is redelivered")
	}
	if len(f.videos.calls) != 0 {
		t.Fatalf("a transient failure reported %+v to the video service", f.videos.calls[0])
	}
	f.assertNoTempFiles(t)
}

func TestQueuedWorkerProcessesInBackground(t *testing.T) {
	cfg := toolsConfig(t)
	f := newFixture(t, cfg)
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "seed", "assets", "testsrc.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, "uploads/q.mp4", data)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.worker.Run(ctx) }()
	polltest.Until(t, 10*time.Second, "Run to start its pool", f.worker.running.Load)
	q := mq.NewMemory()
	if err := f.worker.SubscribeQueued(q); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(event.PublishEvent{VideoId: 31, SourceKey: "uploads/q.mp4"})
	// The handler only queues, so Publish returns before processing; the second event for
	// the same video (a sweeper's re-enqueue) is dropped while the first is pending.
	for range 2 {
		if err := q.Publish(ctx, mq.TopicPublish, "31", body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := decodeEvent([]byte("{")); err == nil {
		t.Error("a malformed event decoded")
	}
	polltest.Until(t, 30*time.Second, "the queued video to be processed", func() bool {
		f.videos.mu.Lock()
		defer f.videos.mu.Unlock()
		return len(f.videos.calls) > 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.videos.mu.Lock()
	defer f.videos.mu.Unlock()
	if call := f.videos.only(t); call.VideoId != 31 || call.Status != videoapi.VideoStatus_Ready {
		t.Fatalf("CompleteProcessing(%+v), want video 31 ready", call)
	}
}
