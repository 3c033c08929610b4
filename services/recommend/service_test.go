package recommend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	recommendapi "github.com/douyin-backend/douyin/kitex_gen/recommend"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
	"github.com/douyin-backend/douyin/services/comment"
	"github.com/douyin-backend/douyin/services/favorite"
	"github.com/douyin-backend/douyin/services/relation"
	"github.com/douyin-backend/douyin/services/video"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newService(t *testing.T, cfg Config, source Source) *Service {
	t.Helper()
	now := int64(testNow)
	return newServiceAt(t, cfg, source, &now)
}

// newServiceAt is newService with its clock reading *now (Unix ms), which the test moves.
func newServiceAt(t *testing.T, cfg Config, source Source, now *int64) *Service {
	t.Helper()
	s, err := New(context.Background(), cfg, source, WithLogger(quietLog()),
		withClock(func() int64 { return *now }), WithState(NewMemoryState(NewModel(testNow))))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func recommendIDs(t *testing.T, s *Service, viewer int64) []int64 {
	t.Helper()
	resp, err := s.Recommend(context.Background(), &recommendapi.RecommendRequest{ViewerId: viewer})
	if err != nil {
		t.Fatal(err)
	}
	if resp.VideoIds == nil {
		t.Fatal("nil video_ids")
	}
	return resp.VideoIds
}

func publish(t *testing.T, q *mq.Memory, topic string, event any) {
	t.Helper()
	body, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Publish(context.Background(), topic, "k", body); err != nil {
		t.Fatal(err)
	}
}

// TestEventsReachTheRanking: events on the queue change the next ranking at once (a like is
// required to count within 10 s; in process it counts before the like is acknowledged).
func TestEventsReachTheRanking(t *testing.T) {
	s := newService(t, DefaultConfig(), nil)
	q := mq.NewMemory()
	if err := s.Subscribe(q); err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 4; id++ {
		publish(t, q, mq.TopicActivity, event.ActivityEvent{Kind: event.ActivityVideoReady, VideoId: id, AuthorId: 100 + id, At: testNow - dayMillis})
	}
	// Users 10 and 11 like 1 and 2; viewer 12 then likes 1: 2 must lead viewer 12's page.
	for _, u := range []int64{10, 11} {
		for _, v := range []int64{1, 2} {
			publish(t, q, mq.TopicFavorite, event.LikeEvent{UserId: u, VideoId: v, Liked: true, Seq: 1, At: testNow})
		}
	}
	// Video 3 is popular through comments.
	for c := int64(1); c <= 5; c++ {
		publish(t, q, mq.TopicActivity, event.ActivityEvent{Kind: event.ActivityCommentAdded, UserId: 20, VideoId: 3, CommentId: c, At: testNow})
	}
	// A first page caches viewer 12's ranking; their like must make it stale at once.
	if got := recommendIDs(t, s, 12); len(got) != 4 {
		t.Fatalf("viewer 12 before any like: %v, want all 4 videos", got)
	}
	if err := s.seen.Reset(context.Background(), 12); err != nil { // forget the page, keep the cached ranking
		t.Fatal(err)
	}
	publish(t, q, mq.TopicFavorite, event.LikeEvent{UserId: 12, VideoId: 1, Liked: true, Seq: 1, At: testNow})
	if got := recommendIDs(t, s, 12); len(got) != 3 || got[0] != 2 || slices.Contains(got, 1) {
		t.Errorf("viewer 12 after liking 1: %v, want 2 first and 1 left out", got)
	}
	// Malformed and unknown events are dropped without an error (redelivery cannot fix them).
	for _, body := range []string{"{", `{"kind":"nope"}`} {
		if err := q.Publish(context.Background(), mq.TopicActivity, "k", []byte(body)); err != nil {
			t.Errorf("publishing %q: %v, want it dropped", body, err)
		}
	}
	if err := q.Publish(context.Background(), mq.TopicFavorite, "k", []byte("[]")); err != nil {
		t.Errorf("malformed like: %v, want it dropped", err)
	}
}

// TestSeenSetContinuesThenStartsOver: pages do not repeat within the window; when every
// candidate was shown the seen-set starts over; after the window everything is new again.
func TestSeenSetContinuesThenStartsOver(t *testing.T) {
	s := newService(t, Config{SeenWindow: time.Hour, MaxSeen: 1000}, nil)
	for id := int64(1); id <= 70; id++ {
		s.Model().AddVideo(id, 1000, testNow-id*1000)
	}
	seen := map[int64]bool{}
	for page := range 2 {
		got := recommendIDs(t, s, 5)
		if len(got) != 30 {
			t.Fatalf("page %d: %d videos, want 30", page, len(got))
		}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("page %d repeats video %d within the seen window", page, id)
			}
			seen[id] = true
		}
	}
	// 10 unseen remain: the page holds them, then starts over for the other 20.
	third := recommendIDs(t, s, 5)
	var fresh int
	for _, id := range third {
		if !seen[id] {
			fresh++
		}
	}
	if len(third) != 30 || fresh != 10 || !slices.Equal(third[:10], filter(third[:10], func(id int64) bool { return !seen[id] })) {
		t.Errorf("third page %v: want the 10 unseen videos first, then 20 from the start over", third)
	}
	// Starting over keeps the viewer's taste scores: the next page ranks with them, a moment
	// later, instead of walking the viewer's taste again.
	r := s.rankings.of(5, testNow)
	tasteAt := r.tasteAt
	s.now = func() int64 { return testNow + 1 }
	fourth := recommendIDs(t, s, 5)
	if len(fourth) != 30 || slices.ContainsFunc(fourth, func(id int64) bool { return slices.Contains(third, id) }) {
		t.Errorf("fourth page %v repeats the third page %v", fourth, third)
	}
	if r.tasteAt != tasteAt {
		t.Errorf("the page after starting over walked the viewer's taste again (at %d, before %d)", r.tasteAt, tasteAt)
	}
	s.now = func() int64 { return testNow }
	// Another viewer is unaffected, and an anonymous one has no seen-set.
	if got := recommendIDs(t, s, 6); len(got) != 30 || got[0] != 1 {
		t.Errorf("another viewer's first page starts with %v, want video 1 (the freshest)", got[:1])
	}
	if a, b := recommendIDs(t, s, 0), recommendIDs(t, s, 0); !slices.Equal(a, b) {
		t.Errorf("anonymous pages differ: %v vs %v", a, b)
	}
	// After the window, what was seen is offered again.
	s.now = func() int64 { return testNow + time.Hour.Milliseconds() + 1 }
	if got := recommendIDs(t, s, 5); got[0] != 1 {
		t.Errorf("after the window the first video is %d, want 1 again", got[0])
	}
}

func filter(ids []int64, keep func(int64) bool) []int64 {
	var out []int64
	for _, id := range ids {
		if keep(id) {
			out = append(out, id)
		}
	}
	return out
}

func TestRecommendBadInput(t *testing.T) {
	s := newService(t, DefaultConfig(), nil)
	for _, req := range []*recommendapi.RecommendRequest{{ViewerId: -1}, {ViewerId: 1, Limit: -1}} {
		if _, err := s.Recommend(context.Background(), req); !errs.Is(err, base.ErrCode_InvalidParam) {
			t.Errorf("Recommend(%+v) = %v, want InvalidParam", req, err)
		}
	}
	// A viewer with no likes and no follows, and an empty catalogue: an empty page.
	if got := recommendIDs(t, s, 9); len(got) != 0 {
		t.Errorf("empty model: %v, want []", got)
	}
	if _, err := New(context.Background(), Config{}, nil, WithLogger(quietLog())); err == nil {
		t.Error("a zero config was accepted")
	}
}

// TestRecommendAuthors: asked for, each video comes with its author, for a viewer and an
// anonymous one, in a merged call too; not asked for, none come.
func TestRecommendAuthors(t *testing.T) {
	s := newService(t, Config{SeenWindow: time.Hour, MaxSeen: 1000}, nil)
	for id := int64(1); id <= 40; id++ {
		s.Model().AddVideo(id, 1000+id%3, testNow-id*1000)
	}
	ctx := context.Background()
	check := func(name string, page *recommendapi.RecommendResponse) {
		t.Helper()
		if len(page.VideoIds) == 0 || len(page.AuthorIds) != len(page.VideoIds) {
			t.Fatalf("%s: %d videos, %d authors", name, len(page.VideoIds), len(page.AuthorIds))
		}
		for i, id := range page.VideoIds {
			if page.AuthorIds[i] != 1000+id%3 {
				t.Errorf("%s: video %d by %d, want %d", name, id, page.AuthorIds[i], 1000+id%3)
			}
		}
	}
	for _, viewer := range []int64{5, 0} {
		page, err := s.Recommend(ctx, &recommendapi.RecommendRequest{ViewerId: viewer, Limit: 10, WithAuthorIds: true})
		if err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("viewer %d", viewer), page)
	}
	many, err := s.RecommendMany(ctx, &recommendapi.RecommendManyRequest{Requests: []*recommendapi.RecommendRequest{
		{ViewerId: 5, Limit: 10, WithAuthorIds: true}, {ViewerId: 6, Limit: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	check("merged", many.Pages[0])
	if many.Pages[1].AuthorIds != nil {
		t.Errorf("authors not asked for: %v", many.Pages[1].AuthorIds)
	}
}

// TestRecommendMany: each request gets the page Recommend would give, a viewer asking twice
// gets two pages without a repeat, and a bad request refuses the call and changes nothing.
func TestRecommendMany(t *testing.T) {
	s := newService(t, Config{SeenWindow: time.Hour, MaxSeen: 1000}, nil)
	for id := int64(1); id <= 100; id++ {
		s.Model().AddVideo(id, 1000, testNow-id*1000)
	}
	ctx := context.Background()
	bad := []*recommendapi.RecommendRequest{{ViewerId: 7}, {ViewerId: 5, Limit: -1}}
	if _, err := s.RecommendMany(ctx, &recommendapi.RecommendManyRequest{Requests: bad}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("a batch with a bad request = %v, want InvalidParam", err)
	}
	tooMany := make([]*recommendapi.RecommendRequest, MaxManyPages+1)
	for i := range tooMany {
		tooMany[i] = &recommendapi.RecommendRequest{ViewerId: 7}
	}
	if _, err := s.RecommendMany(ctx, &recommendapi.RecommendManyRequest{Requests: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Fatalf("%d requests = %v, want InvalidParam", len(tooMany), err)
	}
	if got := recommendIDs(t, s, 7); got[0] != 1 {
		t.Fatalf("after the refused batches viewer 7's first page starts with %d, want 1: they took pages", got[0])
	}
	resp, err := s.RecommendMany(ctx, &recommendapi.RecommendManyRequest{Requests: []*recommendapi.RecommendRequest{
		{ViewerId: 5}, {ViewerId: 0, Limit: 3}, {ViewerId: 5, Limit: 10}, {ViewerId: 6, Limit: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Pages) != 4 {
		t.Fatalf("%d pages, want 4", len(resp.Pages))
	}
	sizes := []int{30, 3, 10, 2}
	for i, page := range resp.Pages {
		if len(page.VideoIds) != sizes[i] {
			t.Errorf("page %d: %d videos, want %d", i, len(page.VideoIds), sizes[i])
		}
	}
	if both := append(slices.Clone(resp.Pages[0].VideoIds), resp.Pages[2].VideoIds...); len(slices.Compact(slices.Sorted(slices.Values(both)))) != 40 {
		t.Errorf("viewer 5's two pages %v and %v repeat a video", resp.Pages[0].VideoIds, resp.Pages[2].VideoIds)
	}
	if !slices.Equal(resp.Pages[1].VideoIds, []int64{1, 2, 3}) || !slices.Equal(resp.Pages[3].VideoIds, []int64{1, 2}) {
		t.Errorf("anonymous page %v and viewer 6's %v, want [1 2 3] and [1 2] (the freshest)", resp.Pages[1].VideoIds, resp.Pages[3].VideoIds)
	}
	if next := recommendIDs(t, s, 5); slices.ContainsFunc(next, func(id int64) bool {
		return slices.Contains(resp.Pages[0].VideoIds, id) || slices.Contains(resp.Pages[2].VideoIds, id)
	}) {
		t.Errorf("viewer 5's next page %v repeats the batch's pages", next)
	}
}

// TestRebuildFromSQL: an empty model is rebuilt from the committed rows of the four tables.
func TestRebuildFromSQL(t *testing.T) { dbtest.Run(t, testRebuildFromSQL) }

func testRebuildFromSQL(t *testing.T, open dbtest.Opener) {
	gdb := open.Migrated(t, video.Migrate, favorite.Migrate, comment.Migrate, relation.Migrate)
	videos := []video.Video{
		{AuthorID: 100, Title: "a", SourceKey: "s", Status: statusReady, CreatedAt: testNow - dayMillis},
		{AuthorID: 100, Title: "b", SourceKey: "s", Status: statusReady, CreatedAt: testNow - dayMillis},
		{AuthorID: 101, Title: "c", SourceKey: "s", Status: statusReady, CreatedAt: testNow - dayMillis},
		{AuthorID: 101, Title: "processing", SourceKey: "s", Status: int8(videoapi.VideoStatus_Processing), CreatedAt: testNow},
	}
	if err := gdb.Create(&videos).Error; err != nil {
		t.Fatal(err)
	}
	a, b, c := videos[0].ID, videos[1].ID, videos[2].ID
	likes := []favorite.Favorite{
		{UserID: 1, VideoID: a, AuthorID: 100, Liked: true, Seq: 1, UpdatedAt: testNow},
		{UserID: 1, VideoID: b, AuthorID: 100, Liked: true, Seq: 1, UpdatedAt: testNow},
		{UserID: 2, VideoID: a, AuthorID: 100, Liked: true, Seq: 1, UpdatedAt: testNow},
		{UserID: 2, VideoID: c, AuthorID: 101, Liked: false, Seq: 2, UpdatedAt: testNow},
	}
	if err := gdb.Create(&likes).Error; err != nil {
		t.Fatal(err)
	}
	if err := gdb.Create(&[]comment.Comment{{VideoID: c, UserID: 3, Content: "x", CreatedAt: testNow}}).Error; err != nil {
		t.Fatal(err)
	}
	if err := gdb.Create(&[]relation.Follow{{FollowerID: 2, FolloweeID: 101, CreatedAt: testNow}}).Error; err != nil {
		t.Fatal(err)
	}
	s := newService(t, DefaultConfig(), NewSQLSource(gdb))
	st := s.Model().Stats()
	if st.Videos != 3 || st.Likes != 3 {
		t.Fatalf("rebuilt model %+v, want 3 ready videos and 3 current likes", st)
	}
	// User 2 shares a like with user 1, who also likes b: b comes before c.
	if got := recommendIDs(t, s, 2); !slices.Equal(got, []int64{b, c}) {
		t.Errorf("user 2's ranking after the rebuild = %v, want [%d %d]", got, b, c)
	}
}

// TestDeepScrollerRanksDeeper: a viewer who has seen thousands of videos gets rankings deep in
// proportion (one video per seenPerRankedVideo seen), so that walking past what they have seen
// is shared by more pages; their pages still never repeat.
func TestDeepScrollerRanksDeeper(t *testing.T) {
	s := newService(t, DefaultConfig(), nil)
	for v := int64(1); v <= 6000; v++ {
		s.Model().AddVideo(v, 1000, testNow-v*1000)
	}
	const viewer = 7
	served := map[int64]bool{}
	for page := range 110 { // 3300 seen; the ranking after page 100 is made with 3000 seen
		for _, id := range recommendIDs(t, s, viewer) {
			if served[id] {
				t.Fatalf("page %d repeats video %d", page, id)
			}
			served[id] = true
		}
	}
	r := s.rankings.of(viewer, testNow)
	r.mu.Lock()
	defer r.mu.Unlock()
	if want := 3000 / seenPerRankedVideo; len(r.ids) < want || want <= rankDepth {
		t.Errorf("ranking of %d ids after 3000 seen, want at least %d (more than rankDepth %d)", len(r.ids), want, rankDepth)
	}
}

// TestStaleRankingKeepsItsTaste: a ranking stale by rankTTL is made again with the viewer's
// taste scores of up to tasteTTL ago (a viewer reading a page a minute would otherwise pay the
// taste walk on every page); past tasteTTL, or at once after the viewer's own like, the taste
// is walked again.
func TestStaleRankingKeepsItsTaste(t *testing.T) {
	now := int64(testNow)
	s := newServiceAt(t, DefaultConfig(), nil, &now)
	m := s.Model()
	for v := int64(1); v <= 100; v++ {
		m.AddVideo(v, 1000, testNow-v*1000)
	}
	const viewer = 1
	for u := int64(2); u <= 10; u++ { // others who like what the viewer likes, and more
		m.ApplyLike(u, 1, true, 1, testNow)
		m.ApplyLike(u, 10+u, true, 1, testNow)
	}
	m.ApplyLike(viewer, 1, true, 1, testNow)
	walked := func(step string) int64 {
		t.Helper()
		if ids := recommendIDs(t, s, viewer); len(ids) == 0 {
			t.Fatalf("%s: an empty page", step)
		}
		r := s.rankings.of(viewer, now)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.at != now {
			t.Fatalf("%s: the ranking was made at %d, want a new one at %d", step, r.at, now)
		}
		if len(r.taste) == 0 {
			t.Fatalf("%s: no taste scores", step)
		}
		return r.tasteAt
	}
	first := walked("first page")
	now += rankSettle.Milliseconds() + 1
	if got := walked("settling"); got != now {
		t.Errorf("the settling ranking kept the taste of %d, want it walked again at %d", got, now)
	}
	settled := now
	now += rankTTL.Milliseconds() + 1
	if got := walked("stale by rankTTL"); got != settled {
		t.Errorf("a stale ranking walked the taste at %d, want the one of %d kept (first %d)", got, settled, first)
	}
	now = settled + tasteTTL.Milliseconds() + 1
	if got := walked("past tasteTTL"); got != now {
		t.Errorf("past tasteTTL the taste of %d was kept, want it walked again at %d", got, now)
	}
	now += rankTTL.Milliseconds() + 1
	m.ApplyLike(viewer, 12, true, 1, now)
	if got := walked("after the viewer's like"); got != now {
		t.Errorf("after the viewer's own like the taste of %d was kept, want it walked again at %d", got, now)
	}
}

// TestPagesAreRecordedBeforeTheSeenSetIsRead: with the in-process seen store a ranking's
// pages are recorded in bulk, not page by page; a ranking made again from the head, and a
// ranking of a viewer whose last one was dropped, still leave out every video served.
func TestPagesAreRecordedBeforeTheSeenSetIsRead(t *testing.T) {
	now := int64(testNow)
	s := newServiceAt(t, DefaultConfig(), nil, &now)
	for v := int64(1); v <= 2000; v++ {
		s.Model().AddVideo(v, 1000, testNow-v*1000)
	}
	const viewer = 7
	served := map[int64]bool{}
	pages := func(step string, n int) {
		t.Helper()
		for page := range n {
			for _, id := range recommendIDs(t, s, viewer) {
				if served[id] {
					t.Fatalf("%s, page %d: video %d again", step, page, id)
				}
				served[id] = true
			}
		}
	}
	pages("first ranking", 3)
	now += rankTTL.Milliseconds() + 1
	pages("stale ranking, made again from the head", 3)
	now += rankTTL.Milliseconds() + 1
	for v := int64(1000); len(s.rankings.byUser) <= maxRankings; v++ {
		s.rankings.of(v, now) // other viewers, until viewer 7's idle ranking is dropped
	}
	if _, kept := s.rankings.byUser[viewer]; kept {
		t.Fatal("viewer 7's idle ranking was not dropped")
	}
	pages("after the ranking was dropped", 3)
}
