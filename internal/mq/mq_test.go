package mq

import (
	"context"
	"errors"
	"testing"
)

func TestMemoryDeliversSynchronouslyToEveryGroup(t *testing.T) {
	q := NewMemory()
	ctx := context.Background()
	if err := q.Publish(ctx, TopicFavorite, "k", []byte("x")); err == nil {
		t.Fatal("publish without consumers must fail, not drop the message")
	}
	var a, b []string
	if err := q.Subscribe(TopicFavorite, "a", func(_ context.Context, body []byte) error { a = append(a, string(body)); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := q.Subscribe(TopicFavorite, "b", func(_ context.Context, body []byte) error { b = append(b, string(body)); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := q.Subscribe(TopicFavorite, "a", func(context.Context, []byte) error { return nil }); err == nil {
		t.Fatal("duplicate group accepted")
	}
	for _, m := range []string{"1", "2", "3"} {
		if err := q.Publish(ctx, TopicFavorite, "k", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if len(a) != 3 || len(b) != 3 || a[0] != "1" || a[2] != "3" || b[1] != "2" {
		t.Fatalf("delivery a=%v b=%v", a, b)
	}
	boom := errors.New("boom")
	if err := q.Subscribe(TopicPublish, "w", func(context.Context, []byte) error { return boom }); err != nil {
		t.Fatal(err)
	}
	if err := q.Publish(ctx, TopicPublish, "k", nil); !errors.Is(err, boom) {
		t.Fatalf("handler error not returned: %v", err)
	}
}

func TestMapHeaders(t *testing.T) {
	h := MapHeaders{}
	h.Set("traceparent", "x")
	if HeadersFrom(context.Background()) != nil {
		t.Fatal("headers in an empty context")
	}
	got := HeadersFrom(WithHeaders(context.Background(), h))
	if got == nil || got.Get("traceparent") != "x" || len(got.Keys()) != 1 {
		t.Fatalf("headers from context: %v", got)
	}
}
