// Package cache is the key-value cache behind the hot read paths: an in-process map for the
// embedded mode, Redis in production. Values are strings; callers own their encoding.
package cache

import (
	"context"
	"sync"
	"time"
)

// KV is a cache: a miss is (“”, false, nil), never an error.
type KV interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// SetIfGreater stores value (an int64) unless the key already holds a larger one, so
	// concurrent writers of a "latest time" never move it backwards.
	SetIfGreater(ctx context.Context, key string, value int64, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Memory is the in-process cache, bounded by maxEntries: when full, expired entries are
// dropped first, then arbitrary ones (it is a cache; every reader falls back to the store).
type Memory struct {
	mu         sync.RWMutex
	entries    map[string]entry
	maxEntries int
	now        func() time.Time
}

type entry struct {
	value   string
	expires time.Time // zero: never
}

// NewMemory returns an in-process cache holding at most maxEntries keys.
func NewMemory(maxEntries int) *Memory {
	return &Memory{entries: map[string]entry{}, maxEntries: maxEntries, now: time.Now}
}

// Get returns the live value of key.
func (m *Memory) Get(_ context.Context, key string) (string, bool, error) {
	m.mu.RLock()
	e, ok := m.entries[key]
	m.mu.RUnlock()
	if !ok || (!e.expires.IsZero() && m.now().After(e.expires)) {
		return "", false, nil
	}
	return e.value, true, nil
}

// Set stores value for ttl (0: no expiry).
func (m *Memory) Set(_ context.Context, key, value string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(key, value, ttl)
	return nil
}

// SetIfGreater stores value unless a larger live value is already there.
func (m *Memory) SetIfGreater(_ context.Context, key string, value int64, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[key]; ok && (e.expires.IsZero() || m.now().Before(e.expires)) {
		if cur, err := parseInt(e.value); err == nil && cur > value {
			return nil
		}
	}
	m.put(key, formatInt(value), ttl)
	return nil
}

// Delete removes key.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	delete(m.entries, key)
	m.mu.Unlock()
	return nil
}

func (m *Memory) put(key, value string, ttl time.Duration) {
	if _, exists := m.entries[key]; !exists && len(m.entries) >= m.maxEntries {
		m.evict()
	}
	e := entry{value: value}
	if ttl > 0 {
		e.expires = m.now().Add(ttl)
	}
	m.entries[key] = e
}

// evict frees about a tenth of the capacity, expired entries first.
func (m *Memory) evict() {
	target := max(1, m.maxEntries/10)
	now := m.now()
	for k, e := range m.entries {
		if !e.expires.IsZero() && now.After(e.expires) {
			delete(m.entries, k)
			target--
		}
	}
	for k := range m.entries {
		if target <= 0 {
			return
		}
		delete(m.entries, k)
		target--
	}
}
