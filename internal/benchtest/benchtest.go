// Package benchtest measures what a benchmark costs beyond its wall time, which on a shared
// box also counts the time spent waiting for other processes (Redis, SQL, other tests).
package benchtest

import (
	"syscall"
	"testing"
)

// ProcessCPU returns the CPU time, user and system, in nanoseconds, this process has used.
func ProcessCPU(tb testing.TB) int64 {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// ReportCPU reports the process's CPU time per operation since start (a ProcessCPU reading
// taken before the loop) as cpu-ns/op.
func ReportCPU(b *testing.B, start int64) {
	b.Helper()
	b.ReportMetric(float64(ProcessCPU(b)-start)/float64(b.N), "cpu-ns/op")
}
