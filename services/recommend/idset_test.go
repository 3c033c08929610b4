package recommend

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIDSetAgreesWithAMap: random adds and deletes (some ids past 32 bits), the oldest id
// forgotten as a seen set at its bound does, answer every membership test as a map would, and
// the set does not grow past what the live ids need (no tombstones): ids among 4 000 end as a
// bitmap, ids among 4 000 000 as a table, and ids drifting from one to the other switch.
func TestIDSetAgreesWithAMap(t *testing.T) {
	for _, tc := range []struct {
		name        string
		span, drift int64
		// modes: whether the set was a bitmap, over the steps (a drifting set switches back
		// and forth, but only when it grows: a few times, not every step)
		modes    []bool
		switches int
	}{{"dense", 4000, 0, []bool{false, true}, 1}, {"sparse", 4_000_000, 0, []bool{false}, 0}, {"drifting", 4000, 40, []bool{false, true, false}, 10}} {
		t.Run(tc.name, func(t *testing.T) {
			modes := checkIDSet(t, tc.span, tc.drift)
			if len(modes) < len(tc.modes) || !slices.Equal(modes[:len(tc.modes)], tc.modes) || len(modes)-1 > tc.switches {
				t.Errorf("a bitmap over the steps: %v, want %v then at most %d switches in all", modes, tc.modes, tc.switches)
			}
		})
	}
}

// checkIDSet runs the random steps with ids among span (offset by drift more every step),
// and returns whether the set was a bitmap, each time that changed.
func checkIDSet(t *testing.T, span, drift int64) []bool {
	modes := []bool{false}
	rng := rand.New(rand.NewPCG(1, 2))
	var set idSet
	want := map[int64]bool{}
	var order []int64
	const bound = 500
	for step := range int64(200_000) {
		id := rng.Int64N(span) + 1 + drift*step
		if id%10 == 0 {
			id += 1 << 40 // past the table's 32 bits
		}
		if set.Add(id) != !want[id] {
			t.Fatalf("step %d: Add(%d) reported %v, the map had it: %v", step, id, !want[id], want[id])
		}
		if !want[id] {
			want[id] = true
			order = append(order, id)
		}
		if len(order) > bound {
			set.Delete(order[0])
			delete(want, order[0])
			order = order[1:]
		}
		if rng.IntN(50) == 0 && len(order) > 0 { // a delete out of order too
			k := rng.IntN(len(order))
			set.Delete(order[k])
			delete(want, order[k])
			order = append(order[:k], order[k+1:]...)
		}
		probe := rng.Int64N(span) + 1 + drift*step
		if probe%10 == 0 {
			probe += 1 << 40
		}
		if bitmap := set.bits != nil; bitmap != modes[len(modes)-1] {
			modes = append(modes, bitmap)
		}
		if set.Has(probe) != want[probe] {
			t.Fatalf("step %d: Has(%d) = %v, want %v", step, probe, set.Has(probe), want[probe])
		}
	}
	if set.Len() != len(want) {
		t.Errorf("Len %d, want %d", set.Len(), len(want))
	}
	for id := range want {
		if !set.Has(id) {
			t.Fatalf("lost %d", id)
		}
	}
	if size := 4*len(set.slots) + 8*len(set.bits); size > tableBytes(bound) {
		t.Errorf("the set grew to %d bytes (%d slots, %d words) for at most %d ids", size, len(set.slots), len(set.bits), bound)
	}
	set.Clear()
	if set.Len() != 0 || set.Has(order[0]) {
		t.Errorf("after Clear: Len %d, Has(%d) %v", set.Len(), order[0], set.Has(order[0]))
	}
	return modes
}
