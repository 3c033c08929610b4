package comment

import (
	"sync"
	"time"

	"github.com/douyin-backend/douyin/internal/cache"
	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
)

// ListCache keeps the comment lists of videos in process memory, for the embedded mode, where
// this process owns every comment write: a list then costs no SQL query until a post or delete
// on its video drops it. It holds at most maxComments comments in all (lists are dropped
// arbitrarily to make room), each list for a jittered ttl.
//
// A list read from SQL is stored only if no write on its video finished since the read began
// (see begin): otherwise a read that raced a post could store the list without the post and
// hide it from its author's next read.
type ListCache struct {
	mu          sync.Mutex
	lists       map[int64]cachedList
	held        int // comments in lists
	maxComments int
	ttl         time.Duration
	now         func() time.Time
	// reads holds, for each video with a list being read from SQL, the fill the readers
	// share; a write marks it stale.
	reads map[int64]*listFill
}

type cachedList struct {
	comments []*commentapi.CommentRecord
	expires  time.Time
}

// listFill is the pending fill of one video's list by the readers that began before any
// write on the video ended.
type listFill struct {
	stale   bool
	readers int
}

// NewListCache returns an empty cache of at most maxComments comments (at least 1) whose
// lists live ttl with jitter.
func NewListCache(ttl time.Duration, maxComments int) *ListCache {
	return &ListCache{
		lists: map[int64]cachedList{}, reads: map[int64]*listFill{},
		maxComments: max(1, maxComments), ttl: ttl, now: time.Now,
	}
}

// get returns the cached list of the video. Its records are shared by every reader: nobody
// may change them.
func (c *ListCache) get(videoID int64) ([]*commentapi.CommentRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.lists[videoID]
	if !ok || c.now().After(l.expires) {
		return nil, false
	}
	return l.comments, true
}

// begin registers a read of the video's list from SQL; the list read is then offered to
// fill, which stores it only if no write on the video ended in between.
func (c *ListCache) begin(videoID int64) *listFill {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.reads[videoID]
	if f == nil {
		f = &listFill{}
		c.reads[videoID] = f
	}
	f.readers++
	return f
}

// fill ends a read begun with begin, storing its list unless a write made it stale (a nil
// list, from a failed read, is not stored).
func (c *ListCache) fill(videoID int64, f *listFill, comments []*commentapi.CommentRecord, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.readers--
	if f.readers == 0 && c.reads[videoID] == f {
		delete(c.reads, videoID)
	}
	if !ok || f.stale || len(comments) > c.maxComments {
		return
	}
	c.drop(videoID)
	for id := range c.lists {
		if c.held+len(comments) <= c.maxComments {
			break
		}
		c.drop(id) // arbitrary: map order
	}
	c.lists[videoID] = cachedList{comments: comments, expires: c.now().Add(cache.TTL(c.ttl))}
	c.held += len(comments)
}

// forget drops the video's list and refuses the fills of reads under way: called after every
// write on the video, whether or not it committed.
func (c *ListCache) forget(videoID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(videoID)
	if f := c.reads[videoID]; f != nil {
		f.stale = true
		delete(c.reads, videoID) // reads begun from now on see the write
	}
}

func (c *ListCache) drop(videoID int64) {
	if l, ok := c.lists[videoID]; ok {
		c.held -= len(l.comments)
		delete(c.lists, videoID)
	}
}

// Sizes reports the comments held against the bound (nothing for a nil cache: the Redis
// backend has none).
func (c *ListCache) Sizes() []cache.Size {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return []cache.Size{{Name: "comment:lists", Entries: c.held, MaxEntries: c.maxComments}}
}
