package video

import (
	"sync"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
)

// OwnCounts keeps in process what each author's own publish list counts (ready plus unready
// videos), so a viewer's own work count costs no SQL on every page they appear on. It is
// only correct where this service instance is the only writer of videos (the embedded
// placement): every write that can move an author's own count drops it here, after its
// commit. A fill that read SQL before such a commit must not keep its count after the write
// dropped it (the cache-aside race), so a fill carries the generation it started in and is
// kept only if no drop happened since.
type OwnCounts struct {
	mu     sync.Mutex
	gen    uint64
	counts *cache.Bounded[int64, int64]
	ttl    time.Duration
}

// NewOwnCounts returns an empty cache of at most maxEntries authors, each kept ttl.
func NewOwnCounts(ttl time.Duration, maxEntries int) *OwnCounts {
	return &OwnCounts{counts: cache.NewBounded[int64, int64](maxEntries), ttl: ttl}
}

// get returns the cached count of author, or the generation a fill must present to keep
// the count it reads.
func (c *OwnCounts) get(author int64) (n int64, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok = c.counts.Get(author)
	return n, c.gen, ok
}

// fill keeps n, read from SQL after get returned gen, unless a drop happened since.
func (c *OwnCounts) fill(author, n int64, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.counts.Put(author, n, c.ttl)
	}
}

// drop forgets the count of author and fails every fill in flight. A nil cache drops nothing.
func (c *OwnCounts) drop(author int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.counts.Delete(author)
}

// Sizes reports the authors held against the bound.
func (c *OwnCounts) Sizes() []cache.Size {
	c.mu.Lock()
	defer c.mu.Unlock()
	return []cache.Size{{Name: "video:own", Entries: c.counts.Len(), MaxEntries: c.counts.Cap()}}
}
