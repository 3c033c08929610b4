package recommend

import (
	"context"
	"sync"
)

// MemorySeen is the SeenStore of the embedded mode: each viewer's set in process, at most
// maxSeen videos each, the oldest forgotten first.
type MemorySeen struct {
	maxSeen int
	mu      sync.Mutex
	users   map[int64]*seenSet
}

var _ SeenStore = (*MemorySeen)(nil)

// NewMemorySeen returns an empty store keeping at most maxSeen videos per viewer.
func NewMemorySeen(maxSeen int) *MemorySeen {
	return &MemorySeen{maxSeen: maxSeen, users: map[int64]*seenSet{}}
}

// of returns the viewer's set, created empty.
func (s *MemorySeen) of(viewer int64) *seenSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.users[viewer]
	if set == nil {
		set = &seenSet{}
		s.users[viewer] = set
	}
	return set
}

// Take picks the first limit unseen candidates and records them.
func (s *MemorySeen) Take(_ context.Context, viewer int64, candidates []int64, limit int, now, cutoff int64) ([]int64, error) {
	set := s.of(viewer)
	set.mu.Lock()
	defer set.mu.Unlock()
	set.expire(cutoff)
	out := make([]int64, 0, min(limit, len(candidates)))
	for _, id := range candidates {
		if len(out) == limit {
			break
		}
		if !set.has.Has(id) {
			set.add(id, now, s.maxSeen)
			out = append(out, id)
		}
	}
	return out, nil
}

// Seen calls rank with the viewer's set locked: it blocks only this viewer's pages, which
// their ranking serialises anyway.
func (s *MemorySeen) Seen(_ context.Context, viewer, cutoff int64, rank func(seen func(int64) bool, n int)) error {
	set := s.of(viewer)
	set.mu.Lock()
	defer set.mu.Unlock()
	set.expire(cutoff)
	rank(set.has.Has, set.has.Len())
	return nil
}

// Reset empties the viewer's set.
func (s *MemorySeen) Reset(_ context.Context, viewer int64) error {
	set := s.of(viewer)
	set.mu.Lock()
	defer set.mu.Unlock()
	set.has.Clear()
	set.order = set.order[:0]
	return nil
}

// seenSet is one viewer's: the videos returned to them, and each with when in that order.
type seenSet struct {
	mu    sync.Mutex
	has   idSet
	order []seenEntry
}

type seenEntry struct{ id, at int64 }

// add records id, which is not in the set, as returned at now, forgetting the oldest past
// maxSeen.
func (s *seenSet) add(id, now int64, maxSeen int) {
	s.has.Add(id)
	s.order = append(s.order, seenEntry{id, now})
	for len(s.order) > maxSeen {
		s.has.Delete(s.order[0].id)
		s.order = s.order[1:]
	}
}

// expire forgets what was returned before cutoff.
func (s *seenSet) expire(cutoff int64) {
	n := 0
	for n < len(s.order) && s.order[n].at < cutoff {
		s.has.Delete(s.order[n].id)
		n++
	}
	s.order = s.order[n:]
}
