package live

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Fanout brings every comment posted through any gateway to the hubs of all gateways.
type Fanout interface {
	// Publish sends a posted comment (its JSON) to the watchers of videoID everywhere.
	Publish(ctx context.Context, videoID int64, comment []byte) error
	// Run hands every published comment to deliver until ctx ends.
	Run(ctx context.Context, deliver func(videoID int64, comment []byte)) error
}

// Local is the in-process fan-out of the embedded mode: Publish delivers at once.
type Local struct {
	mu      sync.RWMutex
	deliver func(int64, []byte)
}

// NewLocal returns the in-process fan-out.
func NewLocal() *Local { return &Local{} }

// Publish delivers to this process's hub, if it runs.
func (l *Local) Publish(_ context.Context, videoID int64, comment []byte) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.deliver != nil {
		l.deliver(videoID, comment)
	}
	return nil
}

// Run installs deliver until ctx ends.
func (l *Local) Run(ctx context.Context, deliver func(int64, []byte)) error {
	l.mu.Lock()
	l.deliver = deliver
	l.mu.Unlock()
	<-ctx.Done()
	l.mu.Lock()
	l.deliver = nil
	l.mu.Unlock()
	return nil
}

// Redis fans out through one pub/sub channel that every gateway subscribes to; each message
// is "<video id>\n<comment JSON>", and each hub keeps the videos it has watchers of.
type Redis struct {
	client  redis.UniversalClient
	channel string
}

// NewRedis returns the fan-out on channel (prefix it like the deployment's keys).
func NewRedis(client redis.UniversalClient, channel string) *Redis {
	return &Redis{client: client, channel: channel}
}

// Publish sends the comment to every subscribed gateway.
func (r *Redis) Publish(ctx context.Context, videoID int64, comment []byte) error {
	msg := make([]byte, 0, len(comment)+21)
	msg = strconv.AppendInt(msg, videoID, 10)
	msg = append(msg, '\n')
	msg = append(msg, comment...)
	if err := r.client.Publish(ctx, r.channel, msg).Err(); err != nil {
		return fmt.Errorf("publish live comment: %w", err)
	}
	return nil
}

// Run subscribes and delivers until ctx ends; go-redis resubscribes after a lost connection
// (comments posted meanwhile are not replayed: live comments are best-effort, the list is not).
func (r *Redis) Run(ctx context.Context, deliver func(int64, []byte)) error {
	sub := r.client.Subscribe(ctx, r.channel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("subscribe to live comments: %w", err)
	}
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return errors.New("live comment subscription closed")
			}
			id, body, found := strings.Cut(m.Payload, "\n")
			videoID, err := strconv.ParseInt(id, 10, 64)
			if !found || err != nil {
				continue // not ours: never written by Publish
			}
			deliver(videoID, []byte(body))
		}
	}
}

// subscribers counts the gateways subscribed to the channel (tests wait for Run with it).
func (r *Redis) subscribers(ctx context.Context) (int64, error) {
	n, err := r.client.PubSubNumSub(ctx, r.channel).Result()
	if err != nil {
		return 0, err
	}
	return n[r.channel], nil
}
