package ids

import (
	"slices"
	"testing"
)

func TestUnique(t *testing.T) {
	got := Unique([]int64{3, 1, 3, 0, -2, 1, 7})
	if !slices.Equal(got, []int64{3, 1, 7}) {
		t.Fatalf("Unique = %v", got)
	}
	if got := Unique(nil); got == nil || len(got) != 0 {
		t.Fatalf("Unique(nil) = %#v, want empty non-nil", got)
	}
}
