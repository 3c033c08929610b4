package favorite

import (
	"context"
	"encoding/json"
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
