package video

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/douyin-backend/douyin/internal/cache"
)

// MemoryTimeline is the Timeline of the embedded mode.
type MemoryTimeline struct {
	mu      sync.RWMutex
	entries []TimelineEntry // newest first
	loaded  bool
	size    int
}

var _ Timeline = (*MemoryTimeline)(nil)

// NewMemoryTimeline keeps the newest size ready videos in process.
func NewMemoryTimeline(size int) *MemoryTimeline {
	return &MemoryTimeline{size: max(1, size)}
}

// newerFirst orders entries as the feed does: created_at, then id, both descending.
func newerFirst(a, b TimelineEntry) int {
	if c := cmp.Compare(b.CreatedAt, a.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(b.ID, a.ID)
}

func (t *MemoryTimeline) Before(_ context.Context, beforeMillis int64, limit int) ([]TimelineEntry, TimelineAnswer, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.loaded {
		return nil, TimelineNotLoaded, nil
	}
	start, _ := slices.BinarySearchFunc(t.entries, beforeMillis, func(e TimelineEntry, before int64) int {
		if e.CreatedAt >= before {
			return -1 // e is newer: the page starts after it
		}
		return 1
	})
	end := min(len(t.entries), start+limit)
	if end-start < limit && len(t.entries) >= t.size {
		return nil, TimelinePastEnd, nil
	}
	return slices.Clone(t.entries[start:end]), TimelineHit, nil
}

func (t *MemoryTimeline) Add(_ context.Context, e TimelineEntry) error {
	t.mu.Lock()
	t.merge([]TimelineEntry{e})
	t.mu.Unlock()
	return nil
}

func (t *MemoryTimeline) Fill(_ context.Context, entries []TimelineEntry) error {
	t.mu.Lock()
	t.merge(entries)
	t.loaded = true
	t.mu.Unlock()
	return nil
}

func (t *MemoryTimeline) Size() int { return t.size }

// merge adds entries it lacks, keeping the order and the newest size.
func (t *MemoryTimeline) merge(entries []TimelineEntry) {
	for _, e := range entries {
		i, found := slices.BinarySearchFunc(t.entries, e, newerFirst)
		if !found {
			t.entries = slices.Insert(t.entries, i, e)
		}
	}
	if len(t.entries) > t.size {
		t.entries = t.entries[:t.size]
	}
}

// Sizes reports the videos held against the timeline's size.
func (t *MemoryTimeline) Sizes() []cache.Size {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return []cache.Size{{Name: "video:timeline", Entries: len(t.entries), MaxEntries: t.size}}
}
