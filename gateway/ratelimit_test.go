package gateway

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(60, 3) // one per second, bursts of three
	l.now = func() time.Time { return now }
	for i := range 3 {
		if !l.allow("1.2.3.4") {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if l.allow("1.2.3.4") {
		t.Fatal("fourth request in the same instant allowed")
	}
	if !l.allow("5.6.7.8") {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(time.Second)
	if !l.allow("1.2.3.4") {
		t.Fatal("bucket did not refill")
	}
	for i := range 1000 {
		l.allow(fmt.Sprint("k", i))
	}
	now = now.Add(2 * time.Minute)
	l.allow("fresh")
	if n := len(l.buckets); n != 1 {
		t.Fatalf("%d idle buckets kept, want only the fresh one", n)
	}
	if off := newLimiter(0, 0); !off.allow("x") {
		t.Fatal("a zero rate must disable the limit")
	}
}
