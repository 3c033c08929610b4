package comment

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	commentapi "github.com/douyin-backend/douyin/kitex_gen/comment"
)

// countingStore counts the list reads that reach the store.
type countingStore struct {
	Store
	lists atomic.Int64
}

func (c *countingStore) ListComments(ctx context.Context, videoID int64, limit int) ([]Comment, error) {
	c.lists.Add(1)
	return c.Store.ListComments(ctx, videoID, limit)
}

func listIDs(t *testing.T, s *Service, videoID int64) []int64 {
	t.Helper()
	resp, err := s.ListComments(context.Background(), &commentapi.ListCommentsRequest{VideoId: videoID})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(resp.Comments))
	for i, c := range resp.Comments {
		out[i] = c.Id
	}
	return out
}

func TestListCacheServesListsAndDropsThemOnWrites(t *testing.T) {
	s, _ := newService(t, WithListCache(NewListCache(time.Hour, 1000)))
	store := &countingStore{Store: s.store}
	s.store = store
	first := post(t, s, 1, 10, "first")
	if got := listIDs(t, s, 10); len(got) != 1 || got[0] != first.Id {
		t.Fatalf("list %v, want [%d]", got, first.Id)
	}
	listIDs(t, s, 10)
	if n := store.lists.Load(); n != 1 {
		t.Fatalf("%d store reads for two lists, want 1 (the second from the cache)", n)
	}
	// The author sees a post on the next read, then its delete.
	second := post(t, s, 2, 10, "second")
	if got := listIDs(t, s, 10); len(got) != 2 || got[0] != second.Id {
		t.Fatalf("list after a post %v, want [%d %d]", got, second.Id, first.Id)
	}
	if _, err := s.DeleteComment(context.Background(), &commentapi.DeleteCommentRequest{UserId: 2, VideoId: 10, CommentId: second.Id}); err != nil {
		t.Fatal(err)
	}
	if got := listIDs(t, s, 10); len(got) != 1 || got[0] != first.Id {
		t.Fatalf("list after a delete %v, want [%d]", got, first.Id)
	}
	if n := store.lists.Load(); n != 3 {
		t.Fatalf("%d store reads, want 3 (one after each write)", n)
	}
}

func TestListCacheRefusesAFillThatRacedAWrite(t *testing.T) {
	c := NewListCache(time.Hour, 1000)
	stale := []*commentapi.CommentRecord{{Id: 1}}
	read := c.begin(10)
	c.forget(10) // a post committed while the list was read
	c.fill(10, read, stale, true)
	if got, ok := c.get(10); ok {
		t.Fatalf("cached %v read before a write that ended before its fill", got)
	}
	// A read begun after the write stores its list; one that failed stores nothing.
	fresh := []*commentapi.CommentRecord{{Id: 2}, {Id: 1}}
	c.fill(10, c.begin(10), fresh, true)
	if got, ok := c.get(10); !ok || len(got) != 2 {
		t.Fatalf("get = %v, %v; want the list read after the write", got, ok)
	}
	c.forget(10)
	c.fill(10, c.begin(10), nil, false)
	if _, ok := c.get(10); ok {
		t.Fatal("a failed read was cached")
	}
	if len(c.reads) != 0 {
		t.Fatalf("%d reads still registered after every fill", len(c.reads))
	}
}

func TestListCacheBoundsCommentsAndExpires(t *testing.T) {
	c := NewListCache(time.Minute, 3)
	now := time.Unix(1_000, 0)
	c.now = func() time.Time { return now }
	two := []*commentapi.CommentRecord{{Id: 1}, {Id: 2}}
	c.fill(10, c.begin(10), two, true)
	c.fill(20, c.begin(20), two, true)
	if c.held > 3 || len(c.lists) != 1 {
		t.Fatalf("held %d comments in %d lists, want at most 3 in 1", c.held, len(c.lists))
	}
	if _, ok := c.get(20); !ok {
		t.Fatal("the newest list was dropped to make room instead of an older one")
	}
	c.fill(30, c.begin(30), []*commentapi.CommentRecord{{Id: 1}, {Id: 2}, {Id: 3}, {Id: 4}}, true)
	if _, ok := c.get(30); ok || c.held > 3 {
		t.Fatalf("a list longer than the whole budget was cached (held %d)", c.held)
	}
	now = now.Add(2 * time.Minute) // past the ttl and its jitter
	if _, ok := c.get(20); ok {
		t.Fatal("an expired list was served")
	}
}
