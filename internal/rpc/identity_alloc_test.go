//go:build !race

package rpc

import (
	"strings"
	"testing"
)

// The race detector drops pooled items at random, so the count holds only without it.
func TestCallerIdentitySignatureAllocatesOnlyItsText(t *testing.T) {
	id := NewCallerIdentity([]byte(strings.Repeat("c", 32)), "gateway")
	if allocs := testing.AllocsPerRun(100, func() { id.mac("gateway", "MGetVideoFavorites", "1700000000000") }); allocs > 1 {
		t.Errorf("a signature allocates %v objects, want at most 1 (its text)", allocs)
	}
}
