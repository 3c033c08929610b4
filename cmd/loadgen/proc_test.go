package main

import (
	"math"
	"os"
	"os/exec"
	"testing"
)

func TestWatchSplitsUsagePerProcess(t *testing.T) {
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	w, err := startWatch([]int{os.Getpid(), child.Process.Pid})
	if err != nil {
		t.Fatal(err)
	}
	// Burn some CPU in this process so that its share is visible.
	x := 0
	for i := range 200_000_000 {
		x += i % 7
	}
	_ = x
	u, err := w.stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Processes) != 2 || u.Processes[0].PID != os.Getpid() || u.Processes[1].PID != child.Process.Pid {
		t.Fatalf("processes = %+v, want this process then the child", u.Processes)
	}
	if u.Processes[0].CPUSeconds <= 0 || u.Processes[0].HWMMB <= 0 || u.Processes[1].HWMMB <= 0 {
		t.Fatalf("per-process figures missing: %+v", u.Processes)
	}
	if sum := u.Processes[0].CPUSeconds + u.Processes[1].CPUSeconds; math.Abs(sum-u.CPUSeconds) > 1e-9 {
		t.Fatalf("per-process CPU sums to %v, total says %v", sum, u.CPUSeconds)
	}
}

func TestWatchOfOneProcessHasNoSplit(t *testing.T) {
	w, err := startWatch([]int{os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	u, err := w.stop()
	if err != nil {
		t.Fatal(err)
	}
	if u.Processes != nil {
		t.Fatalf("processes = %+v, want none for one process", u.Processes)
	}
}
