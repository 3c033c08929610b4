package recommend

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/douyin-backend/douyin/internal/cache"
)

// MemorySeen is the SeenStore of the embedded mode: each viewer's set in process, at most
// maxSeen videos each, the oldest forgotten first, and at most maxIDs over every viewer:
// past that, the sets of the viewers idle longest are forgotten whole (they may then be shown
// a video again, as after their seen window).
type MemorySeen struct {
	maxSeen, maxIDs int
	mu              sync.Mutex
	users           map[int64]*seenSet
	// ids counts the ids held over every viewer's set.
	ids atomic.Int64
}

var (
	_ exclusiveSeen = (*MemorySeen)(nil)
	_ cache.Sized   = (*MemorySeen)(nil)
)

// NewMemorySeen returns an empty store keeping at most maxSeen videos per viewer and maxIDs
// over all of them.
func NewMemorySeen(maxSeen, maxIDs int) *MemorySeen {
	return &MemorySeen{maxSeen: maxSeen, maxIDs: max(maxIDs, maxSeen), users: map[int64]*seenSet{}}
}

// Sizes reports the ids held against their bound, as recommend:seen.
func (s *MemorySeen) Sizes() []cache.Size {
	return []cache.Size{{Name: "recommend:seen", Entries: int(s.ids.Load()), MaxEntries: s.maxIDs}}
}

// lock returns the viewer's set, created empty, locked, and marked used at now.
func (s *MemorySeen) lock(viewer, now int64) *seenSet {
	for {
		s.mu.Lock()
		set := s.users[viewer]
		if set == nil {
			set = &seenSet{}
			s.users[viewer] = set
		}
		s.mu.Unlock()
		set.mu.Lock()
		if !set.forgotten {
			set.lastUsed = max(set.lastUsed, now)
			return set
		}
		set.mu.Unlock() // forgotten meanwhile: a new one is in the map
	}
}

// unlock releases set, counting the change of its size since the caller locked it, and
// forgets idle viewers' sets when the store is over its bound.
func (s *MemorySeen) unlock(set *seenSet, sizeAtLock int) {
	// A set at its bound (a deep scroller's) stays the same size: no write to the counter
	// every page shares.
	if grown := set.has.Len() - sizeAtLock; grown != 0 {
		s.ids.Add(int64(grown))
	}
	set.mu.Unlock()
	if s.ids.Load() > int64(s.maxIDs) {
		s.forgetIdle()
	}
}

// forgetIdle drops the sets of the viewers idle longest until the store holds at most 9/10
// of its bound: dropping a tenth at a time keeps this sort rare.
func (s *MemorySeen) forgetIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	type idle struct {
		viewer, lastUsed int64
	}
	all := make([]idle, 0, len(s.users))
	for viewer, set := range s.users {
		set.mu.Lock()
		all = append(all, idle{viewer, set.lastUsed})
		set.mu.Unlock()
	}
	slices.SortFunc(all, func(a, b idle) int { return cmp.Compare(a.lastUsed, b.lastUsed) })
	for _, e := range all {
		if s.ids.Load() <= int64(s.maxIDs)*9/10 {
			return
		}
		set := s.users[e.viewer]
		set.mu.Lock()
		set.forgotten = true
		s.ids.Add(-int64(set.has.Len()))
		set.mu.Unlock()
		delete(s.users, e.viewer)
	}
}

// Take picks the first limit unseen candidates and records them. It checks them against the
// whole set, whatever version they name: its versions are all 0.
func (s *MemorySeen) Take(_ context.Context, viewer int64, _ seenVersion, candidates []int64, limit int, now, cutoff int64) (taken, error) {
	set := s.lock(viewer, now)
	size := set.has.Len()
	set.expire(cutoff)
	out := make([]int64, 0, min(limit, len(candidates)))
	set.warm(candidates[:min(limit, len(candidates))], s.maxSeen)
	for _, id := range candidates {
		if len(out) == limit {
			break
		}
		if set.add(id, now, s.maxSeen) {
			out = append(out, id)
		}
	}
	s.unlock(set, size)
	return taken{ids: out}, nil
}

// Record records pages cut without a Take (see exclusiveSeen).
func (s *MemorySeen) Record(viewer int64, ids []int64, pages []pageEnd) {
	if len(pages) == 0 {
		return
	}
	set := s.lock(viewer, pages[len(pages)-1].at)
	size := set.has.Len()
	from := 0
	for _, p := range pages {
		for _, id := range ids[from:p.end] {
			set.add(id, p.at, s.maxSeen)
		}
		from = p.end
	}
	s.unlock(set, size)
}

// Seen calls rank with the viewer's set locked: it blocks only this viewer's pages, which
// their ranking serialises anyway.
func (s *MemorySeen) Seen(_ context.Context, viewer, cutoff int64, rank func(seen *idSet)) (seenVersion, error) {
	set := s.lock(viewer, 0)
	size := set.has.Len()
	set.expire(cutoff)
	rank(&set.has)
	s.unlock(set, size)
	return 0, nil
}

// Reset empties the viewer's set.
func (s *MemorySeen) Reset(_ context.Context, viewer int64) error {
	set := s.lock(viewer, 0)
	size := set.has.Len()
	set.has.Clear()
	set.order.clear()
	s.unlock(set, size)
	return nil
}

// seenSet is one viewer's: the videos returned to them, and each with when in that order.
type seenSet struct {
	mu    sync.Mutex
	has   idSet
	order seenRing
	// lastUsed is when the viewer was last given a page (Unix ms): the idlest are forgotten
	// first when the store is over its bound.
	lastUsed int64
	// forgotten: dropped from the store; a caller that locked it late takes the new one.
	forgotten bool
	// warmth keeps what warm read, so that the reads are made.
	warmth uint32
}

type seenEntry struct{ id, at int64 }

// add records id as returned at now unless the set has it, forgetting the oldest past
// maxSeen, and reports whether it did.
func (s *seenSet) add(id, now int64, maxSeen int) bool {
	if !s.has.Add(id) {
		return false
	}
	if s.order.len() >= maxSeen {
		s.has.Delete(s.order.pop().id)
	}
	s.order.push(seenEntry{id, now}, maxSeen)
	return true
}

// warm reads the table slots that adding picks will probe, theirs and those of the oldest
// entries they push out past maxSeen, before adding any: the viewer's other pages have let the
// table go cold, and these reads' misses overlap where the probes' came one after another.
func (s *seenSet) warm(picks []int64, maxSeen int) {
	var x uint32
	for _, id := range picks {
		x ^= s.has.peek(id)
	}
	for i := range min(s.order.len()+len(picks)-maxSeen, s.order.len()) {
		x ^= s.has.peek(s.order.at(i).id)
	}
	s.warmth = x
}

// expire forgets what was returned before cutoff.
func (s *seenSet) expire(cutoff int64) {
	for s.order.len() > 0 && s.order.oldest().at < cutoff {
		s.has.Delete(s.order.pop().id)
	}
}

// seenRing is a seen set's entries, oldest first, in a ring: a set at its bound (a deep
// scroller's: every page adds and forgets a page's worth) reuses its slots instead of sliding
// and reallocating a slice of up to maxSeen entries.
type seenRing struct {
	entries []seenEntry
	head, n int
}

func (r *seenRing) len() int { return r.n }

// oldest is the oldest entry; the ring is not empty.
func (r *seenRing) oldest() seenEntry { return r.entries[r.head] }

// at is the i-th oldest entry, i < len.
func (r *seenRing) at(i int) seenEntry { return r.entries[(r.head+i)%len(r.entries)] }

// pop removes and returns the oldest entry; the ring is not empty.
func (r *seenRing) pop() seenEntry {
	e := r.entries[r.head]
	r.head = (r.head + 1) % len(r.entries)
	r.n--
	return e
}

// push appends e as the newest, growing the ring up to limit entries (the caller pops first
// when it holds limit).
func (r *seenRing) push(e seenEntry, limit int) {
	if r.n == len(r.entries) {
		grown := make([]seenEntry, min(max(2*r.n, pageSize), max(limit, r.n+1)))
		copy(grown, r.entries[r.head:])
		copy(grown[len(r.entries)-r.head:], r.entries[:r.head])
		r.entries, r.head = grown, 0
	}
	r.entries[(r.head+r.n)%len(r.entries)] = e
	r.n++
}

func (r *seenRing) clear() { r.head, r.n = 0, 0 }
