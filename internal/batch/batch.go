// Package batch shares one costly call (a transaction, a broker send) among the callers that
// arrive while the previous one runs.
package batch

import (
	"context"
	"runtime"
	"sync"
)

// Batcher is group commit: callers that arrive while a batch is being written queue up, and
// the next batch writes all of them in one call (one transaction, one broker send). A single
// caller pays one call as before; under load the call's fixed cost (the write lock, the WAL
// write, the round trip) is shared.
// There is no timer and no background goroutine: the caller that finds nobody writing leads,
// and on finishing hands the lead to the first caller still waiting.
type Batcher[T, R any] struct {
	apply    func(ctx context.Context, items []T) ([]R, []error)
	maxBatch int

	mu      sync.Mutex
	pending []*batchCall[T, R]
	leading bool
}

type batchCall[T, R any] struct {
	item T
	// wake is signalled once: done (res/err set) or promoted to lead the next batch.
	wake     chan struct{}
	promoted bool
	res      R
	err      error
}

// New returns a Batcher writing at most maxBatch items per call of apply, which must
// return one result and one error per item, in order. apply runs with the leading caller's
// context minus its cancellation: the items of other callers ride on it.
func New[T, R any](maxBatch int, apply func(ctx context.Context, items []T) ([]R, []error)) *Batcher[T, R] {
	return &Batcher[T, R]{apply: apply, maxBatch: max(1, maxBatch)}
}

// Do writes item in the next batch and returns its result once that batch is done.
func (b *Batcher[T, R]) Do(ctx context.Context, item T) (R, error) {
	c := &batchCall[T, R]{item: item, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if !lead {
		<-c.wake
		if !c.promoted {
			return c.res, c.err
		}
	}
	b.runBatch(context.WithoutCancel(ctx))
	return c.res, c.err
}

// runBatch writes the oldest pending calls (the leader's among them), answers them, and
// passes the lead on.
func (b *Batcher[T, R]) runBatch(ctx context.Context) {
	// Let runnable callers queue first, yielding until no more arrive: the callers the last
	// batch just answered come back within microseconds, and without this the first of them
	// (or the promoted caller) wrote a transaction alone while the rest queued behind it. A
	// lone transaction costs about as much as a full batch (BenchmarkApplyLikes), so under
	// load a third of the writer's time went to them. Idle, it yields once.
	b.mu.Lock()
	for queued := -1; queued != len(b.pending) && len(b.pending) < b.maxBatch; {
		queued = len(b.pending)
		b.mu.Unlock()
		runtime.Gosched()
		b.mu.Lock()
	}
	n := min(len(b.pending), b.maxBatch)
	batch := make([]*batchCall[T, R], n)
	copy(batch, b.pending)
	b.pending = append(b.pending[:0], b.pending[n:]...)
	b.mu.Unlock()

	items := make([]T, n)
	for i, c := range batch {
		items[i] = c.item
	}
	results, errs := b.apply(ctx, items)
	for i, c := range batch {
		c.res, c.err = results[i], errs[i]
		if i > 0 { // batch[0] is the leader itself
			c.wake <- struct{}{}
		}
	}

	b.mu.Lock()
	if len(b.pending) > 0 {
		next := b.pending[0]
		next.promoted = true
		next.wake <- struct{}{}
	} else {
		b.leading = false
	}
	b.mu.Unlock()
}
