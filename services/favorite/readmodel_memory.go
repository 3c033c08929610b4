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
//	stats   user  → favorite_count, total_favorited (fav:sp:{user})
//	lastSeq the last seq handed out, in microseconds (fav:seq)
//	steps     (user, video) → seq of the user's last step that changed it, µs (fav:q:{user})
//	applied   (user, video) → seq of the newest step applied, changed or not ("a:" fields)
//	settled   (user, video) → the newest committed seq settled, µs ("c:" fields of fav:q:{user})
//	byVideo   video → user → the pair's pending delta (fav:pv:{video})
//	byLiker   user → video → the pair's pending delta (fav:pf:{user})
//	byAuthor  author → pair → the pair's pending delta (fav:pt:{author})
//	videoEpochs, userEpochs  Settles that moved a video's count, a user's counters (fav:ev, fav:es)
//	committingVideos, committingUsers  changes being committed that touch a video, a user
//	        (fav:cv, fav:cs); an entry lives until its count is back to zero
type MemoryReadModel struct {
	mu       sync.RWMutex
	liked    *cache.Bounded[int64, map[int64]struct{}]
	videos   *cache.Bounded[int64, int64]
	stats    *cache.Bounded[int64, memoryStats]
	steps    *cache.Bounded[likePair, int64]
	applied  *cache.Bounded[likePair, int64]
	settled  *cache.Bounded[likePair, int64]
	byVideo  *cache.Bounded[int64, map[int64]int64]
	byLiker  *cache.Bounded[int64, map[int64]int64]
	byAuthor *cache.Bounded[int64, map[likePair]int64]
	// Epochs are bounded too: one evicted reads as zero, which refuses the fills that read it.
	videoEpochs *cache.Bounded[int64, int64]
	userEpochs  *cache.Bounded[int64, int64]
	// committingVideos and committingUsers hold at most the changes of the batches being
	// committed: each Committing is ended by a Settle or a Release.
	committingVideos, committingUsers map[int64]int
	lastSeq                           int64
	setTTL                            time.Duration
	counterTTL                        time.Duration
}

// memoryStats is one user's cached counters (the Redis pair fav:sp:{user}).
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
		// Steps and pending deltas are bounded like the rest: one evicted early is a flush of it.
		steps:            cache.NewBounded[likePair, int64](maxEntries),
		applied:          cache.NewBounded[likePair, int64](maxEntries),
		settled:          cache.NewBounded[likePair, int64](maxEntries),
		byVideo:          cache.NewBounded[int64, map[int64]int64](maxEntries),
		byLiker:          cache.NewBounded[int64, map[int64]int64](maxEntries),
		byAuthor:         cache.NewBounded[int64, map[likePair]int64](maxEntries),
		videoEpochs:      cache.NewBounded[int64, int64](maxEntries),
		userEpochs:       cache.NewBounded[int64, int64](maxEntries),
		committingVideos: map[int64]int{}, committingUsers: map[int64]int{},
		setTTL:     setTTL,
		counterTTL: counterTTL,
	}
}

// Reserve is reserveScript: a seq in microseconds like Redis TIME, pushed past the last one
// so it strictly increases even if the clock steps back, returned in nanoseconds (the unit of
// the service's own seqs); nothing when the user's set is not cached.
func (m *MemoryReadModel) Reserve(_ context.Context, userID int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.liked.Get(userID); !ok {
		return 0, ErrNotLoaded
	}
	seq := max(m.lastSeq+1, time.Now().UnixMicro())
	m.lastSeq = seq
	return seq * 1000, nil
}

// Apply is applyScript: nothing happens unless the user's set is cached; the set's lifetime
// is renewed; a step not newer than the pair's last step or settled commit is stale and
// changes nothing; otherwise the set is changed and only if it changed do the cached counters
// move, in place and keeping their expiry, and the pair's pending delta with them. A counter
// that is not cached is not created: from a delta it would be a wrong absolute value.
func (m *MemoryReadModel) Apply(_ context.Context, c Change, seqNanos int64) (Applied, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set, ok := m.liked.Get(c.UserID)
	if !ok {
		return Applied{}, ErrNotLoaded
	}
	m.liked.Put(c.UserID, set, cache.TTL(m.setTTL))
	pair, seq := likePair{c.UserID, c.VideoID}, seqNanos/1000
	for _, seen := range []*cache.Bounded[likePair, int64]{m.steps, m.applied, m.settled} {
		if newer, ok := seen.Get(pair); ok && seq <= newer {
			return Applied{}, nil
		}
	}
	m.applied.Put(pair, seq, cache.TTL(m.setTTL))
	_, had := set[c.VideoID]
	if had == c.Liked {
		return Applied{}, nil
	}
	if c.Liked {
		set[c.VideoID] = struct{}{}
	} else {
		delete(set, c.VideoID)
	}
	m.steps.Put(pair, seq, cache.TTL(m.setTTL))
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
	m.setPending(c, m.pending(c)+d)
	return Applied{Changed: true}, nil
}

// pending is the pair's pending delta (fav:pv:{video} field user).
func (m *MemoryReadModel) pending(c Change) int64 {
	byUser, _ := m.byVideo.Get(c.VideoID)
	return byUser[c.UserID]
}

// setPending is setPending in the Lua: the pair's delta in the three indexes, dropped at zero
// (as Redis drops a hash's last field, and the hash with it), each index renewed when written.
func (m *MemoryReadModel) setPending(c Change, n int64) {
	ttl := cache.TTL(m.setTTL)
	pair := likePair{c.UserID, c.VideoID}
	setPendingIn(m.byVideo, c.VideoID, c.UserID, n, ttl)
	setPendingIn(m.byLiker, c.UserID, c.VideoID, n, ttl)
	setPendingIn(m.byAuthor, c.AuthorID, pair, n, ttl)
}

func setPendingIn[F comparable](index *cache.Bounded[int64, map[F]int64], key int64, field F, n int64, ttl time.Duration) {
	fields, ok := index.Get(key)
	if n == 0 {
		if ok {
			delete(fields, field)
			if len(fields) == 0 {
				index.Delete(key)
			}
		}
		return
	}
	if !ok {
		fields = map[F]int64{}
	}
	fields[field] = n
	index.Put(key, fields, ttl)
}

// sumPending is sumHash in the Lua.
func sumPending[F comparable](index *cache.Bounded[int64, map[F]int64], key int64) int64 {
	fields, _ := index.Get(key)
	var n int64
	for _, d := range fields {
		n += d
	}
	return n
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
		if seq, ok := m.steps.Get(likePair{userID, id}); ok {
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
func (m *MemoryReadModel) VideoFavorites(_ context.Context, viewerID int64, videoIDs, userIDs []int64) (CachedVideoFavorites, error) {
	out := CachedVideoFavorites{Counts: make(map[int64]int64, len(videoIDs))}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out.Users = m.userStats(userIDs)
	out.MissingCounts = m.videos.Lookup(videoIDs, func(id, n int64) { out.Counts[id] = n })
	for _, id := range out.MissingCounts {
		if e, ok := m.videoEpochs.Get(id); ok && e != 0 {
			if out.Epochs == nil {
				out.Epochs = map[int64]int64{}
			}
			out.Epochs[id] = e
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

// LikedAmong reads the flags from the viewer's cached set, allocating nothing.
func (m *MemoryReadModel) LikedAmong(_ context.Context, viewerID int64, videoIDs []int64, liked []bool) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	set, ok := m.liked.Get(viewerID)
	if !ok {
		return false, nil
	}
	for i, id := range videoIDs {
		_, liked[i] = set[id]
	}
	return true, nil
}

// FillVideoCounts caches each count, SQL's plus the video's pending deltas, unless one is
// cached: a cached count was loaded earlier and moved by every step since, so it is newer
// than this SQL read. It returns the counts now cached.
func (m *MemoryReadModel) FillVideoCounts(_ context.Context, counts, epochs map[int64]int64) (map[int64]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[int64]int64, len(counts))
	for id, n := range counts {
		if e, _ := m.videoEpochs.Get(id); e != epochs[id] || m.committingVideos[id] > 0 {
			continue // a commit settled since the read, or one is under way
		}
		n += sumPending(m.byVideo, id)
		if !m.videos.PutAbsent(id, n, cache.TTL(m.counterTTL)) {
			n, _ = m.videos.Get(id)
		}
		out[id] = n
	}
	return out, nil
}

// UserStats reads every user's counters; the users without cached counters are missing.
func (m *MemoryReadModel) UserStats(_ context.Context, userIDs []int64) (CachedUserStats, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.userStats(userIDs), nil
}

// userStats is UserStats under m.mu.
func (m *MemoryReadModel) userStats(userIDs []int64) CachedUserStats {
	if len(userIDs) == 0 {
		return CachedUserStats{}
	}
	out := CachedUserStats{Found: make(map[int64]UserCount, len(userIDs))}
	out.Missing = m.stats.Lookup(userIDs, func(id int64, s memoryStats) {
		out.Found[id] = UserCount{UserID: id, FavoriteCount: s.favoriteCount, TotalFavorited: s.totalFavorited}
	})
	for _, id := range out.Missing {
		if e, ok := m.userEpochs.Get(id); ok && e != 0 {
			if out.Epochs == nil {
				out.Epochs = map[int64]int64{}
			}
			out.Epochs[id] = e
		}
	}
	return out
}

// FillUserStats caches each user's counters, SQL's plus the user's pending deltas as liker
// and as author, unless they are cached, and returns the counters now cached.
func (m *MemoryReadModel) FillUserStats(_ context.Context, stats map[int64]UserCount, epochs map[int64]int64) (map[int64]UserCount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[int64]UserCount, len(stats))
	for id, c := range stats {
		if e, _ := m.userEpochs.Get(id); e != epochs[id] || m.committingUsers[id] > 0 {
			continue // a commit settled since the read, or one is under way
		}
		s := memoryStats{
			favoriteCount:  c.FavoriteCount + sumPending(m.byLiker, id),
			totalFavorited: c.TotalFavorited + sumPending(m.byAuthor, id),
		}
		if !m.stats.PutAbsent(id, s, cache.TTL(m.counterTTL)) {
			s, _ = m.stats.Get(id)
		}
		out[id] = UserCount{UserID: id, FavoriteCount: s.favoriteCount, TotalFavorited: s.totalFavorited}
	}
	return out, nil
}

// Committing is committingScript.
func (m *MemoryReadModel) Committing(_ context.Context, changes []Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range changes {
		m.committingVideos[c.VideoID]++
		m.committingUsers[c.UserID]++
		m.committingUsers[c.AuthorID]++
	}
	return nil
}

// Release is releaseScript.
func (m *MemoryReadModel) Release(_ context.Context, changes []Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range changes {
		m.committed(c)
	}
	return nil
}

// committed ends one Committing mark of c; the caller holds the lock.
func (m *MemoryReadModel) committed(c Change) {
	countDown(m.committingVideos, c.VideoID)
	countDown(m.committingUsers, c.UserID)
	countDown(m.committingUsers, c.AuthorID)
}

// countDown decrements counts[id], deleting it at zero.
func countDown(counts map[int64]int, id int64) {
	if counts[id] <= 1 {
		delete(counts, id)
		return
	}
	counts[id]--
}

// Settle is settleScript: unless an earlier Settle of the pair saw a newer commit, the
// user's membership takes the committed state if the set is cached and SQL has its every
// step (changed or not), the pair's pending delta becomes set state minus SQL state (with no set, zero once
// SQL has every step), and the counters are dropped when SQL or the delta moved.
func (m *MemoryReadModel) Settle(_ context.Context, c Change, committed Committed) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settle(c, committed)
	return nil
}

// SettleMany runs Settle for each settlement, in order, under one lock: the consumer settles
// a whole batch while request handlers wait for the lock only once.
func (m *MemoryReadModel) SettleMany(_ context.Context, settlements []Settlement) []error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range settlements {
		m.settle(st.Change, st.Committed)
	}
	return make([]error, len(settlements))
}

// settle is Settle's step; the caller holds the lock.
func (m *MemoryReadModel) settle(c Change, committed Committed) {
	m.committed(c)
	pair := likePair{c.UserID, c.VideoID}
	seq := committed.Seq / 1000
	moved := committed.Flipped
	if settled, _ := m.settled.Get(pair); seq >= settled {
		m.settled.Put(pair, seq, cache.TTL(m.setTTL))
		changedAt, _ := m.steps.Get(pair)
		appliedAt, _ := m.applied.Get(pair)
		last := max(changedAt, appliedAt)
		old := m.pending(c)
		n := old
		if set, ok := m.liked.Get(c.UserID); ok {
			if _, had := set[c.VideoID]; seq >= last && had != committed.Liked {
				if committed.Liked {
					set[c.VideoID] = struct{}{}
				} else {
					delete(set, c.VideoID)
				}
				// The commit's step is the pair's newest: it orders the list like a step
				// applied first.
				m.steps.Put(pair, seq, cache.TTL(m.setTTL))
			}
			_, member := set[c.VideoID]
			n = boolCount(member) - boolCount(committed.Liked)
		} else if seq >= last {
			n = 0
		}
		if n != old {
			m.setPending(c, n)
			moved = true
		}
	}
	if moved {
		m.videos.Delete(c.VideoID)
		m.stats.Delete(c.UserID)
		m.stats.Delete(c.AuthorID)
		ttl := cache.TTL(m.setTTL)
		e, _ := m.videoEpochs.Get(c.VideoID)
		m.videoEpochs.Put(c.VideoID, e+1, ttl)
		for _, u := range []int64{c.UserID, c.AuthorID} {
			e, _ := m.userEpochs.Get(u)
			m.userEpochs.Put(u, e+1, ttl)
		}
	}
}

// Forget drops the user's set, the counters c touches, and the pair's pending delta and
// steps.
func (m *MemoryReadModel) Forget(_ context.Context, c Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.liked.Delete(c.UserID)
	m.videos.Delete(c.VideoID)
	m.stats.Delete(c.UserID)
	m.stats.Delete(c.AuthorID)
	m.setPending(c, 0)
	m.steps.Delete(likePair{c.UserID, c.VideoID})
	m.applied.Delete(likePair{c.UserID, c.VideoID})
	m.settled.Delete(likePair{c.UserID, c.VideoID})
	return nil
}

// Sizes reports each map's entries against the bound.
func (m *MemoryReadModel) Sizes() []cache.Size {
	m.mu.RLock()
	defer m.mu.RUnlock()
	size := func(name string, entries, maxEntries int) cache.Size {
		return cache.Size{Name: "fav:" + name, Entries: entries, MaxEntries: maxEntries}
	}
	return []cache.Size{
		size("liked", m.liked.Len(), m.liked.Cap()),
		size("videos", m.videos.Len(), m.videos.Cap()),
		size("stats", m.stats.Len(), m.stats.Cap()),
		size("steps", m.steps.Len(), m.steps.Cap()),
		size("applied", m.applied.Len(), m.applied.Cap()),
		size("settled", m.settled.Len(), m.settled.Cap()),
		size("by-video", m.byVideo.Len(), m.byVideo.Cap()),
		size("by-liker", m.byLiker.Len(), m.byLiker.Cap()),
		size("by-author", m.byAuthor.Len(), m.byAuthor.Cap()),
		size("video-epochs", m.videoEpochs.Len(), m.videoEpochs.Cap()),
		size("user-epochs", m.userEpochs.Len(), m.userEpochs.Cap()),
	}
}
