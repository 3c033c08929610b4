package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Concurrent callers share batches, each gets its own result and error, and no batch is
// larger than the bound.
func TestBatcherGroupsConcurrentCalls(t *testing.T) {
	var (
		batches, maxSeen atomic.Int64
		gate             = make(chan struct{})
		once             sync.Once
	)
	b := New(8, func(_ context.Context, items []int) ([]string, []error) {
		// Hold the first batch until every caller queued, so later batches must be shared.
		once.Do(func() { <-gate })
		batches.Add(1)
		if n := int64(len(items)); n > maxSeen.Load() {
			maxSeen.Store(n)
		}
		res, errs := make([]string, len(items)), make([]error, len(items))
		for i, it := range items {
			res[i] = fmt.Sprint("r", it)
			if it%10 == 0 {
				errs[i] = fmt.Errorf("item %d refused", it)
			}
		}
		return res, errs
	})
	const callers = 50
	var wg sync.WaitGroup
	for i := 1; i <= callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := b.Do(context.Background(), i)
			if (i%10 == 0) != (err != nil) {
				t.Errorf("item %d: err %v", i, err)
			}
			if res != fmt.Sprint("r", i) {
				t.Errorf("item %d got result %q", i, res)
			}
		}()
	}
	// The held first batch took at most 8 callers; the rest queue behind it.
	waitPending(b, callers-8)
	close(gate)
	wg.Wait()
	if n := batches.Load(); n >= callers || n < callers/8 {
		t.Fatalf("%d batches for %d callers, want shared batches of at most 8", n, callers)
	}
	if m := maxSeen.Load(); m > 8 {
		t.Fatalf("a batch of %d items, bound is 8", m)
	}
}

// waitPending polls until at least n calls wait behind the leader.
func waitPending[T, R any](b *Batcher[T, R], n int) {
	for {
		b.mu.Lock()
		got := len(b.pending)
		b.mu.Unlock()
		if got >= n {
			return
		}
		runtime.Gosched()
	}
}

// A lone caller is answered at once, and a cancelled leader still completes the others' items.
func TestBatcherLoneCallerAndCancelledLeader(t *testing.T) {
	b := New(4, func(ctx context.Context, items []int) ([]int, []error) {
		if ctx.Err() != nil {
			return make([]int, len(items)), []error{errors.New("cancelled"), nil, nil, nil}[:len(items)]
		}
		out := make([]int, len(items))
		for i, it := range items {
			out[i] = it * 2
		}
		return out, make([]error, len(items))
	})
	if got, err := b.Do(context.Background(), 21); err != nil || got != 42 {
		t.Fatalf("Do = %d %v", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := b.Do(ctx, 5); err != nil || got != 10 {
		t.Fatalf("Do with a cancelled context = %d %v: the batch must not inherit the cancellation", got, err)
	}
}

// Callers a batch just answered that come straight back share the next batch instead of the
// first of them writing one alone: the leader lets runnable callers queue before it takes
// the batch. One P makes the interleaving deterministic: the woken callers are runnable but
// do not run until the leader yields.
func TestBatcherReturningCallersShareTheNextBatch(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var (
		mu    sync.Mutex
		sizes []int
	)
	b := New(64, func(_ context.Context, items []int) ([]int, []error) {
		mu.Lock()
		sizes = append(sizes, len(items))
		mu.Unlock()
		return make([]int, len(items)), make([]error, len(items))
	})
	const callers, rounds = 8, 4
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if _, err := b.Do(context.Background(), i); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range sizes {
		total += n
	}
	// About one batch a round; the start (callers not yet created) may split one off.
	if len(sizes) > rounds+2 {
		t.Fatalf("batch sizes %v: returning callers wrote alone instead of sharing a batch", sizes)
	}
	if total != callers*rounds {
		t.Fatalf("batch sizes %v sum to %d, want %d", sizes, total, callers*rounds)
	}
}
