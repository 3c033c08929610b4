package recommend

import (
	"math/rand/v2"
	"testing"
)

// TestIDSetAgreesWithAMap: random adds and deletes (some ids past 32 bits), the oldest id
// forgotten as a seen set at its bound does, answer every membership test as a map would, and
// the table does not grow past what the live ids need (no tombstones).
func TestIDSetAgreesWithAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var set idSet
	want := map[int64]bool{}
	var order []int64
	const bound = 500
	for step := range 200_000 {
		id := rng.Int64N(4000) + 1
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
		probe := rng.Int64N(4000) + 1
		if probe%10 == 0 {
			probe += 1 << 40
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
	if len(set.slots) > 1024 {
		t.Errorf("the table grew to %d slots for at most %d ids", len(set.slots), bound)
	}
	set.Clear()
	if set.Len() != 0 || set.Has(order[0]) {
		t.Errorf("after Clear: Len %d, Has(%d) %v", set.Len(), order[0], set.Has(order[0]))
	}
}
