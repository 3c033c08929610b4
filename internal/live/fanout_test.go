package live

import (
	"context"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/cache/cachetest"
)

type delivery struct {
	videoID int64
	comment string
}

// Two gateways subscribed to one Redis channel both receive a comment published by one.
func TestRedisFanoutReachesEveryGateway(t *testing.T) {
	r, _ := cachetest.New(t)
	channel := r.Key("live:comments")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, second := NewRedis(r.Client(), channel), NewRedis(r.Client(), channel)
	got := [2]chan delivery{make(chan delivery, 1), make(chan delivery, 1)}
	done := make(chan error, 2)
	for i, f := range []*Redis{first, second} {
		go func() {
			done <- f.Run(ctx, func(id int64, c []byte) { got[i] <- delivery{id, string(c)} })
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := first.subscribers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d gateways subscribed, want 2", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.Publish(ctx, 123, []byte(`{"id":1,"content":"弹幕\nline"}`)); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		select {
		case d := <-got[i]:
			if d.videoID != 123 || d.comment != `{"id":1,"content":"弹幕\nline"}` {
				t.Fatalf("gateway %d got %+v", i, d)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("gateway %d received nothing", i)
		}
	}
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	}
}

func TestLocalFanoutDeliversInProcess(t *testing.T) {
	l := NewLocal()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan delivery, 1)
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, func(id int64, c []byte) { got <- delivery{id, string(c)} }) }()
	deadline := time.Now().Add(2 * time.Second)
	for {
		_ = l.Publish(ctx, 5, []byte("x"))
		select {
		case d := <-got:
			if d.videoID != 5 || d.comment != "x" {
				t.Fatalf("got %+v", d)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing delivered")
		}
	}
}
