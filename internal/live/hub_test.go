package live

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSlowWatcherIsDroppedOthersUnharmed(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	h := NewHub(Limits{SendBuffer: 4}, m)
	slow, _ := h.Join(7, 1, "10.0.0.1")
	fast, _ := h.Join(7, 2, "10.0.0.2")
	other, _ := h.Join(8, 3, "10.0.0.3")
	received := make(chan []byte, 100)
	go func() {
		for {
			select {
			case msg := <-fast.Messages():
				received <- msg
			case <-fast.Done():
				return
			}
		}
	}()
	for i := range 20 {
		h.Deliver(7, []byte{byte(i)})
		// The fast reader keeps up: wait until it has taken this comment.
		deadline := time.Now().Add(time.Second)
		for len(fast.Messages()) > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("the slow watcher was not dropped")
	}
	if slow.End() != EndTooSlow {
		t.Fatalf("slow watcher ended with %d, want EndTooSlow", slow.End())
	}
	select {
	case <-fast.Done():
		t.Fatal("the fast watcher was dropped")
	default:
	}
	for i := range 20 {
		select {
		case msg := <-received:
			if !bytes.Equal(msg, []byte{byte(i)}) {
				t.Fatalf("fast watcher got %v at %d", msg, i)
			}
		case <-time.After(time.Second):
			t.Fatalf("fast watcher missed comment %d", i)
		}
	}
	if len(other.Messages()) != 0 {
		t.Fatal("a watcher of another video received the comments")
	}
	if got := testutil.ToFloat64(m.dropped); got != 1 {
		t.Fatalf("dropped = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.pushed); got != 20+4 {
		t.Fatalf("pushed = %v, want 24 (20 to the fast watcher, 4 buffered for the slow one)", got)
	}
	if got := testutil.ToFloat64(m.open); got != 2 {
		t.Fatalf("open = %v, want 2", got)
	}
	h.Leave(slow) // after a drop: no double count
	if got := testutil.ToFloat64(m.open); got != 2 {
		t.Fatalf("open after leaving a dropped watcher = %v, want 2", got)
	}
}

func TestLimitsPerUserAndIP(t *testing.T) {
	h := NewHub(Limits{SendBuffer: 1, PerUser: 2, PerIP: 3}, nil)
	a, err := h.Join(1, 42, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Join(2, 42, "10.0.0.2"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Join(3, 42, "10.0.0.3"); err != ErrTooManyConnections {
		t.Fatalf("third connection of one user: %v, want ErrTooManyConnections", err)
	}
	h.Leave(a)
	if _, err := h.Join(3, 42, "10.0.0.3"); err != nil {
		t.Fatalf("after leaving, the user may connect again: %v", err)
	}
	// Anonymous watchers count against their address only.
	for i := range 3 {
		if _, err := h.Join(9, 0, "10.9.9.9"); err != nil {
			t.Fatalf("anonymous %d: %v", i, err)
		}
	}
	if _, err := h.Join(9, 0, "10.9.9.9"); err != ErrTooManyConnections {
		t.Fatalf("fourth connection of one address: %v, want ErrTooManyConnections", err)
	}
}

func TestCloseEndsEveryWatcher(t *testing.T) {
	h := NewHub(Limits{SendBuffer: 1}, nil)
	w1, _ := h.Join(1, 0, "a")
	w2, _ := h.Join(2, 0, "b")
	h.Close()
	for _, w := range []*Watcher{w1, w2} {
		select {
		case <-w.Done():
			if w.End() != EndShutdown {
				t.Fatalf("end = %d, want EndShutdown", w.End())
			}
		default:
			t.Fatal("a watcher survived Close")
		}
	}
	if _, err := h.Join(1, 0, "a"); err != ErrClosed {
		t.Fatalf("Join after Close: %v, want ErrClosed", err)
	}
	if h.Watchers() != 0 {
		t.Fatalf("%d watchers after Close", h.Watchers())
	}
}
