package cache

// Size is how full one in-process map is: its entries and the most it may hold.
type Size struct {
	Name       string
	Entries    int
	MaxEntries int
}

// Sized is an in-process cache that reports how full each of its bounded maps is, so that an
// operator (and the benchmark) can check that it stays within its bound.
type Sized interface {
	Sizes() []Size
}

// Cap is the most entries b holds.
func (b *Bounded[K, V]) Cap() int { return b.maxEntries }

// Sizes reports the records held against their bound.
func (c *LocalRecords[T]) Sizes() []Size {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return []Size{{Name: c.space, Entries: c.records.Len(), MaxEntries: c.records.Cap()}}
}

// Sizes reports the counters held against their bound.
func (c *localCounts) Sizes() []Size {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return []Size{{Name: c.space, Entries: c.counts.Len(), MaxEntries: c.counts.Cap()}}
}

// Sizes reports the in-process tier, when it is one (the shared tier is Redis).
func (t *Tiered[T]) Sizes() []Size {
	if s, ok := t.local.(Sized); ok {
		return s.Sizes()
	}
	return nil
}

// Sizes reports the keys held against their bound.
func (m *Memory) Sizes() []Size {
	m.mu.Lock()
	defer m.mu.Unlock()
	return []Size{{Name: "kv", Entries: m.entries.Len(), MaxEntries: m.entries.Cap()}}
}
