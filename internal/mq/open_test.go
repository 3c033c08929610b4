package mq

import (
	"context"
	"log/slog"
	"testing"
)

func TestOpenMemoryDeliversInPublish(t *testing.T) {
	q, err := Open(Config{Backend: BackendMemory}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := q.(*Memory); !ok {
		t.Fatalf("Open(memory) = %T, want *Memory", q)
	}
	var got []string
	if err := q.Subscribe("t", "g", func(_ context.Context, b []byte) error {
		got = append(got, string(b))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	if err := q.Publish(context.Background(), "t", "k", []byte("m")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "m" {
		t.Fatalf("delivered %v, want [m] before Publish returned", got)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesBadSettings(t *testing.T) {
	for _, cfg := range []Config{
		{Backend: "kafka"},
		{Backend: BackendRocketMQ}, // no name server
	} {
		q, err := Open(cfg, slog.Default())
		if err == nil || q != nil {
			t.Errorf("Open(%+v) = %v, %v; want no queue and an error", cfg, q, err)
		}
	}
}

func TestInProcessNamesTheMemoryBackend(t *testing.T) {
	if !(Config{Backend: BackendMemory}).InProcess() || (Config{Backend: BackendRocketMQ}).InProcess() {
		t.Fatal("InProcess must hold for the memory backend only")
	}
}
