package recommend

import "testing"

// TestRankingsAreBounded: past maxRankings, the rankings of viewers gone quiet for rankTTL
// are dropped when a new viewer arrives, each handed to dropping first; recent ones are kept.
func TestRankingsAreBounded(t *testing.T) {
	dropped := map[int64]bool{}
	rs := newRankings(func(viewer int64, r *ranking) {
		if r.mu.TryLock() {
			t.Errorf("viewer %d's ranking was handed over unlocked", viewer)
		}
		dropped[viewer] = true
	})
	for v := int64(1); v <= maxRankings; v++ {
		rs.of(v, testNow)
	}
	rs.of(1, testNow+rankTTL.Milliseconds()) // viewer 1 is active again
	later := testNow + rankTTL.Milliseconds() + 1
	rs.of(maxRankings+1, later)
	if _, kept := rs.byUser[1]; !kept || len(rs.byUser) != 2 {
		t.Errorf("%d rankings kept (viewer 1 among them: %v), want 2: the active viewer and the new one", len(rs.byUser), kept)
	}
	if len(dropped) != maxRankings-1 || dropped[1] {
		t.Errorf("%d rankings handed over as dropped (viewer 1 among them: %v), want %d", len(dropped), dropped[1], maxRankings-1)
	}
}
