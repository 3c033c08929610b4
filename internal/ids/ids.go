// Package ids handles the int64 ids of batch requests.
package ids

// Unique returns the positive ids of in, first occurrence order, without duplicates.
func Unique(in []int64) []int64 {
	seen := make(map[int64]struct{}, len(in))
	out := make([]int64, 0, len(in))
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

// MaxBatch bounds the ids one batch call may ask for, so no request can make a service load
// an unbounded result.
const MaxBatch = 1000
