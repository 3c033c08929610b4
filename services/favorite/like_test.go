package favorite

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/douyin-backend/douyin/internal/db/dbtest"
	"github.com/douyin-backend/douyin/internal/errs"
	"github.com/douyin-backend/douyin/internal/mq"
	"github.com/douyin-backend/douyin/kitex_gen/base"
	"github.com/douyin-backend/douyin/kitex_gen/event"
	favoriteapi "github.com/douyin-backend/douyin/kitex_gen/favorite"
	videoapi "github.com/douyin-backend/douyin/kitex_gen/video"
)

func TestFavoriteActionValidation(t *testing.T) {
	q := &capturingQueue{}
	s := New(NewSQLStore(dbtest.OpenMigrated(t, Migrate)), testVideos, q)
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
	s := New(NewSQLStore(dbtest.OpenMigrated(t, Migrate)), testVideos, q)
	act(t, s, 1, 20, favoriteapi.FavoriteActionType_Like)
	act(t, s, 1, 20, favoriteapi.FavoriteActionType_Unlike)
	if len(q.bodies) != 2 || q.keys[0] != "1:20" || q.keys[1] != "1:20" {
		t.Fatalf("published keys %v, want two events keyed 1:20", q.keys)
	}
	var first, second event.LikeEvent
	if err := json.Unmarshal(q.bodies[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(q.bodies[1], &second); err != nil {
		t.Fatal(err)
	}
	if first.UserId != 1 || first.VideoId != 20 || first.AuthorId != 3 || !first.Liked || first.At <= 0 {
		t.Fatalf("like event %+v", first)
	}
	if second.Liked || second.Seq <= first.Seq {
		t.Fatalf("unlike event %+v must come with a greater seq than %d", second, first.Seq)
	}
}

func TestFavoriteActionFailsWhenQueueIsDown(t *testing.T) {
	gdb := dbtest.OpenMigrated(t, Migrate)
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
	s := New(NewSQLStore(dbtest.OpenMigrated(t, Migrate)), videos, q)
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

// recordingVideos records the ids of each lookup that reaches the video service.
type recordingVideos struct {
	fakeVideos
	mu      sync.Mutex
	lookups [][]int64
}

func (r *recordingVideos) MGetVideos(ctx context.Context, req *videoapi.MGetVideosRequest) (*videoapi.MGetVideosResponse, error) {
	r.mu.Lock()
	r.lookups = append(r.lookups, slices.Clone(req.VideoIds))
	r.mu.Unlock()
	return r.fakeVideos.MGetVideos(ctx, req)
}

// The authors that concurrent likes miss are looked up together: one call for a batch,
// each video asked once however many of its likes wait, an unknown video refused alone, and
// every author found remembered.
func TestLookUpAuthorsSharesOneCall(t *testing.T) {
	videos := &recordingVideos{fakeVideos: testVideos}
	s := New(NewSQLStore(dbtest.OpenMigrated(t, Migrate)), videos, &capturingQueue{})
	authors, failed := s.lookUpAuthors(context.Background(), []int64{10, 20, 10, 99, 11})
	if len(videos.lookups) != 1 || !slices.Equal(videos.lookups[0], []int64{10, 20, 99, 11}) {
		t.Fatalf("lookups %v, want one of [10 20 99 11]", videos.lookups)
	}
	for i, want := range []int64{2, 3, 2, 0, 2} {
		if authors[i] != want {
			t.Errorf("item %d: author %d, want %d", i, authors[i], want)
		}
		code, _ := errs.Code(failed[i])
		if wantErr := i == 3; (failed[i] != nil) != wantErr || wantErr && code != base.ErrCode_VideoNotFound {
			t.Errorf("item %d: error %v", i, failed[i])
		}
	}
	for _, video := range []int64{10, 11, 20} {
		if _, err := s.authorOf(context.Background(), video); err != nil {
			t.Fatal(err)
		}
	}
	if len(videos.lookups) != 1 {
		t.Fatalf("%d lookups, want the authors found remembered", len(videos.lookups))
	}
}

// Concurrent likes of videos whose authors are not remembered yet each get their own video's
// author (the event carries it) or VideoNotFound.
func TestConcurrentLikesGetTheirAuthors(t *testing.T) {
	videos := &recordingVideos{fakeVideos: testVideos}
	q := &lockedQueue{}
	s := New(NewSQLStore(dbtest.OpenMigrated(t, Migrate)), videos, q)
	var wg sync.WaitGroup
	for user := int64(1); user <= 32; user++ {
		for _, video := range []int64{10, 11, 20, 99} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.FavoriteAction(context.Background(), &favoriteapi.FavoriteActionRequest{UserId: user, VideoId: video, ActionType: like})
				if code, _ := errs.Code(err); (video == 99) != (code == base.ErrCode_VideoNotFound) || video != 99 && err != nil {
					t.Errorf("user %d likes video %d: %v", user, video, err)
				}
			}()
		}
	}
	wg.Wait()
	if len(q.bodies) != 32*3 {
		t.Fatalf("%d events published, want %d", len(q.bodies), 32*3)
	}
	for _, body := range q.bodies {
		var e event.LikeEvent
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatal(err)
		}
		if want := testVideos.authors[e.VideoId]; e.AuthorId != want {
			t.Errorf("like of video %d published with author %d, want %d", e.VideoId, e.AuthorId, want)
		}
	}
}

// lockedQueue is a capturingQueue safe for concurrent publishers.
type lockedQueue struct {
	mu sync.Mutex
	capturingQueue
}

func (q *lockedQueue) Publish(ctx context.Context, topic, key string, body []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.capturingQueue.Publish(ctx, topic, key, body)
}
