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

// Small batches are scanned, large ones hashed: both give the same answer.
func TestUniqueLargeBatchMatchesSmall(t *testing.T) {
	in := make([]int64, 0, 300)
	for i := range 300 {
		in = append(in, int64(i%97)-3)
	}
	got := Unique(in)
	var want []int64
	for _, id := range in {
		if id > 0 && !slices.Contains(want, id) {
			want = append(want, id)
		}
	}
	if !slices.Equal(got, want) || len(got) != 93 {
		t.Fatalf("Unique of %d ids = %d ids, want the %d positive distinct ones in order", len(in), len(got), len(want))
	}
}

func TestMark(t *testing.T) {
	flags := []bool{true, true, true, true}
	Mark(flags, []int64{5, 6, 5, 7}, map[int64]bool{5: true, 7: false})
	if want := []bool{true, false, true, false}; !slices.Equal(flags, want) {
		t.Fatalf("Mark = %v, want %v", flags, want)
	}
}
