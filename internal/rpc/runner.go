package rpc

import (
	"context"
	"log/slog"
	"time"

	"github.com/cloudwego/netpoll"
)

// handlerIdleFor is how long a handler goroutine waits for the next request before it ends.
const handlerIdleFor = 10 * time.Second

// handlerRunner runs netpoll's connection callbacks (a Kitex server's request handling) on
// goroutines that wait for the next request for handlerIdleFor. netpoll's default pool ends a
// goroutine as soon as its queue is empty, so under steady load nearly every request started
// a fresh goroutine and grew its stack again through Kitex's, OpenTelemetry's and our frames:
// runtime.copystack was 4–12 % of each service's CPU in the multi-process benchmark.
type handlerRunner struct {
	tasks chan handlerTask
	log   *slog.Logger
}

type handlerTask struct {
	ctx context.Context
	f   func()
}

// KeepHandlerGoroutines makes netpoll run every callback of this process on a handlerRunner.
// netpoll's runner is process-wide: call it once, before the first server starts.
func KeepHandlerGoroutines(log *slog.Logger) error {
	r := &handlerRunner{tasks: make(chan handlerTask), log: log}
	return netpoll.Configure(netpoll.Config{Runner: r.run})
}

// run hands f to a goroutine waiting for work, or starts one.
func (r *handlerRunner) run(ctx context.Context, f func()) {
	t := handlerTask{ctx, f}
	select {
	case r.tasks <- t:
	default:
		go r.work(t)
	}
}

// work runs t, then the tasks handed to it, until none comes for handlerIdleFor.
func (r *handlerRunner) work(t handlerTask) {
	idle := time.NewTimer(handlerIdleFor)
	defer idle.Stop()
	for {
		r.runTask(t)
		idle.Reset(handlerIdleFor)
		select {
		case t = <-r.tasks:
		case <-idle.C:
			return
		}
	}
}

// runTask runs t, logging a panic as netpoll's own pool does rather than ending the process.
func (r *handlerRunner) runTask(t handlerTask) {
	defer func() {
		if p := recover(); p != nil {
			r.log.ErrorContext(t.ctx, "panic in an RPC connection handler", "panic", p)
		}
	}()
	t.f()
}
