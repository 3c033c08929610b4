package rpc

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// goroutineID is the id runtime.Stack names the calling goroutine by.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return string(bytes.Fields(buf)[1])
}

func newTestRunner(log *slog.Logger) *handlerRunner {
	return &handlerRunner{tasks: make(chan handlerTask), log: log}
}

// A task handed over while a goroutine waits runs on that goroutine; one that waits longer
// than handlerIdleFor has ended, and the next task gets a new goroutine.
func TestHandlerRunnerKeepsGoroutinesForAWhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newTestRunner(slog.New(slog.DiscardHandler))
		ran := make(chan string, 1)
		task := func() { ran <- goroutineID() }
		r.run(context.Background(), task)
		first := <-ran
		synctest.Wait() // the goroutine waits for work
		r.run(context.Background(), task)
		if again := <-ran; again != first {
			t.Fatalf("second task ran on goroutine %s, want the waiting %s", again, first)
		}
		time.Sleep(handlerIdleFor + time.Second)
		synctest.Wait()
		r.run(context.Background(), task)
		if late := <-ran; late == first {
			t.Fatalf("a task after %v idle ran on goroutine %s, which should have ended", handlerIdleFor, late)
		}
		time.Sleep(handlerIdleFor + time.Second) // the last goroutine ends
	})
}

// run never waits for a goroutine to be free: tasks that block until all of them started
// all run.
func TestHandlerRunnerNeverWaitsForAFreeGoroutine(t *testing.T) {
	r := newTestRunner(slog.New(slog.DiscardHandler))
	const n = 100
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	release := make(chan struct{})
	for range n {
		r.run(context.Background(), func() {
			defer done.Done()
			started.Done()
			<-release
		})
	}
	started.Wait()
	close(release)
	done.Wait()
}

// A panicking task is logged and does not end the process; its goroutine serves the next.
func TestHandlerRunnerLogsAPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logged bytes.Buffer
		r := newTestRunner(slog.New(slog.NewTextHandler(&logged, nil)))
		r.run(context.Background(), func() { panic("handler bug") })
		synctest.Wait()
		if !strings.Contains(logged.String(), "handler bug") {
			t.Fatalf("panic not logged: %q", logged.String())
		}
		ran := make(chan struct{})
		r.run(context.Background(), func() { close(ran) })
		<-ran
		time.Sleep(handlerIdleFor + time.Second) // the goroutine ends
	})
}
