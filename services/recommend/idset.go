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
// forgetting its oldest ids (a seen set at its bound) never fills up with dead slots.
// A set whose ids span few values for their number (a viewer who has seen much of the
// catalogue) is a bitmap instead, whenever that is no larger than the table: 5 000 ids among
// 10 000 are 1.25 KB, where each probe of the table was a likely cache miss. Not safe for
// concurrent use.
type idSet struct {
	slots []uint32 // 0: empty; len is a power of two
	shift uint     // 64 - log2(len(slots)): the product's top bits index the table
	n     int      // ids in slots or bits
	// bits, when not nil, holds the ids instead of slots: id base+i is bit i.
	bits []uint64
	base uint32 // a multiple of 64
	// wide holds the ids past the table's 32 bits (nil until one comes).
	wide map[int64]struct{}
}

// idSetMinSlots is the smallest table: a viewer's first page fits without growing.
const idSetMinSlots = 64

// slot spreads ids (often consecutive) over the table.
func (s *idSet) slot(id uint32) int { return spread(uint64(id), s.shift) }

// spread is x's slot in a table of 2^(64-shift) slots: Fibonacci hashing, the top bits of the
// product, which spreads consecutive ids apart.
func spread(x uint64, shift uint) int { return int((x * 0x9E3779B97F4A7C15) >> shift) }

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
	if s.bits != nil {
		w, bit, in := s.bitOf(v)
		return in && s.bits[w]&bit != 0
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

// bitOf is v's word and bit in the bitmap, false when the bitmap does not cover v.
func (s *idSet) bitOf(v uint32) (int, uint64, bool) {
	if v < s.base {
		return 0, 0, false
	}
	off := v - s.base
	w := int(off >> 6)
	return w, 1 << (off & 63), w < len(s.bits)
}

// tableBytes is the size of the table holding n ids.
func tableBytes(n int) int {
	slots := idSetMinSlots
	for 4*n > 3*slots {
		slots *= 2
	}
	return 4 * slots
}

// cover extends the bitmap to cover v, with room to grow on that side, and reports whether
// it could stay no larger than the table holding one id more.
func (s *idSet) cover(v uint32) bool {
	if _, _, in := s.bitOf(v); in {
		return true
	}
	budget := tableBytes(s.n+1) / 8 // words
	lo, end := uint64(s.base), uint64(s.base)+64*uint64(len(s.bits))
	if uint64(v) < lo {
		lo = uint64(v) &^ 63
		if room := uint64(len(s.bits)/4) * 64; lo >= room && int((end-lo+room)/64) <= budget {
			lo -= room
		}
	} else {
		end = (uint64(v) | 63) + 1
		if room := uint64(len(s.bits)/4) * 64; end+room <= 1<<32 && int((end+room-lo)/64) <= budget {
			end += room
		}
	}
	words := int((end - lo) / 64)
	if words > budget {
		return false
	}
	grown := make([]uint64, words)
	copy(grown[(uint64(s.base)-lo)/64:], s.bits)
	s.bits, s.base = grown, uint32(lo)
	return true
}

// toBits turns the table, with v to come, into a bitmap if that is no larger; the caller
// holds at least one id in the table.
func (s *idSet) toBits(v uint32) bool {
	lo, hi := v, v
	for _, id := range s.slots {
		if id != 0 {
			lo, hi = min(lo, id), max(hi, id)
		}
	}
	lo &^= 63
	words := int((uint64(hi)-uint64(lo))/64) + 1
	if 8*words > tableBytes(s.n+1) {
		return false
	}
	s.bits, s.base = make([]uint64, words), lo
	for _, id := range s.slots {
		if id != 0 {
			w, bit, _ := s.bitOf(id)
			s.bits[w] |= bit
		}
	}
	s.slots = nil
	return true
}

// toTable turns the bitmap back into a table.
func (s *idSet) toTable() {
	held := make([]uint32, 0, s.n)
	for w, word := range s.bits {
		for word != 0 {
			held = append(held, s.base+uint32(64*w+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	s.bits = nil
	s.resize(tableBytes(s.n+1) / 4)
	for _, v := range held {
		s.Add(int64(v))
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
	if s.bits != nil {
		if s.cover(v) {
			w, bit, _ := s.bitOf(v)
			if s.bits[w]&bit != 0 {
				return false
			}
			s.bits[w] |= bit
			s.n++
			return true
		}
		s.toTable()
	}
	if 4*(s.n+1) > 3*len(s.slots) { // keep at most 3/4 full: probe runs stay short
		if s.n > 0 && !s.Has(id) && s.toBits(v) {
			return s.Add(id)
		}
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
	if s.bits != nil {
		w, _, in := s.bitOf(v)
		if !in {
			return 0
		}
		return uint32(s.bits[w])
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
	if s.bits != nil {
		if w, bit, in := s.bitOf(v); in && s.bits[w]&bit != 0 {
			s.bits[w] &^= bit
			s.n--
		}
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
	clear(s.bits)
	clear(s.wide)
	s.n = 0
}

// reset empties the set for reuse. A table grown past idSetReuseSlots (a ranking of the
// whole catalogue) is dropped rather than cleared each time.
func (s *idSet) reset() {
	if len(s.slots) > idSetReuseSlots || len(s.bits) > idSetReuseSlots/2 {
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
