// Package polltest waits in tests for a condition that another goroutine, process or server
// makes true: it polls with a deadline instead of sleeping for a guessed time.
package polltest

import (
	"testing"
	"time"
)

// DefaultInterval is the pause between two polls of Until.
const DefaultInterval = 10 * time.Millisecond

// Until polls cond until it holds, and fails t when timeout passes first. what names the
// condition in the failure ("the like applied").
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	UntilEvery(t, timeout, DefaultInterval, what, cond)
}

// UntilEvery is Until with its own pause between polls, for conditions that cost a request.
func UntilEvery(t testing.TB, timeout, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
			return
		}
		time.Sleep(interval)
	}
}
