package recommend

import "context"

// SeenStore remembers which videos were returned to each viewer, so that pages continue
// rather than repeat. The Redis store is shared by every recommend instance: a viewer's next
// page may be served by another one.
//
// A ranking leaves out what its viewer had seen when it was made, so a page cut from it needs
// checking only against what was returned since: the store versions each viewer's record, and
// a Take names the version its candidates left out.
type SeenStore interface {
	// Seen calls rank with the videos returned to viewer since cutoff (Unix ms), and returns
	// the version of the record it read. The set is valid only during the call and must not be
	// changed; the in-process store lends its own (no copy of up to MaxSeen ids per ranking),
	// so rank must not call the store.
	Seen(ctx context.Context, viewer, cutoff int64, rank func(seen *idSet)) (seenVersion, error)
	// Take returns the first limit of candidates not returned to viewer since cutoff, and
	// records them as returned at now. The candidates leave out what was returned up to
	// version since (read by Seen, or returned by the caller's last Take): a store may check
	// them only against what was returned after it. It stops examining at the limit-th pick.
	Take(ctx context.Context, viewer int64, since seenVersion, candidates []int64, limit int, now, cutoff int64) (taken, error)
	// Reset forgets everything returned to viewer: the catalogue was exhausted.
	Reset(ctx context.Context, viewer int64) error
}

// seenVersion identifies a state of one viewer's seen record; 0 names none, so a Take naming
// it is checked against everything (and may be behind).
type seenVersion int64

// taken is what a Take returned and learned.
type taken struct {
	ids []int64
	// version is the record's after the Take: the caller's next Take names it.
	version seenVersion
	// others are the videos returned to the viewer elsewhere (another instance) since the
	// version the Take named; a ranking leaves them out from its remaining candidates before
	// naming the new version.
	others []int64
	// behind: more was returned since that version than the store keeps apart (or it was
	// forgotten); nothing was taken, and the caller ranks again from a fresh Seen.
	behind bool
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
