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

// exclusiveSeen is a SeenStore that only this process writes (the in-process one). A
// ranking's pages then need no Take: the ranking left out what was seen, and only pages cut
// from it are served meanwhile. Their ids are recorded in bulk before the store is read again
// (the next ranking) or the ranking is dropped: the viewer's set is warmed once for a whole
// ranking's pages instead of missing the cache on every page.
type exclusiveSeen interface {
	SeenStore
	// Record records ids as returned to viewer, page by page, oldest first: page i is
	// ids[pages[i-1].end:pages[i].end] (from 0 for the first), returned at pages[i].at.
	Record(viewer int64, ids []int64, pages []pageEnd)
}

// pageEnd is where a page of a ranking ends, and when it was returned.
type pageEnd struct {
	end int
	at  int64
}
