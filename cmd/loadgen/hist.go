package main

import (
	"math"
	"math/bits"
	"time"
)

// histogram records latencies in log-linear buckets (HDR style): each power of two of
// microseconds is split into subBuckets linear steps, so every recorded value is known within
// 1/subBuckets (under 1.6%) whatever its magnitude, in constant memory.
type histogram struct {
	counts [64 * subBuckets]uint64
	n      uint64
	max    time.Duration
	sum    time.Duration
}

const subBucketBits = 6
const subBuckets = 1 << subBucketBits

func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(us) - subBucketBits // >= 1
	return exp*subBuckets + int(us>>uint(exp-1)) - subBuckets
}

// bucketHigh is the largest value (µs) that falls in bucket i.
func bucketHigh(i int) uint64 {
	exp, sub := i/subBuckets, uint64(i%subBuckets)
	if exp == 0 {
		return sub
	}
	return ((sub+subBuckets)<<uint(exp-1) + (1 << uint(exp-1))) - 1
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the upper bound of the bucket holding the q-th value (never above max).
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketHigh(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}
