package recommend

import (
	"context"
	"maps"
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
		set = &seenSet{at: map[int64]int64{}}
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
		if _, seen := set.at[id]; !seen {
			set.add(id, now, s.maxSeen)
			out = append(out, id)
		}
	}
	return out, nil
}

// Seen returns a copy of the viewer's set.
func (s *MemorySeen) Seen(_ context.Context, viewer, cutoff int64) (map[int64]int64, error) {
	set := s.of(viewer)
	set.mu.Lock()
	defer set.mu.Unlock()
	set.expire(cutoff)
	return maps.Clone(set.at), nil
}

// Reset empties the viewer's set.
func (s *MemorySeen) Reset(_ context.Context, viewer int64) error {
	set := s.of(viewer)
	set.mu.Lock()
	defer set.mu.Unlock()
	clear(set.at)
	set.order = set.order[:0]
	return nil
}

// seenSet is one viewer's: video id → when it was returned, and the ids in that order.
type seenSet struct {
	mu    sync.Mutex
	at    map[int64]int64
	order []int64
}

func (s *seenSet) add(id, now int64, maxSeen int) {
	if _, ok := s.at[id]; !ok {
		s.order = append(s.order, id)
	}
	s.at[id] = now
	for len(s.order) > maxSeen {
		delete(s.at, s.order[0])
		s.order = s.order[1:]
	}
}

// expire forgets what was returned before cutoff.
func (s *seenSet) expire(cutoff int64) {
	n := 0
	for n < len(s.order) && s.at[s.order[n]] < cutoff {
		delete(s.at, s.order[n])
		n++
	}
	s.order = s.order[n:]
}
