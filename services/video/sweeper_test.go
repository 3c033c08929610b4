package video

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/kitex_gen/event"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

func (f *fixture) create(t *testing.T, title string) int64 {
	t.Helper()
	resp, err := f.svc.CreateVideo(context.Background(), &videoapi.CreateVideoRequest{AuthorId: 1, Title: title, SourceKey: "uploads/" + title + ".mp4"})
	if err != nil {
		t.Fatal(err)
	}
	return resp.VideoId
}

// requeuedIDs decodes the video ids published after the first skip messages.
func (f *fixture) requeuedIDs(t *testing.T, skip int) []int64 {
	t.Helper()
	f.queue.mu.Lock()
	defer f.queue.mu.Unlock()
	var out []int64
	for _, m := range f.queue.sent[skip:] {
		var ev event.PublishEvent
		if err := json.Unmarshal(m.body, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.VideoId)
	}
	return out
}

func TestSweepRequeuesStuckVideosOldestFirstThenFails(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.svc.sweep = SweeperConfig{Interval: time.Minute, StuckAfter: time.Minute, MaxRequeues: 2, Batch: 2}
	old1, old2, old3 := f.create(t, "a"), f.create(t, "b"), f.create(t, "c")
	done := f.create(t, "d")
	if _, err := f.svc.CompleteProcessing(ctx, &videoapi.CompleteProcessingRequest{VideoId: done, Status: videoapi.VideoStatus_Ready, PlayKey: "videos/4/play.mp4", CoverKey: "videos/4/cover.jpg"}); err != nil {
		t.Fatal(err)
	}
	fresh := f.create(t, "e")
	sent := len(f.queue.sent)

	// Everything enqueued before fresh counts as stuck; the batch takes the two oldest.
	var freshAt int64
	if err := f.gdb.Model(&Video{}).Select("enqueued_at").Where("id = ?", fresh).Scan(&freshAt).Error; err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.Sweep(ctx, freshAt)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2 re-enqueued", n, err)
	}
	if got := f.requeuedIDs(t, sent); len(got) != 2 || got[0] != old1 || got[1] != old2 {
		t.Fatalf("re-enqueued %v, want the oldest [%d %d]", got, old1, old2)
	}
	// The next sweep picks up what the batch left, then the re-enqueued ones again.
	n, err = f.svc.Sweep(ctx, f.clock+1)
	if err != nil || n != 2 {
		t.Fatalf("second Sweep = %d, %v; want 2", n, err)
	}
	if got := f.requeuedIDs(t, sent+2); got[0] != old3 || got[1] != fresh {
		t.Fatalf("second sweep re-enqueued %v, want [%d %d] (never enqueued again before)", got, old3, fresh)
	}
	// Drive old1 to its limit: one more requeue, then failure.
	for range 3 {
		if _, err := f.svc.Sweep(ctx, f.clock+1); err != nil {
			t.Fatal(err)
		}
	}
	var v Video
	if err := f.gdb.Take(&v, old1).Error; err != nil {
		t.Fatal(err)
	}
	if v.Status != statusFailed || v.FailureReason != reasonStuck || v.Requeues != 2 {
		t.Fatalf("video after %d requeues: status %d reason %q requeues %d, want failed %q", v.Requeues, v.Status, v.FailureReason, v.Requeues, reasonStuck)
	}
	var ready Video
	if err := f.gdb.Take(&ready, done).Error; err != nil || ready.Status != statusReady || ready.Requeues != 0 {
		t.Fatalf("ready video touched by the sweeper: %+v %v", ready, err)
	}
}

func TestRunSweeperSweepsAllAtStartAndStops(t *testing.T) {
	f := newFixture(t)
	f.svc.sweep = SweeperConfig{Interval: time.Hour, StuckAfter: time.Hour, MaxRequeues: 3, Batch: 10, SweepAllAtStart: true}
	id := f.create(t, "a")
	sent := len(f.queue.sent)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.RunSweeper(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(f.requeuedIDs(t, sent)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the start-up sweep did not re-enqueue the processing video")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.requeuedIDs(t, sent); len(got) != 1 || got[0] != id {
		t.Fatalf("re-enqueued %v, want [%d]", got, id)
	}
}

func TestSweeperConfigValidate(t *testing.T) {
	c := DefaultSweeperConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.MaxRequeues = 0
	if c.Validate() == nil {
		t.Fatal("max requeues 0 accepted")
	}
}
