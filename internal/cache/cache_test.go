package cache

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMemory(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(100)
	now := time.Unix(1000, 0)
	m.entries.now = func() time.Time { return now }

	if _, ok, _ := m.Get(ctx, "a"); ok {
		t.Fatal("hit on empty cache")
	}
	_ = m.Set(ctx, "a", "1", time.Second)
	if v, ok, _ := m.Get(ctx, "a"); !ok || v != "1" {
		t.Fatalf("Get = %q %v", v, ok)
	}
	now = now.Add(2 * time.Second)
	if _, ok, _ := m.Get(ctx, "a"); ok {
		t.Fatal("expired entry returned")
	}

	_ = m.SetIfGreater(ctx, "t", 5, 0)
	_ = m.SetIfGreater(ctx, "t", 3, 0)
	if v, ok, _ := GetInt(ctx, m, "t"); !ok || v != 5 {
		t.Fatalf("SetIfGreater moved backwards: %d", v)
	}
	_ = m.SetIfGreater(ctx, "t", 9, 0)
	if v, _, _ := GetInt(ctx, m, "t"); v != 9 {
		t.Fatalf("SetIfGreater = %d, want 9", v)
	}
	_ = m.Delete(ctx, "t")
	if _, ok, _ := m.Get(ctx, "t"); ok {
		t.Fatal("deleted key still there")
	}
	for i := range 500 {
		_ = m.Set(ctx, fmt.Sprint(i), "x", 0)
	}
	if n := m.entries.Len(); n > 100 {
		t.Fatalf("cache grew to %d entries, bound is 100", n)
	}
}
