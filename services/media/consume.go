package media

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/douyin-backend/douyin/internal/blob"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/event"
)

// Subscribe registers the worker as the synchronous consumer of published videos: the
// handler returns once the video is processed, so a broker (RocketMQ) commits the message
// only then and a worker killed mid-transcode gets it again after restart.
func (w *Worker) Subscribe(c mq.Consumer) error {
	return c.Subscribe(mq.TopicPublish, consumerGroup, w.handle)
}

// SubscribeQueued registers a handler that only queues the video for Run's pool. It is for
// the in-process queue, which runs handlers inside Publish: processing there would hold the
// upload request for the whole transcode. Durability comes from the video row, which stays
// processing until the worker finishes, and from the video service's sweeper.
//
// Until Run starts, the handler processes inline instead: start-up work such as seeding
// demo content publishes videos and then likes them, which needs them ready.
func (w *Worker) SubscribeQueued(c mq.Consumer) error {
	return c.Subscribe(mq.TopicPublish, consumerGroup, func(ctx context.Context, body []byte) error {
		ev, err := decodeEvent(body)
		if err != nil {
			return err
		}
		if !w.running.Load() {
			return w.Process(ctx, ev)
		}
		return w.enqueue(ctx, ev)
	})
}

// enqueue hands ev to the pool, waiting while the queue is full (back-pressure on uploads).
func (w *Worker) enqueue(ctx context.Context, ev event.PublishEvent) error {
	w.mu.Lock()
	if w.pending[ev.VideoId] {
		w.mu.Unlock()
		return nil
	}
	w.pending[ev.VideoId] = true
	w.mu.Unlock()
	select {
	case w.jobs <- ev:
		return nil
	case <-ctx.Done():
		w.done(ev.VideoId)
		return fmt.Errorf("queue video %d: %w", ev.VideoId, ctx.Err())
	}
}

func (w *Worker) done(id int64) {
	w.mu.Lock()
	delete(w.pending, id)
	w.mu.Unlock()
}

// Run is the in-process pool behind SubscribeQueued: it processes queued videos until ctx
// ends, retrying transient failures with exponential backoff. A video unfinished at shutdown
// stays processing, and the sweeper re-enqueues it on the next start.
func (w *Worker) Run(ctx context.Context) error {
	w.running.Store(true)
	defer w.running.Store(false)
	var wg sync.WaitGroup
	for range w.cfg.Concurrency {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-w.jobs:
					w.processWithRetries(ctx, ev)
					w.done(ev.VideoId)
				}
			}
		})
	}
	wg.Wait()
	return nil
}

func (w *Worker) processWithRetries(ctx context.Context, ev event.PublishEvent) {
	backoff := w.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		err := w.Process(ctx, ev)
		if err == nil || ctx.Err() != nil {
			return
		}
		if attempt >= w.cfg.RetryAttempts {
			w.log.ErrorContext(ctx, "process video: left to the sweeper", "video_id", ev.VideoId, "attempts", attempt, "err", err)
			return
		}
		w.log.WarnContext(ctx, "process video: will retry", "video_id", ev.VideoId, "attempt", attempt, "backoff", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// handle processes one publish event. It returns an error, asking for redelivery, only for
// transient failures (storage, RPC); a bad file is marked failed and acknowledged.
func (w *Worker) handle(ctx context.Context, body []byte) error {
	ev, err := decodeEvent(body)
	if err != nil {
		return err
	}
	return w.Process(ctx, ev)
}

func decodeEvent(body []byte) (event.PublishEvent, error) {
	var ev event.PublishEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, fmt.Errorf("decode publish event: %w", err)
	}
	if ev.VideoId <= 0 || !blob.ValidKey(ev.SourceKey) {
		return ev, fmt.Errorf("malformed publish event %s", body)
	}
	return ev, nil
}
