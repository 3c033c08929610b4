package cache

import (
	"context"
	"sync"
	"time"
)

// LocalRecords is the in-process counterpart of Records for the embedded mode: the same
// MGet/MSet/Delete, with values kept as they are (no encoding, no round trip) in a Bounded
// map. One process owns every write, so a record dropped after a commit is gone for every
// reader at once.
type LocalRecords[T any] struct {
	mu       sync.RWMutex
	records  *Bounded[int64, T]
	space    string
	ttl      time.Duration
	idOf     func(T) int64
	observer LookupObserver
}

// NewLocalRecords returns an in-process record cache of at most maxEntries records, each
// living ttl with jitter; idOf tells the id a record is stored under.
func NewLocalRecords[T any](space string, ttl time.Duration, maxEntries int, idOf func(T) int64) *LocalRecords[T] {
	return &LocalRecords[T]{records: NewBounded[int64, T](maxEntries), space: space, ttl: ttl, idOf: idOf}
}

// Observe reports every lookup's hits and misses to o.
func (c *LocalRecords[T]) Observe(o LookupObserver) *LocalRecords[T] {
	c.observer = o
	return c
}

// MGet returns the cached records among ids and, in request order, the ids it lacks.
func (c *LocalRecords[T]) MGet(_ context.Context, ids []int64) (map[int64]T, []int64, error) {
	found := make(map[int64]T, len(ids))
	c.mu.RLock()
	missing := c.records.Lookup(ids, func(id int64, rec T) { found[id] = rec })
	c.mu.RUnlock()
	if c.observer != nil {
		c.observer.CacheLookups(c.space, len(found), len(missing))
	}
	return found, missing, nil
}

// LookupInOrder appends the cached records of ids to dst in request order and returns it
// with the ids it lacks: MGet without building a map, for a caller that wants the records in
// order (a feed page's records would otherwise be copied into a map, then out of it).
func (c *LocalRecords[T]) LookupInOrder(ids []int64, dst []T) ([]T, []int64) {
	c.mu.RLock()
	missing := c.records.Lookup(ids, func(_ int64, rec T) { dst = append(dst, rec) })
	c.mu.RUnlock()
	if c.observer != nil {
		c.observer.CacheLookups(c.space, len(ids)-len(missing), len(missing))
	}
	return dst, missing
}

// MSet caches the records, each with its own jittered expiry.
func (c *LocalRecords[T]) MSet(_ context.Context, records []T) error {
	c.mu.Lock()
	for _, rec := range records {
		c.records.Put(c.idOf(rec), rec, TTL(c.ttl))
	}
	c.mu.Unlock()
	return nil
}

// Delete drops the records of ids.
func (c *LocalRecords[T]) Delete(_ context.Context, ids []int64) error {
	c.mu.Lock()
	for _, id := range ids {
		c.records.Delete(id)
	}
	c.mu.Unlock()
	return nil
}

// Len is the number of records held.
func (c *LocalRecords[T]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.records.Len()
}
