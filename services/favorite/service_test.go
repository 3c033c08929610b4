package favorite

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/ids"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

// fakeVideos knows a fixed set of ready videos: video id → author id.
type fakeVideos struct {
	videoapi.VideoService // other methods are not used and panic if called
	authors               map[int64]int64
}

func (f fakeVideos) MGetVideos(_ context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	out := map[int64]*videoapi.VideoRecord{}
	for _, id := range req.VideoIds {
		if author, ok := f.authors[id]; ok {
			out[id] = &videoapi.VideoRecord{Id: id, AuthorId: author, Status: videoapi.VideoStatus_Ready}
		}
	}
	return &videoapi.MGetVideosResponse{Videos: out}, nil
}

// failingQueue refuses every message, like a broker that is down.
type failingQueue struct{}

func (failingQueue) Publish(context.Context, string, string, []byte) error {
	return errors.New("broker down")
}

// capturingQueue keeps the published bodies without delivering them.
type capturingQueue struct {
	keys   []string
	bodies [][]byte
}

func (q *capturingQueue) Publish(_ context.Context, _ string, key string, body []byte) error {
	q.keys = append(q.keys, key)
	q.bodies = append(q.bodies, body)
	return nil
}

// Videos 10 and 11 belong to user 2, video 20 to user 3.
var testVideos = fakeVideos{authors: map[int64]int64{10: 2, 11: 2, 20: 3}}

// newService wires the service to the in-process queue, which delivers synchronously.
func newService(t *testing.T) (*Service, *gorm.DB) {
	t.Helper()
	gdb := openDB(t)
	q := mq.NewMemory()
	s := New(NewSQLStore(gdb), testVideos, q)
	if err := s.Subscribe(q); err != nil {
		t.Fatal(err)
	}
	return s, gdb
}

func act(t *testing.T, s *Service, user, video int64, action favoriteapi.FavoriteActionType) {
	t.Helper()
	if _, err := s.FavoriteAction(context.Background(), &favoriteapi.FavoriteActionRequest{UserId: user, VideoId: video, ActionType: action}); err != nil {
		t.Fatal(err)
	}
}

func TestFavoriteActionValidation(t *testing.T) {
	q := &capturingQueue{}
	s := New(NewSQLStore(openDB(t)), testVideos, q)
	cases := []struct {
		name string
		req  *favoriteapi.FavoriteActionRequest
		code base.ErrCode
		msg  string
	}{
		{"no user", &favoriteapi.FavoriteActionRequest{VideoId: 10, ActionType: favoriteapi.FavoriteActionType_Like}, base.ErrCode_InvalidParam, "user_id must be a positive integer"},
		{"no video", &favoriteapi.FavoriteActionRequest{UserId: 1, ActionType: favoriteapi.FavoriteActionType_Like}, base.ErrCode_InvalidParam, "video_id must be a positive integer"},
		{"bad action", &favoriteapi.FavoriteActionRequest{UserId: 1, VideoId: 10, ActionType: 3}, base.ErrCode_InvalidParam, "action_type must be 1 (like) or 2 (unlike)"},
		{"no action", &favoriteapi.FavoriteActionRequest{UserId: 1, VideoId: 10}, base.ErrCode_InvalidParam, "action_type must be 1 (like) or 2 (unlike)"},
		{"unknown video", &favoriteapi.FavoriteActionRequest{UserId: 1, VideoId: 99, ActionType: favoriteapi.FavoriteActionType_Like}, base.ErrCode_VideoNotFound, "video not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.FavoriteAction(context.Background(), tc.req)
			if code, msg := errs.Code(err); code != tc.code || msg != tc.msg {
				t.Fatalf("FavoriteAction = %v %q, want %v %q", code, msg, tc.code, tc.msg)
			}
		})
	}
	if len(q.bodies) != 0 {
		t.Fatalf("rejected requests published %d events", len(q.bodies))
	}
}

func TestFavoriteActionPublishesOrderedEvent(t *testing.T) {
	q := &capturingQueue{}
	s := New(NewSQLStore(openDB(t)), testVideos, q)
	act(t, s, 1, 20, favoriteapi.FavoriteActionType_Like)
	act(t, s, 1, 20, favoriteapi.FavoriteActionType_Unlike)
	if len(q.bodies) != 2 || q.keys[0] != "1:20" || q.keys[1] != "1:20" {
		t.Fatalf("published keys %v, want two events keyed 1:20", q.keys)
	}
	var first, second LikeEvent
	if err := json.Unmarshal(q.bodies[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(q.bodies[1], &second); err != nil {
		t.Fatal(err)
	}
	if first.UserID != 1 || first.VideoID != 20 || first.AuthorID != 3 || !first.Liked || first.At <= 0 {
		t.Fatalf("like event %+v", first)
	}
	if second.Liked || second.Seq <= first.Seq {
		t.Fatalf("unlike event %+v must come with a greater seq than %d", second, first.Seq)
	}
}

func TestFavoriteActionFailsWhenQueueIsDown(t *testing.T) {
	gdb := openDB(t)
	s := New(NewSQLStore(gdb), testVideos, failingQueue{})
	_, err := s.FavoriteAction(context.Background(), &favoriteapi.FavoriteActionRequest{UserId: 1, VideoId: 10, ActionType: favoriteapi.FavoriteActionType_Like})
	if code, _ := errs.Code(err); err == nil || code != base.ErrCode_Unavailable {
		t.Fatalf("FavoriteAction with the broker down = %v, want Unavailable (a refusal to repeat)", err)
	}
	var n int64
	gdb.Model(&Favorite{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d favorite rows after a failed publish", n)
	}
}

func TestLikeFlow(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	act(t, s, 1, 10, favoriteapi.FavoriteActionType_Like)
	act(t, s, 1, 10, favoriteapi.FavoriteActionType_Like) // liking twice counts once
	act(t, s, 1, 20, favoriteapi.FavoriteActionType_Like)
	act(t, s, 5, 10, favoriteapi.FavoriteActionType_Like)
	act(t, s, 5, 11, favoriteapi.FavoriteActionType_Unlike) // unliking what is not liked changes nothing

	list, err := s.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{UserId: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.VideoIds) != 2 || list.VideoIds[0] != 20 || list.VideoIds[1] != 10 {
		t.Fatalf("favorite list %v, want [20 10]", list.VideoIds)
	}
	vf, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: []int64{10, 11, 20, 10, 0, 404}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]favoriteapi.VideoFavoriteInfo{10: {FavoriteCount: 2, IsFavorite: true}, 11: {}, 20: {FavoriteCount: 1, IsFavorite: true}, 404: {}}
	if len(vf.Videos) != len(want) {
		t.Fatalf("MGetVideoFavorites returned %d videos, want %d", len(vf.Videos), len(want))
	}
	for id, w := range want {
		if got := vf.Videos[id]; got == nil || *got != w {
			t.Errorf("video %d: %+v, want %+v", id, got, w)
		}
	}
	anon, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: []int64{10}})
	if err != nil || anon.Videos[10].IsFavorite || anon.Videos[10].FavoriteCount != 2 {
		t.Fatalf("anonymous view %+v, %v; want count 2, not favorite", anon.Videos[10], err)
	}
	stats, err := s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: []int64{1, 2, 3, 5, 6}})
	if err != nil {
		t.Fatal(err)
	}
	wantStats := map[int64]favoriteapi.UserFavoriteStats{1: {FavoriteCount: 2}, 2: {TotalFavorited: 2}, 3: {TotalFavorited: 1}, 5: {FavoriteCount: 1}, 6: {}}
	for id, w := range wantStats {
		if got := stats.Users[id]; got == nil || *got != w {
			t.Errorf("user %d stats %+v, want %+v", id, got, w)
		}
	}

	act(t, s, 1, 10, favoriteapi.FavoriteActionType_Unlike)
	stats, _ = s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: []int64{1, 2}})
	vf, _ = s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: []int64{10}})
	if stats.Users[1].FavoriteCount != 1 || stats.Users[2].TotalFavorited != 1 || vf.Videos[10].FavoriteCount != 1 || vf.Videos[10].IsFavorite {
		t.Fatalf("after unlike: user 1 %+v, author %+v, video %+v", stats.Users[1], stats.Users[2], vf.Videos[10])
	}
	empty, err := s.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{UserId: 42})
	if err != nil || empty.VideoIds == nil || len(empty.VideoIds) != 0 {
		t.Fatalf("empty favorite list = %v, %v; want a non-nil empty list", empty, err)
	}
}

func TestConsumerIgnoresRedeliveryAndStaleEvents(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	body := func(liked bool, seq int64) []byte {
		b, _ := json.Marshal(LikeEvent{UserID: 1, VideoID: 10, AuthorID: 2, Liked: liked, Seq: seq, At: seq})
		return b
	}
	count := func() int64 {
		vf, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: []int64{10}})
		if err != nil {
			t.Fatal(err)
		}
		return vf.Videos[10].FavoriteCount
	}
	steps := []struct {
		name string
		body []byte
		want int64
	}{
		{"like", body(true, 100), 1},
		{"redelivered like", body(true, 100), 1},
		{"stale unlike", body(false, 50), 1},
		{"unlike", body(false, 200), 0},
		{"redelivered unlike", body(false, 200), 0},
		{"stale like", body(true, 150), 0},
	}
	for _, st := range steps {
		if err := s.handleLike(ctx, st.body); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := count(); got != st.want {
			t.Fatalf("%s: count %d, want %d", st.name, got, st.want)
		}
	}
	for _, bad := range [][]byte{[]byte("{"), []byte(`{"user_id":1,"video_id":10}`)} {
		if err := s.handleLike(ctx, bad); err == nil {
			t.Errorf("handleLike(%s) accepted a malformed event", bad)
		}
	}
}

// TestConcurrentLikesKeepExactCounts has 20 goroutines like and unlike the same pairs at
// random; afterwards every counter must equal the count derived from the favorite rows.
func TestConcurrentLikesKeepExactCounts(t *testing.T) {
	s, gdb := newService(t)
	ctx := context.Background()
	users := []int64{1, 2, 3, 4}
	videos := []int64{10, 11, 20}
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 15 {
				action := favoriteapi.FavoriteActionType_Like
				if rng.IntN(2) == 0 {
					action = favoriteapi.FavoriteActionType_Unlike
				}
				req := &favoriteapi.FavoriteActionRequest{UserId: users[rng.IntN(len(users))], VideoId: videos[rng.IntN(len(videos))], ActionType: action}
				if _, err := s.FavoriteAction(ctx, req); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// The consumer itself, hammered directly: 20 deliveries of different events for one pair.
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(LikeEvent{UserID: 9, VideoID: 20, AuthorID: 3, Liked: i%2 == 0, Seq: int64(i + 1), At: int64(i + 1)})
			if err := s.handleLike(ctx, b); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	var rows []Favorite
	if err := gdb.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	perVideo, perUser, perAuthor := map[int64]int64{}, map[int64]int64{}, map[int64]int64{}
	for _, r := range rows {
		if r.Liked {
			perVideo[r.VideoID]++
			perUser[r.UserID]++
			perAuthor[r.AuthorID]++
		}
	}
	// The last delivery (seq 20, an unlike) wins for user 9, whatever the order.
	if perUser[9] != 0 {
		t.Fatalf("user 9 likes %d videos, want 0: the newest event (unlike) must win", perUser[9])
	}
	vf, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: videos})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range videos {
		if got := vf.Videos[v].FavoriteCount; got != perVideo[v] {
			t.Errorf("video %d favorite_count %d, rows say %d", v, got, perVideo[v])
		}
	}
	stats, err := s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: []int64{1, 2, 3, 4, 9}})
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range stats.Users {
		if st.FavoriteCount != perUser[id] || st.TotalFavorited != perAuthor[id] {
			t.Errorf("user %d stats %+v, rows say favorite_count %d total_favorited %d", id, st, perUser[id], perAuthor[id])
		}
	}
}

func TestBatchReadsUseConstantQueries(t *testing.T) {
	s, gdb := newService(t)
	ctx := context.Background()
	act(t, s, 1, 10, favoriteapi.FavoriteActionType_Like)
	many := make([]int64, 200)
	for i := range many {
		many[i] = int64(i + 1)
	}
	queries := countQueries(t, gdb)
	vf, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{ViewerId: 1, VideoIds: many})
	if err != nil {
		t.Fatal(err)
	}
	if *queries > 2 || len(vf.Videos) != len(many) || !vf.Videos[10].IsFavorite {
		t.Fatalf("MGetVideoFavorites(%d ids): %d queries, %d results", len(many), *queries, len(vf.Videos))
	}
	*queries = 0
	stats, err := s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: many})
	if err != nil {
		t.Fatal(err)
	}
	if *queries != 1 || len(stats.Users) != len(many) {
		t.Fatalf("MGetUserFavoriteStats(%d ids): %d queries, %d results", len(many), *queries, len(stats.Users))
	}
	tooMany := make([]int64, ids.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = int64(i + 1)
	}
	if _, err := s.MGetVideoFavorites(ctx, &favoriteapi.MGetVideoFavoritesRequest{VideoIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetVideoFavorites(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	if _, err := s.MGetUserFavoriteStats(ctx, &favoriteapi.MGetUserFavoriteStatsRequest{UserIds: tooMany}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("MGetUserFavoriteStats(%d ids) = %v, want InvalidParam", len(tooMany), err)
	}
	if _, err := s.FavoriteList(ctx, &favoriteapi.FavoriteListRequest{}); !errs.Is(err, base.ErrCode_InvalidParam) {
		t.Errorf("FavoriteList without user = %v, want InvalidParam", err)
	}
}

// countingVideos counts the lookups that reach the video service.
type countingVideos struct {
	fakeVideos
	calls atomic.Int32
}

func (c *countingVideos) MGetVideos(ctx context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	c.calls.Add(1)
	return c.fakeVideos.MGetVideos(ctx, req)
}

// A video's author never changes: only the first like of a video asks the video service, and
// an unknown video is asked about every time (it may be published later).
func TestLikeRemembersVideoAuthors(t *testing.T) {
	videos := &countingVideos{fakeVideos: testVideos}
	q := mq.NewMemory()
	s := New(NewSQLStore(openDB(t)), videos, q)
	if err := s.Subscribe(q); err != nil {
		t.Fatal(err)
	}
	for _, a := range []favoriteapi.FavoriteActionType{like, unlike, like} {
		act(t, s, 1, 10, a)
	}
	act(t, s, 4, 10, like)
	if n := videos.calls.Load(); n != 1 {
		t.Fatalf("%d video lookups for 4 actions on one video, want 1", n)
	}
	for range 2 {
		_, err := s.FavoriteAction(context.Background(), &favoriteapi.FavoriteActionRequest{UserId: 1, VideoId: 99, ActionType: like})
		if code, _ := errs.Code(err); code != base.ErrCode_VideoNotFound {
			t.Fatalf("like of an unknown video = %v, want VideoNotFound", err)
		}
	}
	if n := videos.calls.Load(); n != 3 {
		t.Fatalf("%d video lookups after two likes of an unknown video, want 3", n)
	}
}
