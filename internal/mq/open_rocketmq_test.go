//go:build !race

package mq

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/douyin-backend/douyin/internal/polltest"
)

// Named TestRocketMQ… so that the -race run executes it in its child (rocketmq_race_test.go).
func TestRocketMQOpenedFromConfig(t *testing.T) {
	t.Parallel()
	tc := testRocketMQ(t).newCase(t, "open")
	q, err := Open(Config{Backend: BackendRocketMQ, RocketMQ: tc.cfg}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if _, ok := q.(*RocketMQ); !ok {
		t.Fatalf("Open(rocketmq) = %T, want *RocketMQ", q)
	}
	var delivered atomic.Int32
	if err := q.Subscribe(tc.topic, "open", func(context.Context, []byte) error {
		delivered.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	if err := q.Publish(context.Background(), tc.topic, "k", []byte("m")); err != nil {
		t.Fatal(err)
	}
	polltest.Until(t, firstMessageDeadline, "the message", func() bool { return delivered.Load() >= 1 })
}
