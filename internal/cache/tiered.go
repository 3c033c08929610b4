package cache

import "context"

// RecordStore is a record cache by id: Records, LocalRecords and the services' own typed
// caches all have this shape.
type RecordStore[T any] interface {
	MGet(ctx context.Context, ids []int64) (found map[int64]T, missing []int64, err error)
	MSet(ctx context.Context, records []T) error
	Delete(ctx context.Context, ids []int64) error
}

// Tiered puts a small in-process cache (local) in front of the shared one (Redis), for
// records that never change once cached: ready videos, user profiles. A hit costs no round
// trip and no decoding. Delete reaches only this process's local tier, which is why only
// immutable records may be kept here: another replica may hold its copy until it expires.
type Tiered[T any] struct {
	local, shared RecordStore[T]
}

// NewTiered reads local first, then shared for the misses, keeping what shared had in local.
func NewTiered[T any](local, shared RecordStore[T]) *Tiered[T] {
	return &Tiered[T]{local: local, shared: shared}
}

// MGet returns the records found in either tier and the ids found in neither.
func (t *Tiered[T]) MGet(ctx context.Context, ids []int64) (map[int64]T, []int64, error) {
	found, missing, err := t.local.MGet(ctx, ids)
	if err != nil || len(missing) == 0 {
		return found, missing, err
	}
	fromShared, missing, err := t.shared.MGet(ctx, missing)
	if err != nil {
		return nil, nil, err
	}
	if len(fromShared) > 0 {
		recs := make([]T, 0, len(fromShared))
		for id, rec := range fromShared {
			found[id] = rec
			recs = append(recs, rec)
		}
		if err := t.local.MSet(ctx, recs); err != nil {
			return nil, nil, err
		}
	}
	return found, missing, nil
}

// MSet writes both tiers.
func (t *Tiered[T]) MSet(ctx context.Context, records []T) error {
	if err := t.shared.MSet(ctx, records); err != nil {
		return err
	}
	return t.local.MSet(ctx, records)
}

// Delete drops the records from both tiers (the local tier of this process only).
func (t *Tiered[T]) Delete(ctx context.Context, ids []int64) error {
	if err := t.local.Delete(ctx, ids); err != nil {
		return err
	}
	return t.shared.Delete(ctx, ids)
}
