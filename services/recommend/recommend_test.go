package recommend

import "testing"

// TestRankingsAreBounded: past maxRankings, the rankings of viewers gone quiet for rankTTL
// are dropped when a new viewer arrives; recent ones are kept.
func TestRankingsAreBounded(t *testing.T) {
	rs := newRankings()
	for v := int64(1); v <= maxRankings; v++ {
		rs.of(v, testNow)
	}
	rs.of(1, testNow+rankTTL.Milliseconds()) // viewer 1 is active again
	later := testNow + rankTTL.Milliseconds() + 1
	rs.of(maxRankings+1, later)
	if _, kept := rs.byUser[1]; !kept || len(rs.byUser) != 2 {
		t.Errorf("%d rankings kept (viewer 1 among them: %v), want 2: the active viewer and the new one", len(rs.byUser), kept)
	}
}
