package cache

import "time"

// Bounded is a map whose entries may expire, holding at most a fixed number of keys: when
// full, a write first drops expired entries, then arbitrary ones (about a tenth of the
// capacity), because it only ever holds cached copies whose readers fall back to the store.
// It is not safe for concurrent use: the owner holds its own lock, which lets a multi-key
// step (a like moving a set and three counters) stay atomic.
type Bounded[K comparable, V any] struct {
	entries    map[K]boundedEntry[V]
	maxEntries int
	now        func() time.Time
}

type boundedEntry[V any] struct {
	value   V
	expires time.Time // zero: never
}

// NewBounded returns an empty map holding at most maxEntries keys (at least 1).
func NewBounded[K comparable, V any](maxEntries int) *Bounded[K, V] {
	return &Bounded[K, V]{entries: map[K]boundedEntry[V]{}, maxEntries: max(1, maxEntries), now: time.Now}
}

// SetClock replaces the clock entries expire by (time.Now): tests step it to check expiry
// without waiting.
func (b *Bounded[K, V]) SetClock(now func() time.Time) { b.now = now }

// Get returns the live value of key.
func (b *Bounded[K, V]) Get(key K) (V, bool) { return b.GetAt(key, b.now()) }

// GetAt returns the value of key if it is live at now.
func (b *Bounded[K, V]) GetAt(key K, now time.Time) (V, bool) {
	e, ok := b.entries[key]
	if !ok || (!e.expires.IsZero() && now.After(e.expires)) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Lookup calls hit with the live value of each key it holds, all read at one instant, and
// returns the keys it lacks in request order: the shape of every batch cache read.
func (b *Bounded[K, V]) Lookup(keys []K, hit func(K, V)) (missing []K) {
	now := b.now()
	for _, k := range keys {
		if v, ok := b.GetAt(k, now); ok {
			hit(k, v)
		} else {
			missing = append(missing, k)
		}
	}
	return missing
}

// PutAbsent stores value for ttl unless key has a live value, which wins: a cache fill from
// the store must not overwrite an entry that later changes have already moved. It reports
// whether it stored.
func (b *Bounded[K, V]) PutAbsent(key K, value V, ttl time.Duration) bool {
	if _, ok := b.Get(key); ok {
		return false
	}
	b.Put(key, value, ttl)
	return true
}

// Put stores value for ttl (0: no expiry).
func (b *Bounded[K, V]) Put(key K, value V, ttl time.Duration) {
	if _, exists := b.entries[key]; !exists && len(b.entries) >= b.maxEntries {
		b.evict()
	}
	e := boundedEntry[V]{value: value}
	if ttl > 0 {
		e.expires = b.now().Add(ttl)
	}
	b.entries[key] = e
}

// Replace changes the value of a live key and keeps its expiry; it reports whether the key
// was live.
func (b *Bounded[K, V]) Replace(key K, value V) bool {
	e, ok := b.entries[key]
	if !ok || b.expired(e) {
		return false
	}
	e.value = value
	b.entries[key] = e
	return true
}

// Delete removes key.
func (b *Bounded[K, V]) Delete(key K) { delete(b.entries, key) }

// Len is the number of keys held, expired ones included until they are dropped.
func (b *Bounded[K, V]) Len() int { return len(b.entries) }

func (b *Bounded[K, V]) expired(e boundedEntry[V]) bool {
	return !e.expires.IsZero() && b.now().After(e.expires)
}

// evict frees about a tenth of the capacity, expired entries first.
func (b *Bounded[K, V]) evict() {
	target := max(1, b.maxEntries/10)
	now := b.now()
	for k, e := range b.entries {
		if !e.expires.IsZero() && now.After(e.expires) {
			delete(b.entries, k)
			target--
		}
	}
	for k := range b.entries {
		if target <= 0 {
			return
		}
		delete(b.entries, k)
		target--
	}
}
