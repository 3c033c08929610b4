// Package ids handles the int64 ids of batch requests.
package ids

import "slices"

// smallBatch is the size up to which Unique scans instead of hashing: a page of ids (30)
// costs less to compare pairwise than to put in a map.
const smallBatch = 64

// Unique returns the positive ids of in, first occurrence order, without duplicates.
func Unique(in []int64) []int64 {
	out := make([]int64, 0, len(in))
	if len(in) <= smallBatch {
		for _, id := range in {
			if id > 0 && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		return out
	}
	seen := make(map[int64]struct{}, len(in))
	for _, id := range in {
		if id <= 0 {
			continue
		}
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out
}

// Mark sets flags[i] to whether set holds batch[i]: a batch's answer kept aligned with it.
func Mark(flags []bool, batch []int64, set map[int64]bool) {
	for i, id := range batch {
		flags[i] = set[id]
	}
}

// MaxBatch bounds the ids one batch call may ask for, so no request can make a service load
// an unbounded result.
const MaxBatch = 1000
