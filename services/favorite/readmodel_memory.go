package favorite

import (
	"context"
	"sync"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
)

// MemoryReadModel is the ReadModel in process memory, for the embedded mode (one process,
// SQLite, no Redis): it lets that mode take the same service code path as production instead
// of reading every like and counter from SQL on every feed. Every method mirrors the
// RedisReadModel method of the same name, and every method is one step under one lock, the
// in-process equivalent of one Lua script. With a single process there is no other instance
// to race with, so the read model is exact within the process except for the read/commit
// races described on ReadModel, which the TTLs bound. Its contents die with the process; that
// is fine because SQL is the truth and every piece is reloaded from SQL on a miss.
//
// State, each kind bounded by maxEntries keys (see cache.Bounded):
//
//	liked   user  → the set of liked video ids; present means loaded from SQL (fav:u:{user})
//	videos  video → favorite_count (fav:v:{video})
//	stats   user  → favorite_count, total_favorited (fav:s:{user})
//	lastSeq the last seq handed out, in microseconds (fav:seq)
//	pendingVideos video → delta not yet committed (fav:pv:{video})
//	pendingStats  user → deltas not yet committed (fav:pu:{user})
//	lastSteps     (user, video) → seq of the user's last step that changed it, µs (fav:q:{user})
type MemoryReadModel struct {
	mu            sync.RWMutex
	liked         *cache.Bounded[int64, map[int64]struct{}]
	videos        *cache.Bounded[int64, int64]
	stats         *cache.Bounded[int64, memoryStats]
	pendingVideos *cache.Bounded[int64, int64]
	pendingStats  *cache.Bounded[int64, memoryStats]
	lastSteps     *cache.Bounded[likePair, int64]
	lastSeq       int64
	setTTL        time.Duration
	counterTTL    time.Duration
}

// memoryStats is one user's cached counters (the Redis hash fav:s:{user}).
type memoryStats struct {
	favoriteCount, totalFavorited int64
}

var _ ReadModel = (*MemoryReadModel)(nil)

// NewMemoryReadModel returns an empty read model. Liked sets live setTTL and counters
// counterTTL, both with jitter; an action renews its user's set, and a TTL that is not
// positive keeps entries until they are evicted. Each kind holds at most maxEntries keys (at
// least 1): when full, a write drops expired entries first, then arbitrary ones.
func NewMemoryReadModel(setTTL, counterTTL time.Duration, maxEntries int) *MemoryReadModel {
	return &MemoryReadModel{
		liked:  cache.NewBounded[int64, map[int64]struct{}](maxEntries),
		videos: cache.NewBounded[int64, int64](maxEntries),
		stats:  cache.NewBounded[int64, memoryStats](maxEntries),
		// Pending deltas are bounded like the rest: one evicted early is a flush of it.
		pendingVideos: cache.NewBounded[int64, int64](maxEntries),
		pendingStats:  cache.NewBounded[int64, memoryStats](maxEntries),
		lastSteps:     cache.NewBounded[likePair, int64](maxEntries),
		setTTL:        setTTL,
		counterTTL:    counterTTL,
	}
}

// Apply is applyScript: nothing happens unless the user's set is cached; the set is changed
// and its lifetime renewed; the step gets a seq whether or not it changed anything (its event
// is still published); and only if the set changed do the cached counters move, in place and
// keeping their expiry, and the pending deltas with them. A counter that is not cached is not created: from a delta it would be
// a wrong absolute value.
func (m *MemoryReadModel) Apply(_ context.Context, c Change) (Applied, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set, ok := m.liked.Get(c.UserID)
	if !ok {
		return Applied{}, ErrNotLoaded
	}
	_, had := set[c.VideoID]
	changed := had != c.Liked
	if changed {
		if c.Liked {
			set[c.VideoID] = struct{}{}
		} else {
			delete(set, c.VideoID)
		}
	}
	m.liked.Put(c.UserID, set, cache.TTL(m.setTTL))
	// Microseconds like Redis TIME, pushed past the last one so it strictly increases even if
	// the clock steps back; returned in nanoseconds, the unit of the service's own seqs.
	seq := max(m.lastSeq+1, time.Now().UnixMicro())
	m.lastSeq = seq
	if !changed {
		return Applied{Seq: seq * 1000}, nil
	}
	m.lastSteps.Put(likePair{c.UserID, c.VideoID}, seq, cache.TTL(m.setTTL))
	d := int64(1)
	if !c.Liked {
		d = -1
	}
	if n, ok := m.videos.Get(c.VideoID); ok {
		m.videos.Replace(c.VideoID, n+d)
	}
	// One user after the other, so the step stays right when users like their own videos.
	if s, ok := m.stats.Get(c.UserID); ok {
		s.favoriteCount += d
		m.stats.Replace(c.UserID, s)
	}
	if s, ok := m.stats.Get(c.AuthorID); ok {
		s.totalFavorited += d
		m.stats.Replace(c.AuthorID, s)
	}
	ttl := cache.TTL(m.setTTL)
	n, _ := m.pendingVideos.Get(c.VideoID)
	m.pendingVideos.Put(c.VideoID, n+d, ttl)
	p, _ := m.pendingStats.Get(c.UserID)
	p.favoriteCount += d
	m.pendingStats.Put(c.UserID, p, ttl)
	p, _ = m.pendingStats.Get(c.AuthorID)
	p.totalFavorited += d
	m.pendingStats.Put(c.AuthorID, p, ttl)
	return Applied{Changed: true, Seq: seq * 1000}, nil
}

// FillLiked caches the user's set unless one is cached (an empty set is cached too).
func (m *MemoryReadModel) FillLiked(_ context.Context, userID int64, videoIDs []int64) error {
	// Built before taking the lock: a set can hold thousands of ids, and it is private to
	// this call until it is stored.
	set := make(map[int64]struct{}, len(videoIDs))
	for _, id := range videoIDs {
		set[id] = struct{}{}
	}
	m.mu.Lock()
	m.liked.PutAbsent(userID, set, cache.TTL(m.setTTL))
	m.mu.Unlock()
	return nil
}

// Liked copies the user's cached set and the last steps of its members. (Redis also returns
// the steps of videos no longer in the set; the caller ignores those.)
func (m *MemoryReadModel) Liked(_ context.Context, userID int64) (LikedSet, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	set, ok := m.liked.Get(userID)
	if !ok {
		return LikedSet{}, false, nil
	}
	out := LikedSet{Videos: make([]int64, 0, len(set))}
	for id := range set {
		out.Videos = append(out.Videos, id)
		if seq, ok := m.lastSteps.Get(likePair{userID, id}); ok {
			if out.LastStep == nil {
				out.LastStep = map[int64]int64{}
			}
			out.LastStep[id] = seq
		}
	}
	return out, true, nil
}

// VideoFavorites reads the counts and, when the viewer's set is cached, which of the videos
// the viewer likes. It allocates only the result.
func (m *MemoryReadModel) VideoFavorites(_ context.Context, viewerID int64, videoIDs []int64) (CachedVideoFavorites, error) {
	out := CachedVideoFavorites{Counts: make(map[int64]int64, len(videoIDs))}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out.MissingCounts = m.videos.Lookup(videoIDs, func(id, n int64) { out.Counts[id] = n })
	for _, id := range out.MissingCounts {
		if d, ok := m.pendingVideos.Get(id); ok && d != 0 {
			if out.PendingCounts == nil {
				out.PendingCounts = map[int64]int64{}
			}
			out.PendingCounts[id] = d
		}
	}
	if viewerID > 0 {
		if set, ok := m.liked.Get(viewerID); ok {
			out.LikedLoaded = true
			out.Liked = make(map[int64]bool, min(len(videoIDs), len(set)))
			for _, id := range videoIDs {
				if _, liked := set[id]; liked {
					out.Liked[id] = true
				}
			}
		}
	}
	return out, nil
}

// FillVideoCounts caches each count unless one is cached: a cached count was loaded earlier
// and moved by every step since, so it is newer than this SQL read.
func (m *MemoryReadModel) FillVideoCounts(_ context.Context, counts map[int64]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, n := range counts {
		d, _ := m.pendingVideos.Get(id)
		m.videos.PutAbsent(id, n+d, cache.TTL(m.counterTTL))
	}
	return nil
}

// UserStats reads every user's counters; the users without cached counters are missing, and
// their pending deltas are returned.
func (m *MemoryReadModel) UserStats(_ context.Context, userIDs []int64) (map[int64]UserCount, []int64, map[int64]UserCount, error) {
	found := make(map[int64]UserCount, len(userIDs))
	m.mu.RLock()
	defer m.mu.RUnlock()
	missing := m.stats.Lookup(userIDs, func(id int64, s memoryStats) {
		found[id] = UserCount{UserID: id, FavoriteCount: s.favoriteCount, TotalFavorited: s.totalFavorited}
	})
	var pending map[int64]UserCount
	for _, id := range missing {
		if p, ok := m.pendingStats.Get(id); ok && p != (memoryStats{}) {
			if pending == nil {
				pending = map[int64]UserCount{}
			}
			pending[id] = UserCount{UserID: id, FavoriteCount: p.favoriteCount, TotalFavorited: p.totalFavorited}
		}
	}
	return found, missing, pending, nil
}

// FillUserStats caches each user's counters unless they are cached.
func (m *MemoryReadModel) FillUserStats(_ context.Context, stats map[int64]UserCount) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, c := range stats {
		p, _ := m.pendingStats.Get(id)
		m.stats.PutAbsent(id, memoryStats{favoriteCount: c.FavoriteCount + p.favoriteCount, totalFavorited: c.TotalFavorited + p.totalFavorited}, cache.TTL(m.counterTTL))
	}
	return nil
}

// Settle is settleScript: the user's membership is set if the set is cached (its lifetime
// unchanged) and took no newer step on the pair, the counters c moved are dropped so their next read loads the committed
// values, and c is taken off the pending deltas that exist.
func (m *MemoryReadModel) Settle(_ context.Context, c Change, seq int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	last, _ := m.lastSteps.Get(likePair{c.UserID, c.VideoID})
	if set, ok := m.liked.Get(c.UserID); ok && seq/1000 >= last {
		if c.Liked {
			set[c.VideoID] = struct{}{}
		} else {
			delete(set, c.VideoID)
		}
	}
	m.videos.Delete(c.VideoID)
	m.stats.Delete(c.UserID)
	m.stats.Delete(c.AuthorID)
	// Only deltas that exist move: after an eviction a commit must not create one.
	d := int64(-1)
	if !c.Liked {
		d = 1
	}
	if n, ok := m.pendingVideos.Get(c.VideoID); ok {
		m.pendingVideos.Replace(c.VideoID, n+d)
	}
	if p, ok := m.pendingStats.Get(c.UserID); ok {
		p.favoriteCount += d
		m.pendingStats.Replace(c.UserID, p)
	}
	if p, ok := m.pendingStats.Get(c.AuthorID); ok {
		p.totalFavorited += d
		m.pendingStats.Replace(c.AuthorID, p)
	}
	return nil
}

// Forget drops the user's set and the counters c touches.
func (m *MemoryReadModel) Forget(_ context.Context, c Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.liked.Delete(c.UserID)
	m.videos.Delete(c.VideoID)
	m.stats.Delete(c.UserID)
	m.stats.Delete(c.AuthorID)
	m.pendingVideos.Delete(c.VideoID)
	m.pendingStats.Delete(c.UserID)
	m.pendingStats.Delete(c.AuthorID)
	m.lastSteps.Delete(likePair{c.UserID, c.VideoID})
	return nil
}
