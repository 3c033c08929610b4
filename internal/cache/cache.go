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

// Memory is the in-process cache, bounded by maxEntries (see Bounded).
type Memory struct {
	mu      sync.Mutex
	entries *Bounded[string, string]
}

// NewMemory returns an in-process cache holding at most maxEntries keys.
func NewMemory(maxEntries int) *Memory {
	return &Memory{entries: NewBounded[string, string](maxEntries)}
}

// Get returns the live value of key.
func (m *Memory) Get(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	v, ok := m.entries.Get(key)
	m.mu.Unlock()
	return v, ok, nil
}

// Set stores value for ttl (0: no expiry).
func (m *Memory) Set(_ context.Context, key, value string, ttl time.Duration) error {
	m.mu.Lock()
	m.entries.Put(key, value, ttl)
	m.mu.Unlock()
	return nil
}

// SetIfGreater stores value unless a larger live value is already there.
func (m *Memory) SetIfGreater(_ context.Context, key string, value int64, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.entries.Get(key); ok {
		if n, err := parseInt(cur); err == nil && n > value {
			return nil
		}
	}
	m.entries.Put(key, formatInt(value), ttl)
	return nil
}

// Delete removes key.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	m.entries.Delete(key)
	m.mu.Unlock()
	return nil
}
