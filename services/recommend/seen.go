package recommend

import "context"

// SeenStore remembers which videos were returned to each viewer, so that pages continue
// rather than repeat. The Redis store is shared by every recommend instance: a viewer's next
// page may be served by another one.
type SeenStore interface {
	// Take examines candidates in order and returns the first limit of them not returned to
	// viewer since cutoff (Unix ms), recording them as returned at now. It stops examining at
	// the limit-th pick.
	Take(ctx context.Context, viewer int64, candidates []int64, limit int, now, cutoff int64) ([]int64, error)
	// Seen calls rank with the videos returned to viewer since cutoff. The set is valid only
	// during the call and must not be changed; the in-process store lends its own (no copy of
	// up to MaxSeen ids per ranking), so rank must not call the store.
	Seen(ctx context.Context, viewer, cutoff int64, rank func(seen *idSet)) error
	// Reset forgets everything returned to viewer: the catalogue was exhausted.
	Reset(ctx context.Context, viewer int64) error
}
