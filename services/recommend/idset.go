package recommend

import (
	"math"
	"math/bits"
)

// idSet is a set of positive int64 ids in one flat table (open addressing, linear probing):
// a membership test reads one or two adjacent slots instead of a Go map's hash groups, and a
// set of thousands of ids is one allocation. The table holds ids up to 2^32-1 (database ids
// in practice) in 4 bytes each: a seen set of 5 000 ids is 32 KB, half the cache lines its
// probes miss on when the viewer's pages come far apart; larger ids go to a map beside it.
// Deletion shifts the following run back instead of leaving tombstones, so a set that keeps
// forgetting its oldest ids (a seen set at its bound) never fills up with dead slots. Not
// safe for concurrent use.
type idSet struct {
	slots []uint32 // 0: empty; len is a power of two
	shift uint     // 64 - log2(len(slots)): the product's top bits index the table
	n     int      // ids in slots
	// wide holds the ids past the table's 32 bits (nil until one comes).
	wide map[int64]struct{}
}

// idSetMinSlots is the smallest table: a viewer's first page fits without growing.
const idSetMinSlots = 64

// slot spreads ids (often consecutive) over the table: Fibonacci hashing, the top bits of the
// product.
func (s *idSet) slot(id uint32) int {
	return int((uint64(id) * 0x9E3779B97F4A7C15) >> s.shift)
}

// narrow is id as a table entry, false when it does not fit in one (an id past 32 bits, or
// one that is not positive and so would alias one that is).
func narrow(id int64) (uint32, bool) {
	return uint32(id), id > 0 && id <= math.MaxUint32
}

// Len is the number of ids held.
func (s *idSet) Len() int { return s.n + len(s.wide) }

// Has reports whether id is in the set.
func (s *idSet) Has(id int64) bool {
	v, ok := narrow(id)
	if !ok {
		_, has := s.wide[id]
		return has
	}
	if s.n == 0 {
		return false
	}
	mask := len(s.slots) - 1
	for i := s.slot(v); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case v:
			return true
		case 0:
			return false
		}
	}
}

// Add puts id (positive) in the set and reports whether it was absent.
func (s *idSet) Add(id int64) bool {
	v, ok := narrow(id)
	if !ok {
		if _, has := s.wide[id]; has {
			return false
		}
		if s.wide == nil {
			s.wide = map[int64]struct{}{}
		}
		s.wide[id] = struct{}{}
		return true
	}
	if 4*(s.n+1) > 3*len(s.slots) { // keep at most 3/4 full: probe runs stay short
		s.resize(max(idSetMinSlots, 2*len(s.slots)))
	}
	mask := len(s.slots) - 1
	for i := s.slot(v); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case v:
			return false
		case 0:
			s.slots[i] = v
			s.n++
			return true
		}
	}
}

// peek reads id's home slot. Peeks depend on nothing before them, so a run of them has all
// their cache misses in flight at once, and the probes that follow find the slots in cache
// (see seenSet.warm).
func (s *idSet) peek(id int64) uint32 {
	v, ok := narrow(id)
	if !ok || s.n == 0 {
		return 0
	}
	return s.slots[s.slot(v)]
}

// Delete removes id if present: the ids after it in its probe run move back into the hole
// when their home slot allows, so every run stays unbroken without tombstones.
func (s *idSet) Delete(id int64) {
	v, ok := narrow(id)
	if !ok {
		delete(s.wide, id)
		return
	}
	if s.n == 0 {
		return
	}
	mask := len(s.slots) - 1
	i := s.slot(v)
	for s.slots[i] != v {
		if s.slots[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		// The id at j may fill hole i unless its home lies cyclically in (i, j].
		home := s.slot(s.slots[j])
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
	s.n--
}

// Clear empties the set, keeping its table.
func (s *idSet) Clear() {
	clear(s.slots)
	clear(s.wide)
	s.n = 0
}

// reset empties the set for reuse. A table grown past idSetReuseSlots (a ranking of the
// whole catalogue) is dropped rather than cleared each time.
func (s *idSet) reset() {
	if len(s.slots) > idSetReuseSlots {
		*s = idSet{}
		return
	}
	s.Clear()
}

// idSetReuseSlots: reset clears tables up to this size (32 KiB).
const idSetReuseSlots = 1 << 13

func (s *idSet) resize(slots int) {
	old := s.slots
	s.slots, s.n = make([]uint32, slots), 0
	s.shift = 64 - uint(bits.TrailingZeros(uint(slots)))
	for _, v := range old {
		if v != 0 {
			s.Add(int64(v))
		}
	}
}
