package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// procUsage is the resource use of a set of processes over a run.
type procUsage struct {
	PIDs       []int   `json:"pids"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// Cores is CPU seconds per wall second: 2.0 means both cores of this machine busy.
	Cores float64 `json:"cores"`
	// PeakRSSMB is the largest sum of resident memory seen while sampling (every 200 ms).
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// HWMMB is the sum of the processes' own peak RSS (VmHWM) since they started.
	HWMMB float64 `json:"hwm_mb"`
	// Processes splits the figures per process when more than one is watched (the
	// multi-process deployment): where the CPU goes, and each process's memory.
	Processes []processUsage `json:"processes,omitempty"`
}

// processUsage is one watched process's share of a run.
type processUsage struct {
	PID        int     `json:"pid"`
	CPUSeconds float64 `json:"cpu_seconds"`
	HWMMB      float64 `json:"hwm_mb"`
}

// cpuTicks reads utime+stime of pid.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu of pid %d: %w", pid, err)
	}
	// The command name may hold spaces; fields are counted after its closing parenthesis.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read cpu of pid %d: short stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read cpu of pid %d: bad stat", pid)
	}
	return ut + st, nil
}

// memKB reads VmRSS and VmHWM of pid in KiB.
func memKB(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	return rss, hwm, nil
}

// watch samples pids until stop is called, then reports their CPU and memory over the span.
type watch struct {
	pids    []int
	start   time.Time
	ticks0  []int64 // per pid
	mu      sync.Mutex
	peakKB  int64
	cancel  context.CancelFunc
	stopped chan struct{}
}

func startWatch(pids []int) (*watch, error) {
	w := &watch{pids: pids, start: time.Now(), ticks0: make([]int64, len(pids)), stopped: make(chan struct{})}
	for i, pid := range pids {
		t, err := cpuTicks(pid)
		if err != nil {
			return nil, err
		}
		w.ticks0[i] = t
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() {
		defer close(w.stopped)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			w.sample()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w, nil
}

func (w *watch) sample() {
	var sum int64
	for _, pid := range w.pids {
		rss, _, err := memKB(pid)
		if err == nil {
			sum += rss
		}
	}
	w.mu.Lock()
	w.peakKB = max(w.peakKB, sum)
	w.mu.Unlock()
}

func (w *watch) stop() (procUsage, error) {
	w.cancel()
	<-w.stopped
	w.sample()
	u := procUsage{PIDs: w.pids}
	var ticks, hwm int64
	for i, pid := range w.pids {
		t, err := cpuTicks(pid)
		if err != nil {
			return u, err
		}
		ticks += t - w.ticks0[i]
		_, h, err := memKB(pid)
		if err != nil {
			return u, err
		}
		hwm += h
		if len(w.pids) > 1 {
			u.Processes = append(u.Processes, processUsage{PID: pid, CPUSeconds: float64(t-w.ticks0[i]) / clockTicks, HWMMB: float64(h) / 1024})
		}
	}
	u.CPUSeconds = float64(ticks) / clockTicks
	u.Cores = u.CPUSeconds / time.Since(w.start).Seconds()
	u.PeakRSSMB = float64(w.peakKB) / 1024
	u.HWMMB = float64(hwm) / 1024
	return u, nil
}
