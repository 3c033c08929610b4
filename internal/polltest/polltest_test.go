package polltest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB that records a failure instead of ending the test.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failure = fmt.Sprintf(format, args...) }

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	var polls atomic.Int32
	r := &recorder{TB: t}
	Until(r, 5*time.Second, "the third poll", func() bool { return polls.Add(1) >= 3 })
	if r.failure != "" || polls.Load() != 3 {
		t.Fatalf("failure %q after %d polls, want none after 3", r.failure, polls.Load())
	}
}

func TestUntilFailsAtTheDeadline(t *testing.T) {
	r := &recorder{TB: t}
	start := time.Now()
	UntilEvery(r, 50*time.Millisecond, time.Millisecond, "a condition that never holds", func() bool { return false })
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Fatalf("gave up after %v, before the deadline", took)
	}
	if !strings.Contains(r.failure, "a condition that never holds") || !strings.Contains(r.failure, "50ms") {
		t.Fatalf("failure %q names neither the condition nor the timeout", r.failure)
	}
}
