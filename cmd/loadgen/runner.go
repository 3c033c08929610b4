package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// op performs one request of a scenario; worker is the index of the calling worker, so a
// scenario can keep per-worker state (its account, its like toggles) without locks.
type op func(ctx context.Context, worker int, rng *rand.Rand) error

// weighted is a scenario in a mix.
type weighted struct {
	name   string
	weight int
	do     op
}

// stats are the measurements of one scenario.
type stats struct {
	hist    histogram
	errors  uint64
	dropped uint64
	// lastErr keeps one example error message for the report.
	lastErr string
}

// result holds what one run measured, per scenario name.
type result struct {
	elapsed time.Duration
	per     map[string]*stats
}

// runOptions configures the load phase's scheduling.
type runOptions struct {
	duration    time.Duration
	concurrency int
	// rate > 0 selects the open loop: that many requests per second on a fixed schedule.
	rate float64
}

// picker chooses scenarios by weight.
type picker struct {
	mix   []weighted
	total int
}

func newPicker(mix []weighted) picker {
	p := picker{mix: mix}
	for _, m := range mix {
		p.total += m.weight
	}
	return p
}

func (p picker) pick(rng *rand.Rand) int {
	n := rng.IntN(p.total)
	for i, m := range p.mix {
		if n < m.weight {
			return i
		}
		n -= m.weight
	}
	return len(p.mix) - 1
}

// workerStats is one worker's private copy, merged at the end (no shared counters on the
// hot path).
type workerStats []stats

func (w workerStats) observe(i int, d time.Duration, err error) {
	if err != nil {
		w[i].errors++
		w[i].lastErr = err.Error()
		return
	}
	w[i].hist.record(d)
}

// run drives the mix for opts.duration. Closed loop: concurrency workers each send their
// next request as soon as the previous one answered, latency measured from the send.
// Open loop: a scheduler assigns every request an intended start time at a fixed rate and
// hands it to at most concurrency workers; latency is measured from the intended time, so
// time a request spent waiting for a free worker (because the server is slow) counts, and
// coordinated omission cannot hide it. A request whose intended time comes while every
// worker is busy and the backlog is full is dropped and counted.
func run(ctx context.Context, mix []weighted, opts runOptions) result {
	p := newPicker(mix)
	ctx, cancel := context.WithTimeout(ctx, opts.duration)
	defer cancel()
	per := make([]workerStats, opts.concurrency)
	for i := range per {
		per[i] = make(workerStats, len(mix))
	}
	start := time.Now()
	var wg sync.WaitGroup
	var dropped []uint64
	if opts.rate <= 0 {
		for w := range opts.concurrency {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w)+1, uint64(start.UnixNano())))
				for ctx.Err() == nil {
					i := p.pick(rng)
					t := time.Now()
					err := mix[i].do(ctx, w, rng)
					if ctx.Err() != nil && err != nil {
						return // cut off by the end of the run, not a server error
					}
					per[w].observe(i, time.Since(t), err)
				}
			})
		}
		wg.Wait()
	} else {
		type job struct {
			i        int
			intended time.Time
		}
		// The backlog holds one second of the schedule (at least one slot per worker): a
		// stall shorter than that shows as latency of the requests that waited behind it;
		// longer overload drops requests, counted, rather than queueing without bound.
		queue := make(chan job, max(opts.concurrency, int(opts.rate)))
		for w := range opts.concurrency {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w)+1, uint64(start.UnixNano())))
				for j := range queue {
					if ctx.Err() != nil {
						continue // drain what was scheduled but not started before the end
					}
					err := mix[j.i].do(ctx, w, rng)
					if ctx.Err() != nil && err != nil {
						continue
					}
					per[w].observe(j.i, time.Since(j.intended), err)
				}
			})
		}
		dropped = schedule(ctx, opts.rate, start, len(mix), p, func(i int, intended time.Time) bool {
			select {
			case queue <- job{i, intended}:
				return true
			default:
				return false
			}
		})
		close(queue)
		wg.Wait()
	}
	res := result{elapsed: min(time.Since(start), opts.duration), per: map[string]*stats{}}
	for i, m := range mix {
		s := &stats{}
		for _, w := range per {
			s.hist.merge(&w[i].hist)
			s.errors += w[i].errors
			if w[i].lastErr != "" {
				s.lastErr = w[i].lastErr
			}
		}
		if dropped != nil {
			s.dropped = dropped[i]
		}
		res.per[m.name] = s
	}
	return res
}

// schedule emits requests at intended times start + k/rate until ctx ends. When it wakes
// late it emits every request already due at once, keeping each one's own intended time, so
// a stall of the generator itself shows as latency rather than as fewer requests. submit
// reports false when the request could not be queued; those are counted per scenario.
func schedule(ctx context.Context, rate float64, start time.Time, scenarios int, p picker, submit func(i int, intended time.Time) bool) []uint64 {
	dropped := make([]uint64, scenarios)
	rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), 7))
	interval := time.Duration(float64(time.Second) / rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for k := int64(0); ; k++ {
		intended := start.Add(time.Duration(k) * interval)
		if wait := time.Until(intended); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return dropped
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return dropped
		}
		i := p.pick(rng)
		if !submit(i, intended) {
			dropped[i]++
		}
	}
}
