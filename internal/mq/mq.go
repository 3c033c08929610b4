// Package mq carries events between components: an in-process queue for the embedded mode,
// RocketMQ in production. Producers and consumers see only the interfaces below.
package mq

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Topics.
const (
	TopicFavorite = "douyin-favorite"
	TopicPublish  = "douyin-publish"
	// TopicActivity carries what the recommender learns from besides likes (internal/activity).
	TopicActivity = "douyin-activity"
)

// Handler processes one message. Returning an error asks for redelivery, so handlers must be
// idempotent.
type Handler func(ctx context.Context, body []byte) error

// Producer publishes messages. key names a message to the broker (and routes one sent alone);
// consumers may handle messages in any order (see the guarantees in config.go).
type Producer interface {
	Publish(ctx context.Context, topic, key string, body []byte) error
}

// Consumer registers the handler of a consumer group for a topic.
type Consumer interface {
	Subscribe(topic, group string, h Handler) error
}

// Memory is the embedded queue. It delivers synchronously: Publish returns only after every
// subscribed group has handled the message, and returns the first handler error. So an
// acknowledged operation is durable before the client sees the reply even though nothing
// persists the queue itself, and per-key order is the caller's order.
type Memory struct {
	mu       sync.RWMutex
	handlers map[string]map[string]Handler // topic → group → handler
}

// NewMemory returns an empty in-process queue.
func NewMemory() *Memory {
	return &Memory{handlers: map[string]map[string]Handler{}}
}

// Subscribe registers h for the group; one handler per (topic, group).
func (m *Memory) Subscribe(topic, group string, h Handler) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.handlers[topic] == nil {
		m.handlers[topic] = map[string]Handler{}
	}
	if _, dup := m.handlers[topic][group]; dup {
		return fmt.Errorf("mq: group %s already subscribed to %s", group, topic)
	}
	m.handlers[topic][group] = h
	return nil
}

// Publish hands body to every group subscribed to topic. A topic nobody consumes is an error:
// silently dropping the message would lose an acknowledged operation.
func (m *Memory) Publish(ctx context.Context, topic, _ string, body []byte) error {
	m.mu.RLock()
	groups := make([]Handler, 0, len(m.handlers[topic]))
	for _, h := range m.handlers[topic] {
		groups = append(groups, h)
	}
	m.mu.RUnlock()
	if len(groups) == 0 {
		return fmt.Errorf("mq: no consumer for topic %s", topic)
	}
	ctx = WithBornAt(ctx, time.Now())
	for _, h := range groups {
		if err := h(ctx, body); err != nil {
			return fmt.Errorf("mq: handle %s: %w", topic, err)
		}
	}
	return nil
}
